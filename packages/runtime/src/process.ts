import { spawn } from 'node:child_process';
import { constants as osConstants } from 'node:os';
import path from 'node:path';

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

/**
 * Runs Windows' taskkill with `args` and resolves once it has exited, whatever it reported
 * (a tree that is already gone is not an error).
 */
export type Taskkill = (args: readonly string[]) => Promise<void>;

/**
 * The real {@link Taskkill}: `%SystemRoot%\System32\taskkill.exe` by absolute path (never a
 * `taskkill.exe` the working folder supplies), without a shell and without a window. Detached,
 * so it finishes even when the caller exits first (Node ends a process's other children with it
 * on Windows).
 */
export const runTaskkill: Taskkill = (args) =>
  new Promise<void>((resolve) => {
    const program = path.win32.join(
      process.env.SystemRoot ?? 'C:\\Windows',
      'System32',
      'taskkill.exe',
    );
    try {
      const child = spawn(program, [...args], {
        stdio: 'ignore',
        windowsHide: true,
        detached: true,
      });
      child.once('error', () => resolve());
      child.once('exit', () => resolve());
    } catch {
      resolve();
    }
  });

/**
 * Windows: taskkill on the tree rooted at `pid` (`taskkill /PID <pid> /T`, found through each
 * process's parent pid), with `force` also `/F`. Without force taskkill only asks each process
 * to close (it posts WM_CLOSE to its windows): GUI programs can honour that, console programs
 * (node, cmd, every dev server) cannot, and only `force` ends them. A process whose parent has
 * already exited is not in the tree any more and is not reached. Resolves once taskkill is done.
 */
export function taskkillTree(
  pid: number,
  force: boolean,
  taskkill: Taskkill = runTaskkill,
): Promise<void> {
  return taskkill(['/PID', String(pid), '/T', ...(force ? ['/F'] : [])]);
}

/** Options of {@link signalGroup}: the platform and the edges it acts through. */
export interface SignalGroupOptions {
  /** POSIX groups or Windows trees (default `process.platform`). */
  platform?: NodeJS.Platform;
  /** The kill edge (default `process.kill`); signal 0 only probes. */
  kill?: (pid: number, signal: NodeJS.Signals | 0) => void;
  /** The Windows edge (default {@link runTaskkill}). */
  taskkill?: Taskkill;
}

/**
 * Sends `signal` to the process group led by `pid`. True when it was sent; false when the group
 * is already gone or `pid` is not a usable number. The one place Beacon signals a group: the
 * hub's launches, an instance's scripts and the script guardian all end their process trees
 * through it.
 *
 * Windows has no process groups, and no signal a console program can catch (Node's own
 * `process.kill` ends a process forcefully whatever the signal), so there it ends the whole tree
 * rooted at `pid` forcefully, whatever `signal` is: `taskkill /PID <pid> /T /F`, started without
 * waiting for it (see {@link taskkillTree} for what a tree holds). A polite first step with a
 * grace period is the caller's: the script guardian runs `taskkill /T` before `/F`.
 */
export function signalGroup(
  pid: number | undefined,
  signal: NodeJS.Signals,
  options: SignalGroupOptions = {},
): boolean {
  if (pid === undefined || !Number.isSafeInteger(pid) || pid <= 0) return false;
  const kill = options.kill ?? ((target, name) => process.kill(target, name));
  if ((options.platform ?? process.platform) !== 'win32') {
    try {
      kill(-pid, signal);
      return true;
    } catch {
      return false;
    }
  }
  // Only while the root is there: taskkill /T finds the tree's members through it.
  try {
    kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  void taskkillTree(pid, true, options.taskkill);
  return true;
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
