import type { ConnectionManager } from '@mcp-beacon/connection-manager';
import type { Clock } from '@mcp-beacon/runtime';
import type { LoggingLevel } from '@modelcontextprotocol/server';
import type { Forwarder } from './calls/forward.js';
import type { InputRelay } from './calls/input-relay.js';
import type { CacheHints } from './catalog/cache-hints.js';
import type { ListNotifier } from './catalog/list-changed.js';
import type { HubView } from './catalog/view.js';
import type { ClientRoots } from './routing/client-roots.js';
import type { FolderResolver } from './routing/folders.js';
import type { MatchContext } from './routing/select.js';
import type { FirstContact } from './sessions/first-contact.js';
import type { ClientPeer } from './sessions/peer.js';

/** What one client session keeps with the hub: its subscriptions and log level. */
export interface SessionState {
  /** The session subscribed to `uri` (the instance's own) on instance `id`. */
  subscribed(id: string, uri: string): void;
  unsubscribed(id: string, uri: string): void;
  /** True when another session holds `uri` on `id` (so the instance keeps it). */
  heldByOthers(id: string, uri: string): boolean;
  /** The session set its log level. */
  levelSet(level: LoggingLevel): void;
}

/** What one client session's handler groups use: the hub's shared parts and the session's own. */
export interface HubContext {
  /** The hub's client, through the server serving its connection now. */
  peer: ClientPeer;
  manager: ConnectionManager;
  view: HubView;
  forwarder: Forwarder;
  gate: FirstContact;
  notifier: ListNotifier;
  roots: ClientRoots;
  /** This session's subscriptions and log level, kept by the hub for every instance session. */
  session: SessionState;
  /** The folder the client works in (its bridge's, or the hub's own), for a call without `instance`. */
  workingFolder: string | undefined;
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
