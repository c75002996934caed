import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';
import { InstanceError } from './errors.js';
import { readProject, scriptCommand } from './project.js';
import { type LogLine, LogRing } from './ring.js';

/** Where a run is in its life. */
export type RunState = 'running' | 'exited' | 'failed' | 'stopped';

/** A run as the tools report it. */
export interface RunInfo {
  id: string;
  script: string;
  args: string[];
  command: string;
  state: RunState;
  pid: number | undefined;
  exitCode: number | null;
  started: string;
  ended: string | null;
  droppedLines: number;
}

interface Run {
  info: RunInfo;
  child: ChildProcess;
  logs: LogRing;
  exited: Promise<void>;
  stopRequested: boolean;
}

/** Options of {@link ScriptRunner}. */
export interface ScriptRunnerOptions {
  /** The project directory (its package.json defines what may run). */
  cwd: string;
  /** SIGTERM -> SIGKILL grace period in ms (default 3 000). */
  graceMs?: number;
  /** Lines kept per run (default 2 000). */
  logCapacity?: number;
  /** The guardian script; defaults to the `guardian.js` built beside this file. */
  guardianPath?: string;
  /** Called when a run ends (for logging notifications). */
  onExit?: (run: RunInfo) => void;
}

/**
 * Runs package.json scripts as child process groups and keeps their output in bounded rings.
 * Each run goes through a guardian process that takes the whole group down if this process
 * dies, so a SIGKILLed instance leaves no orphaned dev server.
 */
export class ScriptRunner {
  private readonly runs = new Map<string, Run>();
  private nextId = 1;
  private readonly graceMs: number;
  private readonly guardian: string;

  constructor(private readonly options: ScriptRunnerOptions) {
    this.graceMs = options.graceMs ?? 3_000;
    this.guardian =
      options.guardianPath ?? fileURLToPath(new URL('./guardian.js', import.meta.url));
  }

  /**
   * Starts `script` with the project's package manager and returns at once. A script already
   * running is reported (`alreadyRunning: true`), not started twice.
   * @throws {InstanceError} `UNKNOWN_SCRIPT` when package.json does not define it.
   */
  async run(
    script: string,
    args: readonly string[] = [],
  ): Promise<{ run: RunInfo; alreadyRunning: boolean }> {
    const project = await readProject(this.options.cwd);
    if (!Object.hasOwn(project.scripts, script)) {
      const known = Object.keys(project.scripts);
      throw new InstanceError(
        'UNKNOWN_SCRIPT',
        `package.json defines no script ${JSON.stringify(script)}; known: ${known.length > 0 ? known.join(', ') : '(none)'}`,
      );
    }
    for (const run of this.runs.values()) {
      if (run.info.script === script && run.info.state === 'running')
        return { run: { ...run.info }, alreadyRunning: true };
    }
    const [command, argv] = scriptCommand(project.packageManager, script, args);
    const child = spawn(process.execPath, [this.guardian, String(this.graceMs), command, ...argv], {
      cwd: this.options.cwd,
      detached: true, // leader of a new process group: one signal reaches the whole tree
      stdio: ['pipe', 'pipe', 'pipe'],
      env: scriptEnv(),
    });
    const id = `run-${this.nextId++}`;
    const logs = new LogRing(this.options.logCapacity);
    const info: RunInfo = {
      id,
      script,
      args: [...args],
      command: [command, ...argv].join(' '),
      state: 'running',
      pid: child.pid,
      exitCode: null,
      started: new Date().toISOString(),
      ended: null,
      droppedLines: 0,
    };
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => logs.write('stdout', chunk));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => logs.write('stderr', chunk));
    child.stdin?.on('error', () => undefined);
    const run: Run = { info, child, logs, stopRequested: false, exited: Promise.resolve() };
    run.exited = new Promise<void>((resolve) => {
      child.once('error', (error) => {
        logs.write('stderr', `beacon: cannot start ${command}: ${error.message}\n`);
        this.finish(run, 'failed', null);
        resolve();
      });
      child.once('close', (code, signal) => {
        // A guardian killed by a signal reports it as 128 + its number, as shells do.
        const exitCode = code ?? (signal ? 128 + (constants.signals[signal] ?? 0) : null);
        this.finish(
          run,
          run.stopRequested ? 'stopped' : exitCode === 0 ? 'exited' : 'failed',
          exitCode,
        );
        resolve();
      });
    });
    this.runs.set(id, run);
    return { run: { ...info }, alreadyRunning: false };
  }

  private finish(run: Run, state: RunState, exitCode: number | null): void {
    if (run.info.ended !== null) return;
    run.logs.flush();
    run.info.state = state;
    run.info.exitCode = exitCode;
    run.info.ended = new Date().toISOString();
    run.info.droppedLines = run.logs.dropped;
    this.options.onExit?.({ ...run.info });
  }

  /**
   * Stops a run's process group: SIGTERM, then SIGKILL after the grace period. Resolves with
   * the final state; `signal` aborts the wait, not the stop.
   * @throws {InstanceError} `UNKNOWN_RUN`.
   */
  async stop(id: string, signal?: AbortSignal): Promise<RunInfo> {
    const run = this.get(id);
    if (run.info.state === 'running') {
      run.stopRequested = true;
      const pgid = run.child.pid;
      killGroup(pgid, 'SIGTERM');
      const deadline = Date.now() + this.graceMs;
      // The guardian exits with the script; other members of the group may take a moment longer.
      const gone = async () => {
        await run.exited;
        while (pgid !== undefined && groupAlive(pgid)) {
          if (Date.now() > deadline) killGroup(pgid, 'SIGKILL');
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      };
      const timer = setTimeout(() => killGroup(pgid, 'SIGKILL'), this.graceMs);
      try {
        await (signal ? Promise.race([gone(), once(signal, 'abort')]) : gone());
      } finally {
        clearTimeout(timer);
      }
    }
    return this.describe(run);
  }

  /** Stops every running script (used at shutdown). */
  async stopAll(): Promise<void> {
    await Promise.all(
      [...this.runs.values()]
        .filter((r) => r.info.state === 'running')
        .map((r) => this.stop(r.info.id)),
    );
  }

  /** Every run, oldest first. */
  list(): RunInfo[] {
    return [...this.runs.values()].map((run) => this.describe(run));
  }

  /**
   * Captured lines of a run (default: the newest run).
   * @throws {InstanceError} `UNKNOWN_RUN` when there is no such run (or no run at all).
   */
  logs(options: {
    run?: string;
    since?: number;
    limit?: number;
    filter?: (text: string) => boolean;
  }): {
    run: RunInfo;
    lines: LogLine[];
  } {
    const run =
      options.run === undefined ? [...this.runs.values()].at(-1) : this.runs.get(options.run);
    if (run === undefined) {
      throw new InstanceError(
        'UNKNOWN_RUN',
        options.run === undefined
          ? 'no script has run yet'
          : `no run ${JSON.stringify(options.run)}`,
      );
    }
    return { run: this.describe(run), lines: run.logs.read(options) };
  }

  private get(id: string): Run {
    const run = this.runs.get(id);
    if (run === undefined)
      throw new InstanceError('UNKNOWN_RUN', `no run ${JSON.stringify(id)}; see scripts_status`);
    return run;
  }

  private describe(run: Run): RunInfo {
    return { ...run.info, droppedLines: run.logs.dropped };
  }
}

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The environment for a script: this process's, minus the `npm_*` variables an outer package
 * manager set for beacon-instance itself (they would leak its config into the project's run).
 */
function scriptEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { FORCE_COLOR: '0' };
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^npm_/i.test(key)) env[key] = value;
  }
  return env;
}
