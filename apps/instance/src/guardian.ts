// Runs one script for beacon-instance and makes sure nothing of it outlives the instance.
// The instance starts this process detached (on POSIX the leader of a new process group; on
// Windows outside the instance's own kill-on-close job, so it lives on to clean up) and keeps
// its stdin open. When stdin ends (the instance exited, even by SIGKILL; or, on Windows, asked
// for a stop), when it gets SIGTERM (a stop on POSIX), or when the script exits, the guardian
// sweeps, and only then exits with the script's status:
// - POSIX: SIGTERM to the whole group, a wait of up to the grace period for every other member
//   to exit, SIGKILL to the ones left.
// - Windows (no groups, no signals): `taskkill /T` on the script's tree (it asks the tree's
//   windows to close), then, if the script still runs at the end of the grace period,
//   `taskkill /T /F`, which ends every process of the tree. The tree is found through parent
//   pids, so a process whose parent exited before the sweep is out of reach.
// Usage: node guardian.js <grace-ms> <command> [args...]
import { type ChildProcess, execFileSync, type SpawnOptions } from 'node:child_process';
import { readdirSync, readFileSync, realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
// Types only: at run time the guardian loads `/process` alone (no schema, no valibot).
import type { Clock } from '@mcp-beacon/runtime';
import { exitStatus, signalGroup, type Taskkill, taskkillTree } from '@mcp-beacon/runtime';
import crossSpawn from 'cross-spawn';

/** The other processes of the guardian's group: `live` ones, and `zombies` not yet reaped. */
export interface GroupMembers {
  live: number[];
  zombies: number;
}

/** Options of {@link groupMembers}. */
export interface GroupMembersOptions {
  /** Linux reads /proc; every other POSIX system asks `ps` (default `process.platform`). */
  platform?: NodeJS.Platform;
  /** The `ps -A -o pid=,pgid=,stat=` edge (default: runs `ps`; nothing when it cannot). */
  ps?: () => string;
}

function runPs(): string {
  try {
    return execFileSync('ps', ['-A', '-o', 'pid=,pgid=,stat='], { encoding: 'utf8' });
  } catch {
    // No ps: only the script itself is waited for.
    return '';
  }
}

/** The processes of group `pgid` other than its leader (POSIX only: Windows has no groups). */
export function groupMembers(pgid: number, options: GroupMembersOptions = {}): GroupMembers {
  const live: number[] = [];
  let zombies = 0;
  const add = (pid: number, group: number, state: string | undefined) => {
    if (group !== pgid || pid === pgid) return;
    if (state?.startsWith('Z')) zombies++;
    else live.push(pid);
  };
  if ((options.platform ?? process.platform) === 'linux' && options.ps === undefined) {
    for (const name of readdirSync('/proc')) {
      const pid = Number(name);
      if (!Number.isInteger(pid)) continue;
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        // Fields after the command name, which is in parentheses and may contain anything.
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        add(pid, Number(fields[2]), fields[0]);
      } catch {
        // Exited while we looked.
      }
    }
    return { live, zombies };
  }
  for (const line of (options.ps ?? runPs)().split('\n')) {
    const [pid, group, state] = line.trim().split(/\s+/);
    add(Number(pid), Number(group), state);
  }
  return { live, zombies };
}

/** Starts the script: `child_process.spawn`'s shape. */
export type SpawnScript = (
  command: string,
  args: readonly string[],
  options: SpawnOptions,
) => ChildProcess;

/** Options of {@link startGuardian}: the script, the grace period, the platform and the edges. */
export interface GuardianOptions {
  /** The script's program (an absolute path) and its arguments. */
  command: string;
  args: readonly string[];
  /** How long the script's processes get to exit before they are ended forcefully, in ms. */
  graceMs: number;
  /** POSIX groups or Windows trees (default `process.platform`). */
  platform?: NodeJS.Platform;
  /** The guardian's own pid, which leads the group on POSIX (default `process.pid`). */
  self?: number;
  /**
   * The spawn edge (default cross-spawn: on Windows it runs a `.cmd` shim such as `npm.cmd`
   * through cmd.exe with every argument escaped for it, which Node refuses to do without a
   * shell; elsewhere it is `child_process.spawn` itself). The script starts without a shell
   * string and without a window.
   */
  spawn?: SpawnScript;
  /** The group's other members on POSIX (default {@link groupMembers}). */
  members?: () => GroupMembers;
  /** The kill edge on POSIX (default `process.kill`). */
  kill?: (pid: number, signal: NodeJS.Signals | 0) => void;
  /** The taskkill edge on Windows (default: the real one, see `@mcp-beacon/runtime`). */
  taskkill?: Taskkill;
  /** Times the grace period (default: real, ref'd timers: they hold the guardian until done). */
  clock?: Clock;
  /** Where a script that cannot start is reported (default stderr). */
  report?: (message: string) => void;
}

