import type { ConnectionManager } from '@mcp-beacon/connection-manager';
import type { Clock } from '@mcp-beacon/registry';
import type { CacheHints } from './_cache-hints.js';
import type { ClientRoots } from './_client-roots.js';
import type { FirstContact } from './_first-contact.js';
import type { FolderResolver } from './_folders.js';
import type { Forwarder } from './_forward.js';
import type { InputRelay } from './_input-relay.js';
import type { ListNotifier } from './_list-changed.js';
import type { ClientPeer } from './_peer.js';
import type { MatchContext } from './_select.js';
import type { SessionState } from './_session-state.js';
import type { HubView } from './_view.js';

/** What the hub server's handler groups share. */
export interface HubContext {
  /** The hub's client, through the server serving its connection now. */
  peer: ClientPeer;
  manager: ConnectionManager;
  view: HubView;
  forwarder: Forwarder;
  gate: FirstContact;
  notifier: ListNotifier;
  roots: ClientRoots;
  /** The client's subscriptions and log level, restored on every new instance session. */
  session: SessionState;
  /** Local folders as comparison keys (realpath). */
  folders: FolderResolver;
  /** An instance's requests to a 2026-07-28 client, carried by that client's calls. */
  relay: InputRelay;
  /** How long a modern client may keep a list. */
  hints: CacheHints;
  /** What matching an `instance` argument needs now (slugs, folders, remote names). */
  match(): MatchContext;
  log: (message: string) => void;
  /** The timers of debounces, bounds and waits. */
  clock: Clock;
}
