import { type ChildProcess, execFileSync, type SpawnOptions, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** A child process started by {@link startProcess}, with its output captured. */
export interface TestProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Everything written to stdout / stderr so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code and signal once the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves once `pattern` appears in stderr (rejects if the process exits first). */
  waitForStderr(pattern: RegExp | string, timeoutMs?: number): Promise<string>;
  /** SIGKILLs the process if it is still running and waits for it. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Starts a real child process (stdin ignored unless `stdio` says otherwise). */
export function startProcess(
  command: string,
  args: string[],
  options: SpawnOptions = {},
): TestProcess {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
  let out = '';
  let err = '';
  child.stdout?.setEncoding('utf8').on('data', (c: string) => {
    out += c;
  });
  child.stderr?.setEncoding('utf8').on('data', (c: string) => {
    err += c;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  let done = false;
  void exited.then(() => {
    done = true;
  });
  const kill = async (signal: NodeJS.Signals = 'SIGKILL') => {
    if (!done) child.kill(signal);
    await exited;
  };
  return {
    child,
    pid: child.pid ?? -1,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitForStderr(pattern, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const test = () =>
          typeof pattern === 'string' ? err.includes(pattern) : pattern.test(err);
        if (test()) return resolve(err);
        const timer = setTimeout(
          () => finish(new Error(`timed out waiting for ${pattern} in stderr:\n${err}`)),
          timeoutMs,
        );
        const onData = () => {
          if (test()) finish();
        };
        const onExit = () =>
          finish(new Error(`process exited before ${pattern} appeared in stderr:\n${err}`));
        const finish = (error?: Error) => {
          clearTimeout(timer);
          child.stderr?.off('data', onData);
          child.off('exit', onExit);
          if (error) reject(error);
          else resolve(err);
        };
        child.stderr?.on('data', onData);
        child.once('exit', onExit);
      });
    },
    kill,
    [Symbol.asyncDispose]: () => kill(),
  };
}

/** True while any process in group `pgid` exists. */
export function isGroupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The Node binary tests start the built apps with: `BEACON_TEST_NODE` when set (CI runs the
 * integration tests again under Node 22 this way), else the one running the tests.
 */
export const testNode: string = process.env.BEACON_TEST_NODE || process.execPath;

/**
 * Pids of live processes whose command line contains `marker` (Linux: read from /proc;
 * elsewhere from `ps`). Zombies are not counted. Used to prove a test left nothing running.
 */
export function processesWith(marker: string): number[] {
  const found: number[] = [];
  if (process.platform === 'linux') {
    for (const name of readdirSync('/proc')) {
      const pid = Number(name);
      if (!Number.isInteger(pid) || pid === process.pid) continue;
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue;
        if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(marker)) found.push(pid);
      } catch {
        // Exited while we looked.
      }
    }
    return found;
  }
  const out = execFileSync('ps', ['-A', '-o', 'pid=,stat=,command='], { encoding: 'utf8' });
  for (const line of out.split('\n')) {
    const match = /^\s*(\d+)\s+(\S+)\s+(.*)$/.exec(line);
    if (match && !match[2]!.startsWith('Z') && match[3]!.includes(marker)) {
      const pid = Number(match[1]);
      if (pid !== process.pid) found.push(pid);
    }
  }
  return found;
}
