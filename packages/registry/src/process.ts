// Also published alone as `@mcp-beacon/registry/process`, for the script guardian, which
// starts once per run and must not load the record schema (valibot) to signal a group.
import { constants as osConstants } from 'node:os';

/**
 * True when a process with this pid exists (signal 0 succeeds, or is refused with EPERM
 * because it belongs to someone else). False only when the pid is provably gone (ESRCH).
 */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

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

/**
 * Sends `signal` to the process group led by `pid` (on Windows, which has no groups, to the
 * process itself). True when it was sent; false when the group is already gone or `pid` is
 * not a usable number. The one place Beacon signals a group: the hub's launches, an
 * instance's scripts and the script guardian all end their process trees through it.
 */
export function signalGroup(pid: number | undefined, signal: NodeJS.Signals): boolean {
  if (pid === undefined || !Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(process.platform === 'win32' ? pid : -pid, signal);
    return true;
  } catch {
    return false;
  }
}

/**
 * The exit status a shell reports for a process that ended with `code` or by `signal`:
 * the code itself, or 128 + the signal's number (SIGTERM is 143). `fallback` is for neither.
 */
export function exitStatus(
  code: number | null,
  signal: NodeJS.Signals | null,
  fallback = 1,
): number {
  if (code !== null) return code;
  if (signal !== null) return 128 + (osConstants.signals[signal] ?? 0);
  return fallback;
}
