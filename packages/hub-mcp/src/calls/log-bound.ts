// The bound on an instance's log messages passed to the client. A flood costs the client a
// summary a second, and never the hub's memory: whatever the hub writes to a client that reads
// slowly waits in the hub.
import type { Clock } from '@mcp-beacon/runtime';

/** Log messages passed on per instance connection and second; the rest are counted. */
export const LOGS_PER_SECOND = 100;

/** See {@link createLogBound}. */
export interface LogBound {
  /** Whether a log message may pass now; no past the bound (and it is counted). */
  admit(): boolean;
}

/**
 * The log bound of one instance connection: at most {@link LOGS_PER_SECOND} messages a second
 * pass; when a second held back any, `dropped` gets their number once it ends.
 */
export function createLogBound(clock: Clock, dropped: (count: number) => void): LogBound {
  let start = Number.NEGATIVE_INFINITY;
  let passed = 0;
  let held = 0;
  let reporting = false;
  const report = () => {
    reporting = false;
    const count = held;
    held = 0;
    dropped(count);
  };
  return {
    admit() {
      const now = clock.now();
      if (now - start >= 1_000) {
        start = now;
        passed = 0;
      }
      if (passed < LOGS_PER_SECOND) {
        passed++;
        return true;
      }
      held++;
      if (!reporting) {
        reporting = true;
        clock.setTimeout(report, start + 1_000 - now);
      }
      return false;
    },
  };
}
