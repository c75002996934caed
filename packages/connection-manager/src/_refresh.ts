// Refetches after `list_changed`: coalesced and rate-limited per catalog part, so an instance
// that sends notifications in a loop costs one fetch per interval, never a pile of them.

import type { Clock } from '@mcp-beacon/runtime';
import type { Client } from '@modelcontextprotocol/client';
import type { CatalogPart } from './_catalog.js';

/** Schedules refetches of catalog parts; see {@link createRefresher}. */
export interface Refresher {
  /** A part changed: fetch it now, or after the one in flight, or when the interval allows. */
  request(part: CatalogPart): void;
  /** Stops: nothing scheduled runs, nothing new starts. */
  cancel(): void;
}

interface PartState {
  running: boolean;
  pending: boolean;
  timer: unknown;
  lastStart: number;
}

/**
 * Creates a refresher: per part, one fetch in flight and at most one waiting; a fetch starts
 * no sooner than `intervalMs(part)` after the previous one of that part started.
 */
export function createRefresher(options: {
  clock: Clock;
  /** Least time between two fetches of a part, in ms (asked anew before each). */
  intervalMs: (part: CatalogPart) => number;
  fetch: (part: CatalogPart) => Promise<void>;
}): Refresher {
  const { clock } = options;
  const parts = new Map<CatalogPart, PartState>();
  let cancelled = false;

  const start = (part: CatalogPart, state: PartState) => {
    state.timer = undefined;
    if (cancelled) return;
    state.running = true;
    state.pending = false;
    state.lastStart = clock.now();
    options
      .fetch(part)
      .catch(() => undefined)
      .finally(() => {
        state.running = false;
        if (state.pending) request(part);
      });
  };

  const request = (part: CatalogPart) => {
    if (cancelled) return;
    let state = parts.get(part);
    if (!state) {
      state = { running: false, pending: false, timer: undefined, lastStart: -Infinity };
      parts.set(part, state);
    }
    if (state.running) {
      state.pending = true;
      return;
    }
    if (state.timer !== undefined) return;
    const wait = state.lastStart + options.intervalMs(part) - clock.now();
    const ready = state;
    if (wait <= 0) start(part, ready);
    else ready.timer = clock.setTimeout(() => start(part, ready), wait);
  };

  return {
    request,
    cancel() {
      cancelled = true;
      for (const state of parts.values())
        if (state.timer !== undefined) clock.clearTimeout(state.timer);
    },
  };
}

/** Has `client`'s `list_changed` notifications request a refetch of their part. */
export function refreshOnListChanged(client: Client, refresher: Refresher): void {
  client.setNotificationHandler('notifications/tools/list_changed', async () =>
    refresher.request('tools'),
  );
  client.setNotificationHandler('notifications/resources/list_changed', async () =>
    refresher.request('resources'),
  );
  client.setNotificationHandler('notifications/prompts/list_changed', async () =>
    refresher.request('prompts'),
  );
}
