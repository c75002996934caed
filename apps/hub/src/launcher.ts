// `instances_start`: a start is one sequence (check the folder and its owner, find
// beacon-instance, open the log safely, spawn detached, wait for the connection, kill on
// failure) with one shared-launch table; each step is a named function below, the launch logs
// are `launch-logs.ts`.
import { type ChildProcess, spawn } from 'node:child_process';
import { constants, existsSync } from 'node:fs';
import { open, readFile, realpath, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type ConnectionInfo,
  type ConnectionManager,
  isLocal,
} from '@mcp-beacon/connection-manager';
import { folderKey, HubError, type StartedInstance } from '@mcp-beacon/hub-mcp';
import { type BeaconPaths, ensureTrustedDir } from '@mcp-beacon/paths';
import { type Clock, cleanText, findProgram, signalGroup, systemClock } from '@mcp-beacon/runtime';
import {
  instanceEnv,
  instanceSearchPath,
  type LaunchHost,
  launchHost,
  nodeScript,
} from './_gui-env.js';
import { launchLogFile, pruneLaunchLogs } from './launch-logs.js';

/** Options of {@link createLauncher}. */
export interface LauncherOptions {
  paths: BeaconPaths;
  manager: ConnectionManager;
  /**
   * The beacon-instance program: a `.js`/`.mjs` file (run with this Node) or an executable.
   * Default: the sibling package's `dist/cli.js` (a clone or a global install), else
   * `beacon-instance` on PATH.
   */
  instanceBin?: string;
  /** How long a start may take to become active, in ms (default 20 000). */
  timeoutMs?: number;
  /** Timer of the start deadline (default: the real clock). */
  clock?: Clock;
  /**
   * The OS, environment, Node and file system edges of the launch (default this machine's). On
   * macOS, a hub whose PATH is launchd's passes its instances a PATH that finds its own Node and
   * the user's package managers; see `_gui-env.ts`.
   */
  host?: Partial<LaunchHost>;
}