/** A running guardian. */
export interface Guardian {
  /** Ends every process of the script, as the header of this file says; idempotent. */
  sweep(): Promise<void>;
  /**
   * The status to exit with once the sweep is over: the script's (128 + the signal's number
   * when a signal ended it), or 127 when it could not start.
   */
  readonly done: Promise<number>;
}

const refClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** Starts the script and sweeps its processes when asked to, or when it exits. */
export function startGuardian(options: GuardianOptions): Guardian {
  const platform = options.platform ?? process.platform;
  const self = options.self ?? process.pid;
  const clock = options.clock ?? refClock;
  const kill = options.kill ?? ((pid, signal) => process.kill(pid, signal));
  const members = options.members ?? (() => groupMembers(self, { platform }));
  const report = options.report ?? ((message) => process.stderr.write(message));
  const wait = (ms: number) => new Promise<void>((resolve) => clock.setTimeout(resolve, ms));

  let finish!: (status: number) => void;
  const done = new Promise<number>((resolve) => {
    finish = resolve;
  });
  const cannotStart = (error: Error) => {
    report(`beacon: cannot start ${options.command}: ${error.message}\n`);
    finish(127);
  };

  let status: number | undefined;
  let exited = false;
  let child: ChildProcess | undefined;
  try {
    child = (options.spawn ?? crossSpawn)(options.command, [...options.args], {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: process.env,
      windowsHide: true,
    });
  } catch (error) {
    // cross-spawn refuses, before starting anything, an argument cmd.exe cannot be given
    // safely (a line break), which a `.cmd` shim on Windows would need.
    cannotStart(error as Error);
  }
  const childExited = new Promise<void>((resolve) => {
    if (child === undefined) return;
    child.on('exit', (code, signal) => {
      // A script killed by a signal is reported as 128 + its number, as shells do.
      status = exitStatus(code, signal);
      exited = true;
      resolve();
    });
    child.on('error', cannotStart);
  });

  /** POSIX: SIGTERM to the group, SIGKILL to what is left at the deadline. */
  const sweepGroup = async () => {
    const deadline = clock.now() + options.graceMs;
    if (members().live.length > 0) signalGroup(self, 'SIGTERM', { platform, kill });
    for (;;) {
      const { live, zombies } = members();
      // Zombies go as soon as their parent reaps them (or init, once the parent is gone); they
      // are waited for a moment so the group is really empty when the guardian exits.
      if (live.length === 0 && (zombies === 0 || clock.now() >= deadline + 1_000)) break;
      if (clock.now() >= deadline) {
        for (const pid of live) {
          try {
            kill(pid, 'SIGKILL');
          } catch {
            // Already gone.
          }
        }
      }
      await wait(25);
    }
  };

  /** Windows: `taskkill /T` on the script's tree, `/T /F` if it still runs at the deadline. */
  const sweepTree = async () => {
    const pid = child?.pid;
    // Once the script has exited its pid may name another process, and what it left behind
    // has no living parent to be found through.
    if (pid === undefined || exited) return;
    void taskkillTree(pid, false, options.taskkill);
    let timer: unknown;
    const late = await Promise.race([
      childExited.then(() => false),
      new Promise<boolean>((resolve) => {
        timer = clock.setTimeout(() => resolve(true), options.graceMs);
      }),
    ]);
    clock.clearTimeout(timer);
    // The script has not been reaped, so `pid` is still its own: nothing else is ended.
    if (late && !exited) await taskkillTree(pid, true, options.taskkill);
  };

  let sweeping: Promise<void> | undefined;
  const sweep = () => {
    sweeping ??= (async () => {
      await (platform === 'win32' ? sweepTree() : sweepGroup());
      await childExited;
      finish(status ?? 1);
    })();
    return sweeping;
  };
  void childExited.then(() => sweep());
  return { sweep, done };
}

function main(): void {
  const [graceArg, command, ...args] = process.argv.slice(2);
  if (!command) process.exit(2);
  const guardian = startGuardian({ command, args, graceMs: Number(graceArg) || 3_000 });
  const sweep = () => void guardian.sweep();
  // The guardian ignores the group's SIGTERM itself and turns it into an orderly sweep.
  process.on('SIGTERM', sweep);
  process.on('SIGINT', sweep);
  process.stdin.on('end', sweep);
  process.stdin.on('error', sweep);
  process.stdin.resume();
  void guardian.done.then((status) => process.exit(status));
}

/** True when this file is the program node runs, not a module a test imports. */
function isMain(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    // Node names its main module by real path, as `import.meta.url` shows it.
    return pathToFileURL(realpathSync(script)).href === import.meta.url;
  } catch {
    return false;
  }
}

if (isMain()) main();
