// What the hub's client asked of instances that a new connection must be told again: its
// resource subscriptions (per instance) and its log level. A reconnect or a remote's relink
// makes a new session on the instance, which knows neither.

import type { ConnectionInfo, ConnectionManager } from '@mcp-beacon/connection-manager';
import type { LoggingLevel } from '@modelcontextprotocol/server';
import { proxiedUri } from './_names.js';
import type { ClientPeer } from './_peer.js';

/** See {@link createSessionState}. */
export interface SessionState {
  /** The client subscribed to `uri` (the instance's own) on instance `id`. */
  subscribed(id: string, uri: string): void;
  unsubscribed(id: string, uri: string): void;
  /** The client set its log level. */
  levelSet(level: LoggingLevel): void;
  /**
   * Instance `info` has a new session: its subscriptions and the log level are applied again,
   * and each subscribed resource is said to be updated (it may have changed meanwhile).
   */
  restore(info: ConnectionInfo, slug: string): Promise<void>;
  /** Instance `id` left: its subscriptions are dropped. */
  forget(id: string): void;
}

/** Most subscriptions kept per instance (more are forwarded but not restored). */
export const MAX_KEPT_SUBSCRIPTIONS = 1_000;

/** Creates the hub's record of its client's subscriptions and log level. */
export function createSessionState(
  peer: ClientPeer,
  manager: ConnectionManager,
  log: (message: string) => void,
): SessionState {
  const subscriptions = new Map<string, Set<string>>();
  let level: LoggingLevel | undefined;
  return {
    subscribed(id, uri) {
      const uris = subscriptions.get(id) ?? new Set<string>();
      subscriptions.set(id, uris);
      if (uris.size < MAX_KEPT_SUBSCRIPTIONS) uris.add(uri);
    },
    unsubscribed(id, uri) {
      subscriptions.get(id)?.delete(uri);
    },
    levelSet(next) {
      level = next;
    },
    async restore(info, slug) {
      const uris = [...(subscriptions.get(info.id) ?? [])];
      if (uris.length === 0 && level === undefined) return;
      let client: ReturnType<ConnectionManager['client']>;
      try {
        client = manager.client(info.id);
      } catch {
        return; // gone again already; the next session restores
      }
      if (level !== undefined && info.capabilities?.logging)
        await client.setLoggingLevel(level).catch((error: Error) => {
          log(`${info.record.name}: log level not restored: ${error.message}`);
        });
      if (!info.capabilities?.resources?.subscribe) return;
      for (const uri of uris) {
        const ok = await client.subscribeResource({ uri }).then(
          () => true,
          (error: Error) => {
            log(`${info.record.name}: subscription to ${uri} not restored: ${error.message}`);
            return false;
          },
        );
        if (ok && peer.connected())
          await peer.server
            ?.sendResourceUpdated({ uri: proxiedUri(slug, uri) })
            .catch(() => undefined);
      }
    },
    forget(id) {
      subscriptions.delete(id);
    },
  };
}
