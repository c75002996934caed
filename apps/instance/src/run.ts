// One run of a script: its process group (through the guardian), its output into a log
// ring, the URLs it prints, and how it ended.
import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';
import { type Clock, exitStatus } from '@mcp-beacon/runtime';
import type { LogLine, LogRing } from './ring.js';
import { UrlSet } from './urls.js';

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
  /** Loopback http(s) URLs the run printed, first seen first (at most 16). */
  urls: string[];
  /** The same through Beacon's page proxy (pages opened there report to the instance). */
  pageUrls: string[];
}

/** A line of a run, as {@link ScriptRunner.onLine} listeners get it. */
export interface RunLine {
  run: string;
  line: LogLine;
  /** URLs first seen on this line. */
  newUrls: string[];
}

/** A run as the runner keeps it. */
export interface Run {
  info: RunInfo;
  child: ChildProcess;
  logs: LogRing;
  urls: UrlSet;
  exited: Promise<void>;
  stopRequested: boolean;
}

/** What {@link spawnRun} needs. */
export interface SpawnRunOptions {
  id: string;
  script: string;
  args: readonly string[];
  /** The package manager's command, as shown, and its arguments. */
  command: string;
  argv: readonly string[];
  /** The command's absolute path. */
  program: string;
  guardian: string;
  graceMs: number;
  cwd: string;
  clock: Clock;
  logs: LogRing;
  /** A line was logged (only asked for while `hasListeners()`). */
  onLine: (event: RunLine) => void;
  hasListeners: () => boolean;
  /** The run ended: could not start (`failed`, no code), or exited. */
  onEnd: (run: Run, state: RunState, exitCode: number | null) => void;
  /** The spawn edge that starts the guardian (default `child_process.spawn`). */
  spawn?: SpawnProcess;
}

/** Starts a process: the shape of `child_process.spawn` that runs use. */
export type SpawnProcess = (
  command: string,
  args: readonly string[],
  options: SpawnOptions,
) => ChildProcess;

/**
 * Starts one run: the guardian, leader of a new process group (one signal reaches the whole
 * tree), runs `program`; its output goes into `logs`.
 */
export function spawnRun(o: SpawnRunOptions): Run {
  const start: SpawnProcess = o.spawn ?? spawn;
  const child = start(process.execPath, [o.guardian, String(o.graceMs), o.program, ...o.argv], {
    cwd: o.cwd,
    // POSIX: leader of a new process group, so one signal reaches the whole tree. Windows: out
    // of the job that ends this process's children with it, so the guardian outlives a killed
    // instance long enough to end the script's tree.
    detached: true,
    // Windows: no visible console window (the guardian hides the script's in turn).
    windowsHide: true,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: scriptEnv(),
  });
  const { id, logs, command } = o;
  const info: RunInfo = {
    id,
    script: o.script,
    args: [...o.args],
    command: [command, ...o.argv].join(' '),
    state: 'running',
    pid: child.pid,
    exitCode: null,
    started: new Date(o.clock.now()).toISOString(),
    ended: null,
    droppedLines: 0,
    urls: [], // filled in by describe()
    pageUrls: [],
  };
  const urls = new UrlSet();
  logs.onLine = (line) => {
    const newUrls = urls.add(line.text);
    if (o.hasListeners()) o.onLine({ run: id, line, newUrls });
  };
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => logs.write('stdout', chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => logs.write('stderr', chunk));
  child.stdin?.on('error', () => undefined);
  const run: Run = { info, child, logs, urls, stopRequested: false, exited: Promise.resolve() };
  run.exited = new Promise<void>((resolve) => {
    child.once('error', (error) => {
      logs.write('stderr', `beacon: cannot start ${command}: ${error.message}\n`);
      o.onEnd(run, 'failed', null);
      resolve();
    });
    child.once('close', (code, signal) => {
      // A guardian killed by a signal reports it as 128 + its number, as shells do.
      const exitCode = code === null && signal === null ? null : exitStatus(code, signal);
      o.onEnd(run, run.stopRequested ? 'stopped' : exitCode === 0 ? 'exited' : 'failed', exitCode);
      resolve();
    });
  });
  return run;
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
