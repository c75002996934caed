import type { RequestId, Transport } from '@modelcontextprotocol/server';
import { isRecord } from '../_values.js';
import { wrapTransport } from './wrap.js';

/** Most resource URIs one `subscriptions/listen` may ask the hub to follow on instances. */
export const MAX_LISTEN_RESOURCES = 1_000;

/** What the hub does when a 2026-07-28 client starts or stops following resources. */
export interface ListenHooks {
  /** The client now follows `uri` (a hub-side URI), where it did not before. */
  follow(uri: string): void;
  /** No open listen follows `uri` any more. */
  unfollow(uri: string): void;
}

/**
 * Wraps the client's transport to see each `subscriptions/listen` and its end (the client's
 * `notifications/cancelled`, or the connection closing), so the resources it names are
 * subscribed on their instances while some listen follows them: the SDK serves the stream
 * itself and tells its server nothing of it. Every message still reaches the SDK. Each URI is
 * counted across listens; beyond {@link MAX_LISTEN_RESOURCES} per listen, URIs are ignored.
 */
export function watchListens(inner: Transport, hooks: ListenHooks): Transport {
  const listens = new Map<RequestId, readonly string[]>();
  const counts = new Map<string, number>();
  const open = (id: RequestId, uris: readonly string[]) => {
    if (listens.has(id)) return;
    listens.set(id, uris);
    for (const uri of uris) {
      const n = counts.get(uri) ?? 0;
      counts.set(uri, n + 1);
      if (n === 0) hooks.follow(uri);
    }
  };
  const end = (id: RequestId) => {
    const uris = listens.get(id);
    if (!uris) return;
    listens.delete(id);
    for (const uri of uris) {
      const n = (counts.get(uri) ?? 1) - 1;
      if (n > 0) counts.set(uri, n);
      else {
        counts.delete(uri);
        hooks.unfollow(uri);
      }
    }
  };
  return wrapTransport(inner, {
    receive(message, extra, deliver) {
      deliver(message, extra);
      if (!('method' in message)) return;
      const params = message.params;
      if (message.method === 'subscriptions/listen' && 'id' in message && isRecord(params)) {
        const filter = params.notifications;
        const asked = isRecord(filter) ? filter.resourceSubscriptions : undefined;
        if (!Array.isArray(asked)) return;
        const uris = [...new Set(asked.filter((u): u is string => typeof u === 'string'))];
        open(message.id, uris.slice(0, MAX_LISTEN_RESOURCES));
      } else if (message.method === 'notifications/cancelled' && isRecord(params)) {
        end(params.requestId as RequestId);
      }
    },
    closed() {
      for (const id of [...listens.keys()]) end(id);
    },
  });
}