/** Starts beacon-instance processes for the hub's `instances_start` and `--start-roots`. */
export interface Launcher {
  /**
   * Answers the live instance of `folder` if there is one, else starts beacon-instance there
   * (detached: it outlives the hub) and resolves once the hub's connection to it is active.
   * Concurrent starts of one folder share one launch.
   * @throws {HubError} `NOT_A_PROJECT` (no such folder, or no package.json) or `START_FAILED`
   *   (the process exited, its connection died, the timeout passed, or `signal` aborted; a
   *   launch that does not become active is killed).
   */
  start(folder: string, options?: { signal?: AbortSignal }): Promise<StartedInstance>;
  /** Kills launches still waiting to become active; idempotent. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** States in which an instance's process may be alive, so a second one must not start. */
const LIVE = new Set(['discovered', 'connecting', 'active', 'retrying', 'disconnected']);

const LOG_TAIL_BYTES = 2_048;

/**
 * The command that runs beacon-instance, resolved as {@link LauncherOptions.instanceBin} says, on
 * `host` (default this machine). On macOS a bare name is also looked up on the PATH instances
 * get, and a program that is a Node script (npm's link to `cli.js`, a `#!/usr/bin/env node` file)
 * runs with the hub's Node rather than through its shebang.
 * @throws {HubError} `START_FAILED` when a bare name is found nowhere.
 */
export function instanceCommand(
  instanceBin?: string,
  hostOverrides: Partial<LaunchHost> = {},
): { command: string; args: string[] } {
  const host = launchHost(hostOverrides);
  // dist/ of this app sits next to the instance package, in a clone or in node_modules/@mcp-beacon.
  const sibling = fileURLToPath(new URL('../../instance/dist/cli.js', import.meta.url));
  // A bare name is found on PATH by absolute path only: the launch runs in a project folder,
  // where a relative PATH entry would find a beacon-instance the project ships.
  const named = instanceBin ?? (existsSync(sibling) ? sibling : 'beacon-instance');
  const bin =
    named.includes(path.sep) || named.includes('/')
      ? named
      : findProgram(named, {
          path: instanceSearchPath(host) ?? host.env.PATH ?? '',
          pathExt: host.env.PATHEXT,
          platform: host.platform,
        });
  if (bin === undefined)
    throw new HubError(
      'START_FAILED',
      `${cleanText(named)} is not installed (not beside this hub, nor on PATH; relative PATH entries are ignored)`,
    );
  if (/\.[cm]?js$/.test(bin)) return { command: host.execPath, args: [bin] };
  const script = host.platform === 'darwin' ? nodeScript(bin, host) : undefined;
  return script === undefined
    ? { command: bin, args: [] }
    : { command: host.execPath, args: [script] };
}

async function projectFolder(folder: string): Promise<string> {
  if (!path.isAbsolute(folder))
    throw new HubError(
      'NOT_A_PROJECT',
      `${JSON.stringify(cleanText(folder))} is not an absolute path; pass the project folder's full path`,
    );
  // A UNC path (\\server\share, //server/share) would have the system authenticate to that
  // server the moment it is touched: refused before any file system call.
  if (/^(?:\\\\|\/\/)/.test(folder))
    throw new HubError(
      'NOT_A_PROJECT',
      `${cleanText(folder)} is a network path; start instances in local folders`,
    );
  let real: string;
  let owner: number;
  try {
    real = await realpath(folder);
    const info = await stat(real);
    if (!info.isDirectory()) throw new Error('not a directory');
    owner = info.uid;
  } catch {
    throw new HubError('NOT_A_PROJECT', `${cleanText(folder)} is not a folder`);
  }
  // Another user's folder could hand this user's instance scripts to run: never started.
  const me = process.getuid?.();
  if (me !== undefined && owner !== me)
    throw new HubError(
      'NOT_A_PROJECT',
      `${cleanText(real)} belongs to another user (uid ${owner}); beacon-instance starts only in your own folders`,
    );
  if (!(await stat(path.join(real, 'package.json')).catch(() => undefined))?.isFile())
    throw new HubError(
      'NOT_A_PROJECT',
      `${cleanText(real)} has no package.json; beacon-instance serves a project's package.json scripts`,
    );
  return real;
}

/**
 * Whether a local record's folder is `folder` (hub-mcp's folder keys: one normaliser for both,
 * case folded on Windows). Strings only: a record's fields are never followed into the file
 * system (a hung network mount would freeze the hub). beacon-instance records its folder's
 * native realpath, as `projectFolder` resolves it, so the two compare equal however the folder
 * was reached (a symlink, `/var` for `/private/var`, a case variant, a `subst` drive).
 */
function isFolder(info: ConnectionInfo, folder: string): boolean {
  return isLocal(info.location) && folderKey(info.location.path) === folderKey(folder);
}

/** Creates the {@link Launcher} of a hub. */
export function createLauncher(options: LauncherOptions): Launcher {
  const { manager, paths } = options;
  const timeoutMs = options.timeoutMs ?? 20_000;
  const clock = options.clock ?? systemClock;
  const host = launchHost(options.host);
  // Resolved at the first start, so a hub without beacon-instance still serves everything else.
  let program: { command: string; args: string[] } | undefined;
  /** Launches under way by folder: the launch, its own cancel, and how many callers wait. */
  const inFlight = new Map<
    string,
    { launch: Promise<StartedInstance>; controller: AbortController; waiting: number }
  >();
  const children = new Set<ChildProcess>();
  let closed = false;

  // Also the folder as asked for: a beacon-instance older than real paths in records recorded
  // the path it was started with.
  const liveFor = (real: string, asked: string): ConnectionInfo | undefined =>
    manager.list().find((c) => LIVE.has(c.state) && (isFolder(c, real) || isFolder(c, asked)));

  const launch = async (real: string, signal?: AbortSignal): Promise<StartedInstance> => {
    program ??= instanceCommand(options.instanceBin, options.host);
    const { command, args } = program;
    const logFile = launchLogFile(paths, real);
    await ensureTrustedDir(path.dirname(logFile));
    await pruneLaunchLogs(logFile);
    // A fresh file each start, never through whatever sits at its name (a planted symlink is
    // removed, not followed); 0600 like every file Beacon writes.
    await rm(logFile, { force: true });
    const log = await open(
      logFile,
      constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
      0o600,
    );
    const before = new Set(manager.list().map((c) => c.id));
    let child: ChildProcess;
    // A spawn failure (no such program) arrives as an 'error' event: caught from the start,
    // before any await, so it can never go unhandled.
    let spawnError: Error | undefined;
    let onSpawnError = (error: Error) => {
      spawnError = error;
    };
    try {
      child = spawn(command, [...args, '--cwd', real, '--log-level', 'warn'], {
        cwd: real,
        detached: true,
        stdio: ['ignore', 'ignore', log.fd],
        env: { ...instanceEnv(host), MCP_BEACON_HOME: paths.root },
        windowsHide: true,
      });
      child.on('error', (error) => onSpawnError(error));
    } finally {
      await log.close();
    }
    children.add(child);

    const tail = async () => {
      const text = await readFile(logFile, 'utf8').catch(() => '');
      const last = cleanText(text.slice(-LOG_TAIL_BYTES).trim());
      return last ? `; its output ends: ${last}` : '';
    };
    const describe = `beacon-instance in ${cleanText(real)}`;

    try {
      const started = await new Promise<StartedInstance>((resolve, reject) => {
        const settle = (outcome: StartedInstance | Error) => {
          off();
          clock.clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          if (outcome instanceof Error) reject(outcome);
          else resolve(outcome);
        };
        const fail = (message: string) => settle(new HubError('START_FAILED', message));
        const check = (info: ConnectionInfo) => {
          if (before.has(info.id) || !isLocal(info.location)) return;
          // Its pid when node runs it directly; else its folder.
          const ours = info.record.pid === child.pid || isFolder(info, real);
          if (!ours) return;
          if (info.state === 'active') settle({ info, started: true });
          else if (info.state === 'dead' || info.state === 'removed')
            fail(`${describe} announced itself but is ${info.state}: ${info.reason ?? ''}`);
        };
        const off = manager.onTransition((event) => check(event.info));
        const timer = clock.setTimeout(
          () => fail(`${describe} did not become active within ${timeoutMs} ms`),
          timeoutMs,
        );
        const onAbort = () => fail(`starting ${describe} was cancelled`);
        signal?.addEventListener('abort', onAbort, { once: true });
        if (signal?.aborted) onAbort();
        onSpawnError = (error) => fail(`cannot run ${command}: ${error.message}`);
        if (spawnError) onSpawnError(spawnError);
        child.once('exit', (code, sig) => {
          void tail().then((t) =>
            fail(`${describe} exited (${sig ?? `code ${code}`}) before it became active${t}`),
          );
        });
        for (const info of manager.list()) check(info);
      });
      children.delete(child);
      child.removeAllListeners('exit');
      child.unref();
      return started;
    } catch (error) {
      // A launch that is not active is not left behind.
      children.delete(child);
      killGroup(child);
      throw error;
    }
  };

  const start: Launcher['start'] = async (folder, { signal } = {}) => {
    if (closed) throw new HubError('START_FAILED', 'the hub is shutting down');
    const real = await projectFolder(folder);
    const live = liveFor(real, folder);
    if (live) return { info: live, started: false };
    let shared = inFlight.get(real);
    if (!shared) {
      // The launch has its own signal: one caller's cancel ends only that caller's wait, and the
      // launch is killed once every caller waiting on it has cancelled.
      const controller = new AbortController();
      const entry = {
        launch: launch(real, controller.signal).finally(() => inFlight.delete(real)),
        controller,
        waiting: 0,
      };
      inFlight.set(real, entry);
      shared = entry;
    }
    return waitFor(shared, signal);
  };

  /** One caller's wait on a shared launch, ended early by its own signal. */
  const waitFor = (
    shared: { launch: Promise<StartedInstance>; controller: AbortController; waiting: number },
    signal: AbortSignal | undefined,
  ): Promise<StartedInstance> => {
    shared.waiting++;
    if (!signal) return shared.launch.finally(() => shared.waiting--);
    return new Promise<StartedInstance>((resolve, reject) => {
      let left = false;
      const leave = () => {
        if (left) return;
        left = true;
        signal.removeEventListener('abort', onAbort);
        shared.waiting--;
      };
      const onAbort = () => {
        leave();
        if (shared.waiting === 0) shared.controller.abort(signal.reason);
        reject(signal.reason ?? new Error('aborted'));
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      shared.launch.then(
        (started) => {
          leave();
          resolve(started);
        },
        (error: unknown) => {
          leave();
          reject(error);
        },
      );
      // A caller that cancelled already has its answer; the launch's own outcome is not its.
    });
  };

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      closed = true;
      for (const child of children) killGroup(child);
      children.clear();
    })();
    return closing;
  };
  return { start, close, [Symbol.asyncDispose]: close };
}

/** SIGTERMs a detached launch's process group (the instance stops its own scripts). */
function killGroup(child: ChildProcess): void {
  if (child.exitCode !== null || child.signalCode !== null) return;
  signalGroup(child.pid, 'SIGTERM');
}
