// Runs' log changes told to whoever listens, throttled per run. Kept apart from the resources
// themselves (resources.ts): the instance publishes from its start, and this needs no SDK.

import { type Clock, systemClock } from '@mcp-beacon/runtime';
import type { ScriptRunner } from './scripts.js';

/** Options of `registerLogResources` (resources.ts) and {@link publishLogUpdates}. */
export interface LogResourceOptions {
  /** Least time between two `resources/updated` of one resource, in ms (default 250). */
  throttleMs?: number;
  /** Subscriptions one session may hold (default 64). */
  maxSubscriptions?: number;
  clock?: Clock;
}

/** The scheme of a run's log resource. */
export const PREFIX = 'logs://';

/** The resource URI of a run's output. */
export const logsUri = (runId: string): string => `${PREFIX}${runId}`;

/** Where {@link publishLogUpdates} tells of changes: the 2026-07-28 listen streams. */
export interface LogUpdateSink {
  resourceUpdated(uri: string): void;
  /** False while nobody listens: nothing is published then. */
  listening(): boolean;
}

/**
 * Tells 2026-07-28 listeners of new lines in each run's log, at most one update per run per
 * `throttleMs` (the listen stream delivers it only to those who named that log). Returns the
 * function that stops it.
 */
export function publishLogUpdates(
  runner: ScriptRunner,
  sink: LogUpdateSink,
  options: LogResourceOptions = {},
): () => void {
  const updates = throttledUpdates(options.clock ?? systemClock, options.throttleMs ?? 250, (run) =>
    sink.resourceUpdated(logsUri(run)),
  );
  const off = runner.onLine(({ run }) => {
    if (sink.listening()) updates.line(run);
  });
  return () => {
    off();
    updates.clear();
  };
}

/**
 * Updates of runs' logs, throttled per run: the first line of a burst is told at once, then at
 * most one update every `throttleMs` while lines keep coming, and one after the last of them.
 */
export function throttledUpdates(clock: Clock, throttleMs: number, send: (run: string) => void) {
  /** Runs told within the last `throttleMs`: whether lines came since, and the timer. */
  const recent = new Map<string, { dirty: boolean; timer: unknown }>();
  const fire = (run: string) => {
    const entry = recent.get(run);
    if (!entry?.dirty) {
      recent.delete(run);
      return;
    }
    entry.dirty = false;
    send(run);
    entry.timer = clock.setTimeout(() => fire(run), throttleMs);
  };
  return {
    /** A line of `run` arrived. */
    line(run: string) {
      const entry = recent.get(run);
      if (entry) entry.dirty = true;
      else {
        recent.set(run, { dirty: true, timer: undefined });
        fire(run);
      }
    },
    /** Nothing more is told of `run` (until its next line). */
    drop(run: string) {
      clock.clearTimeout(recent.get(run)?.timer);
      recent.delete(run);
    },
    clear() {
      for (const entry of recent.values()) clock.clearTimeout(entry.timer);
      recent.clear();
    },
  };
}
