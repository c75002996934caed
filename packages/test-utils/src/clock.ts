/** A clock whose time moves only when a test advances it (the shape of registry's `Clock`). */
export interface ManualClock {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  /**
   * Moves time forward by `ms`, firing due timers in time order; after each one, lets a few
   * turns of the event loop run so the async work it started can schedule the next timer.
   */
  advance(ms: number): Promise<void>;
  /** Timers armed and not yet fired or cleared. */
  pending(): number;
}

/** Creates a {@link ManualClock} starting at `start` (ms since the epoch; default 2026-01-01). */
export function manualClock(start = Date.parse('2026-01-01T00:00:00.000Z')): ManualClock {
  let now = start;
  let ids = 0;
  const timers = new Map<number, { at: number; fn: () => void }>();
  return {
    now: () => now,
    setTimeout: (fn, ms) => {
      timers.set(++ids, { at: now + ms, fn });
      return ids;
    },
    clearTimeout: (handle) => {
      timers.delete(handle as number);
    },
    async advance(ms) {
      const end = now + ms;
      for (;;) {
        const next = [...timers.entries()]
          .filter(([, t]) => t.at <= end)
          .sort((a, b) => a[1].at - b[1].at)[0];
        if (!next) break;
        timers.delete(next[0]);
        now = next[1].at;
        next[1].fn();
        for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
      }
      now = end;
    },
    pending: () => timers.size,
  };
}
