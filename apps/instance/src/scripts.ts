// The runs of a project's scripts: which may start, stopping by group, the kept-runs bound
// and the log budget. One run's process and output are in `run.ts`, the log ring in `ring.ts`,
// URL detection in `urls.ts`, the guardian in `guardian.ts`, the command line in `project.ts`.
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { Taskkill } from '@mcp-beacon/runtime';
import { type Clock, findProgram, signalGroup, systemClock } from '@mcp-beacon/runtime';
import { InstanceError } from './errors.js';
import { readProject, scriptCommand } from './project.js';
import { type LogLine, LogRing } from './ring.js';
import {
  type Run,
  type RunInfo,
  type RunLine,
  type RunState,
  type SpawnProcess,
  spawnRun,
} from './run.js';

export type { RunInfo, RunLine, RunState } from './run.js';

/** Options of {@link ScriptRunner}. */
export interface ScriptRunnerOptions {
  /** The page-proxy URL of a URL a run printed, when there is one. */
  pageUrl?: (url: string) => string | undefined;
  /** The project directory (its package.json defines what may run). */
  cwd: string;
  /** SIGTERM -> SIGKILL grace period in ms (default 3 000). */
  graceMs?: number;
  /** Lines kept per run (default 2 000). */
  logCapacity?: number;
  /** Runs kept, running ones included; the oldest finished ones go first (default 20). */
  maxRuns?: number;
  /**
   * Log bytes kept across runs, counting 2 bytes a character (default 64 MiB); finished runs
   * are dropped oldest first to stay within it, and one run keeps at most a quarter of it.
   */
  logBytes?: number;
  /** The guardian script; defaults to the `guardian.js` built beside this file. */
  guardianPath?: string;
  /** Called when a run ends (for logging notifications). */
  onExit?: (run: RunInfo) => void;
  /** Called when a run is added or dropped (the set of log resources changed). */
  onRunsChanged?: () => void;
  /** Times runs and the stop backstop (default: the real clock). */
  clock?: Clock;
  /**
   * How runs are found and stopped (default `process.platform`): POSIX process groups, or on
   * Windows the guardian's sweep of the script's tree (see `guardian.ts`).
   */
  platform?: NodeJS.Platform;
  /** The fs edge finding the package manager (default `findProgram` for `platform`). */
  findProgram?: (name: string) => string | undefined;
  /** The spawn edge that starts a run's guardian (default `child_process.spawn`). */
  spawn?: SpawnProcess;
  /** The Windows edge that ends a stuck guardian's tree (default: the real taskkill). */
  taskkill?: Taskkill;
}

/**
 * Runs package.json scripts as child process groups and keeps their output in bounded rings.
 * Each run goes through a guardian process that takes the whole group down if this process
 * dies, so a SIGKILLed instance leaves no orphaned dev server.
 */
export class ScriptRunner {
  private readonly runs = new Map<string, Run>();
  private readonly lineListeners = new Set<(event: RunLine) => void>();
  private nextId = 1;
  private readonly graceMs: number;
  private readonly guardian: string;
  private readonly maxRuns: number;
  private readonly logChars: number;
  private readonly clock: Clock;
  private readonly platform: NodeJS.Platform;

