import type { Clock } from '@mcp-beacon/runtime';
import type { ClientPeer } from '../sessions/peer.js';
import type { ViewSignature } from '../types.js';
import type { HubView } from './view.js';

/** Longest a change waits for its `list_changed`, however long a burst of changes lasts. */
export const DEFAULT_MAX_WAIT_MS = 250;

/** Sends the client `list_changed` notifications, at most once per debounce period. */
export interface ListNotifier {
  /**
   * Something changed: a notification follows once changes pause for the debounce period, and
   * at most the max wait after the first change, if a list differs.
   */
  changed(): void;
  /** The client was just sent a list of this kind: that is what it has seen now. */
  shown(kind: keyof ViewSignature): void;
  close(): void;
}

/**
 * Creates the notifier. It keeps what the client has been shown, by a list or by a
 * notification, and notifies whenever the current lists differ from it: a burst that ends where
 * it began sends nothing, a change the client already listed is never silently undone, and a
 * kind the client has never listed is never notified.
 */
export function createListNotifier(options: {
  peer: ClientPeer;
  view: HubView;
  clock: Clock;
  debounceMs: number;
  /** Bound on the wait after the first change of a burst (default {@link DEFAULT_MAX_WAIT_MS}). */
  maxWaitMs?: number;
  log: (message: string) => void;
}): ListNotifier {
  const { peer, view, clock } = options;
  const maxWait = Math.max(options.debounceMs, options.maxWaitMs ?? DEFAULT_MAX_WAIT_MS);
  const seen: ViewSignature = { ...view.signature() };
  // A client that has not listed a kind yet has nothing to refresh: it is not told of changes
  // to it (some clients list twice, and warn, when a notification comes before their first list).
  const listed = { tools: false, resources: false, prompts: false };
  let timer: unknown;
  /** When the first change not yet flushed happened. */
  let first: number | undefined;
  const send: Record<keyof ViewSignature, () => Promise<void>> = {
    tools: async () => peer.server?.sendToolListChanged(),
    resources: async () => peer.server?.sendResourceListChanged(),
    prompts: async () => peer.server?.sendPromptListChanged(),
  };
  const flush = () => {
    timer = undefined;
    first = undefined;
    const now = view.signature();
    for (const kind of ['tools', 'resources', 'prompts'] as const) {
      if (now[kind] === seen[kind]) continue;
      seen[kind] = now[kind];
      // A 2026-07-28 client says on its listen stream which changes it wants; the SDK keeps to it.
      if ((!listed[kind] && peer.era !== 'modern') || !peer.connected()) continue;
      send[kind]().catch((error: Error) =>
        options.log(`cannot send list_changed: ${error.message}`),
      );
    }
  };
  return {
    changed() {
      const now = clock.now();
      first ??= now;
      if (timer !== undefined) clock.clearTimeout(timer);
      const delay = Math.min(options.debounceMs, first + maxWait - now);
      timer = clock.setTimeout(flush, Math.max(0, delay));
    },
    shown(kind) {
      listed[kind] = true;
      seen[kind] = view.signature()[kind];
    },
    close() {
      if (timer !== undefined) clock.clearTimeout(timer);
      timer = undefined;
      first = undefined;
    },
  };
}
