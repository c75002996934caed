import type { ConnectionManager } from '@mcp-beacon/connection-manager';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { ClientRoots } from './_client-roots.js';
import type { FirstContact } from './_first-contact.js';
import type { Forwarder } from './_forward.js';
import type { ListNotifier } from './_list-changed.js';
import type { HubView } from './_view.js';

/** What the hub server's handler groups share. */
export interface HubContext {
  server: Server;
  manager: ConnectionManager;
  view: HubView;
  forwarder: Forwarder;
  gate: FirstContact;
  notifier: ListNotifier;
  roots: ClientRoots;
  log: (message: string) => void;
}
