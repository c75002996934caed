import { isProcessAlive } from '@mcp-beacon/runtime';

/** Why a record is stale, if it is. */
export type StaleReason = 'pid-dead' | 'heartbeat-expired';

/** Options of {@link checkStale}. */
export interface StaleOptions {
  /** Current time in ms since the epoch (default `Date.now()`). */
  now?: number;
  /** A `last_seen` older than this many ms counts as expired (default 30 000). */
  maxAgeMs?: number;
  /** Process probe (default {@link isProcessAlive}). */
  isAlive?: (pid: number) => boolean;
}

/**
 * Tells whether a record looks abandoned. `pid-dead` is proof (the file may be removed);
 * `heartbeat-expired` is only a hint (the process may be suspended), so callers should
 * confirm with a connection attempt before acting on it.
 */
export function checkStale(
  record: { pid: number; last_seen: string },
  options: StaleOptions = {},
): { stale: false } | { stale: true; reason: StaleReason } {
  const isAlive = options.isAlive ?? isProcessAlive;
  if (!isAlive(record.pid)) return { stale: true, reason: 'pid-dead' };
  const age = (options.now ?? Date.now()) - Date.parse(record.last_seen);
  if (age > (options.maxAgeMs ?? 30_000)) return { stale: true, reason: 'heartbeat-expired' };
  return { stale: false };
}