  constructor(private readonly options: ScriptRunnerOptions) {
    this.platform = options.platform ?? process.platform;
    this.graceMs = options.graceMs ?? 3_000;
    this.maxRuns = options.maxRuns ?? 20;
    this.logChars = (options.logBytes ?? 64 * 1024 * 1024) / 2;
    this.clock = options.clock ?? systemClock;
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
        return { run: this.describe(run), alreadyRunning: true };
    }
    // npm, pnpm and yarn hand a script's arguments to it quoted for the shell; bun does not, so
    // `$(...)` in an argument would run. Arguments are refused there rather than passed on.
    if (project.packageManager === 'bun' && args.length > 0)
      throw new InstanceError(
        'INVALID_INPUT',
        `this project uses bun, which does not quote script arguments for the shell; run ${JSON.stringify(script)} without arguments`,
      );
    const [command, argv] = scriptCommand(project.packageManager, script, args);
    // By absolute path: the run's working directory is the project, which must not be able to
    // supply its own `npm` through a relative PATH entry.
    const find =
      this.options.findProgram ??
      ((name: string) => findProgram(name, { platform: this.platform }));
    const program = find(command);
    if (program === undefined)
      throw new InstanceError(
        'PROGRAM_NOT_FOUND',
        `${command} is not on PATH (relative PATH entries are ignored); install it to run ${JSON.stringify(script)}`,
      );
    const id = `run-${this.nextId++}`;
    const run = spawnRun({
      id,
      script,
      args,
      command,
      argv,
      program,
      guardian: this.guardian,
      graceMs: this.graceMs,
      cwd: this.options.cwd,
      clock: this.clock,
      logs: new LogRing({
        lines: this.options.logCapacity ?? 2_000,
        chars: Math.floor(this.logChars / 4),
      }),
      onLine: (event) => {
        for (const listener of this.lineListeners) {
          try {
            listener(event);
          } catch {
            // A listener's failure is its own; the run keeps logging.
          }
        }
      },
      hasListeners: () => this.lineListeners.size > 0,
      onEnd: (ended, state, exitCode) => this.finish(ended, state, exitCode),
      ...(this.options.spawn === undefined ? {} : { spawn: this.options.spawn }),
    });
    this.runs.set(id, run);
    this.evict();
    this.options.onRunsChanged?.();
    return { run: this.describe(run), alreadyRunning: false };
  }

  /**
   * Stops a run (its whole process group) if it is running, then starts the same script with
   * the same arguments. `signal` aborts the wait for the stop, and then nothing is started.
   * @throws {InstanceError} `UNKNOWN_RUN`, `UNKNOWN_SCRIPT` (package.json changed), or
   *   `INVALID_INPUT` when the stop was aborted.
   */
  async restart(id: string, signal?: AbortSignal): Promise<{ run: RunInfo; previous: RunInfo }> {
    const previous = await this.stop(id, signal);
    if (previous.state === 'running')
      throw new InstanceError('INVALID_INPUT', `restart of ${id} was cancelled while it stopped`);
    const { run } = await this.run(previous.script, previous.args);
    return { run, previous };
  }

  /** Subscribes to every new output line of every run; returns the unsubscribe. */
  onLine(listener: (event: RunLine) => void): () => void {
    this.lineListeners.add(listener);
    return () => this.lineListeners.delete(listener);
  }

  /**
   * A run's info and a promise that resolves when it ends.
   * @throws {InstanceError} `UNKNOWN_RUN`.
   */
  watch(id: string): { run: RunInfo; ended: Promise<void> } {
    const run = this.get(id);
    return { run: this.describe(run), ended: run.exited };
  }

  /**
   * Kept runs with their kept lines: the runs named by `ids` in that order, else all, oldest first.
   * @throws {InstanceError} `UNKNOWN_RUN`.
   */
  runLines(ids?: readonly string[]): { run: RunInfo; lines: LogLine[] }[] {
    const chosen = ids === undefined ? [...this.runs.values()] : ids.map((id) => this.get(id));
    return chosen.map((run) => ({ run: this.describe(run), lines: run.logs.read() }));
  }

  /** Drops the oldest finished runs beyond `maxRuns` or the log budget. */
  private evict(): void {
    let total = 0;
    for (const run of this.runs.values()) total += run.logs.chars;
    let dropped = false;
    for (const [id, run] of this.runs) {
      if (this.runs.size <= this.maxRuns && total <= this.logChars) break;
      if (run.info.state === 'running') continue;
      this.runs.delete(id);
      run.logs.onLine = undefined;
      total -= run.logs.chars;
      dropped = true;
    }
    if (dropped) this.options.onRunsChanged?.();
  }

  private finish(run: Run, state: RunState, exitCode: number | null): void {
    if (run.info.ended !== null) return;
    run.logs.flush();
    run.info.state = state;
    run.info.exitCode = exitCode;
    run.info.ended = new Date(this.clock.now()).toISOString();
    run.info.droppedLines = run.logs.dropped;
    this.evict();
    this.options.onExit?.(this.describe(run));
  }

  /**
   * Stops a run's process group: SIGTERM to the group, whose guardian SIGKILLs whatever is
   * left after the grace period and exits last. On Windows, which has neither, the guardian's
   * stdin is closed: it then runs `taskkill /T` on the script's tree and `taskkill /T /F` after
   * the grace period. A guardian still there 2 s after that is ended with its whole tree.
   * Resolves with the final state; `signal` aborts the wait, not the stop.
   * @throws {InstanceError} `UNKNOWN_RUN`.
   */
  async stop(id: string, signal?: AbortSignal): Promise<RunInfo> {
    const run = this.get(id);
    if (run.info.state === 'running') {
      run.stopRequested = true;
      const pgid = run.child.pid;
      const edges = {
        platform: this.platform,
        ...(this.options.taskkill === undefined ? {} : { taskkill: this.options.taskkill }),
      };
      // A signal on Windows would end the guardian at once and orphan the script's tree.
      if (this.platform === 'win32') run.child.stdin?.end();
      else signalGroup(pgid, 'SIGTERM', edges);
      // Only if the guardian itself is stuck: it exits within the grace period otherwise.
      const backstop = this.clock.setTimeout(
        () => signalGroup(pgid, 'SIGKILL', edges),
        this.graceMs + 2_000,
      );
      void run.exited.then(() => this.clock.clearTimeout(backstop));
      await (signal ? Promise.race([run.exited, once(signal, 'abort')]) : run.exited);
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
  logs(options: { run?: string; since?: number; limit?: number }): {
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
          : `no run ${JSON.stringify(options.run)}; ${this.keptRuns()}`,
      );
    }
    return { run: this.describe(run), lines: run.logs.read(options) };
  }

  private get(id: string): Run {
    const run = this.runs.get(id);
    if (run === undefined)
      throw new InstanceError('UNKNOWN_RUN', `no run ${JSON.stringify(id)}; ${this.keptRuns()}`);
    return run;
  }

  private keptRuns(): string {
    return `scripts_status lists the kept runs (the newest ${this.maxRuns}, within ${this.logChars / 524_288} MiB of logs)`;
  }

  private describe(run: Run): RunInfo {
    const urls = run.urls.list();
    const pageUrls = urls.flatMap((url) => this.options.pageUrl?.(url) ?? []);
    return { ...run.info, droppedLines: run.logs.dropped, urls, pageUrls };
  }
}
