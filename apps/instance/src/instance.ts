import { randomBytes } from 'node:crypto';
import { realpath } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { type BeaconPaths, resolvePaths } from '@mcp-beacon/paths';
import { type Registration, register } from '@mcp-beacon/registry';
import type { Logger } from '@mcp-beacon/runtime';
import type { McpServer } from '@modelcontextprotocol/server';
import { publishLogUpdates } from './_log-updates.js';
import { createBrowserPages } from './browser/pages.js';
import { readProject } from './project.js';
import { ScriptRunner, type ScriptRunnerOptions } from './scripts.js';
import { startHttpServer } from './server.js';

/** This package's version, shown by `--version` and in the MCP server info. */
export const VERSION: string = createRequire(import.meta.url)('../package.json').version;

/** Options of {@link startInstance}. */
export interface StartInstanceOptions {
  /** The project directory. */
  cwd: string;
  logger: Logger;
  /** 0 (default) takes any free port. */
  port?: number;
  /** Overrides package.json `name` / the folder name. */
  name?: string;
  /** Write the discovery record (default true). */
  register?: boolean;
  /** Require a per-start bearer token (default true). */
  auth?: boolean;
  /** Data directories (default: from `MCP_BEACON_HOME` / the OS). */
  paths?: BeaconPaths;
  /** `last_seen` refresh period in ms (default 5 000). */
  heartbeatMs?: number;
  /** Script stop grace period in ms (default 3 000). */
  graceMs?: number;
  /** Script runs kept (default 20); see {@link ScriptRunnerOptions}. */
  maxRuns?: number;
  /** Log bytes kept across runs (default 64 MiB). */
  logBytes?: number;
  /** An MCP session with no request for this long is ended (default 600 000 ms). */
  sessionIdleMs?: number;
  /** Concurrent MCP sessions; a new one beyond gets HTTP 503 (default 100). */
  maxSessions?: number;
}

/** A running beacon-instance. */
export interface Instance {
  readonly url: string;
  readonly port: number;
  readonly token: string | undefined;
  /** The discovery registration, or `undefined` when disabled or when writing it failed. */
  readonly registration: Registration | undefined;
  /** Removes the record, stops the scripts it started, then closes the server; idempotent. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Starts the project MCP server and, once its port is listening, announces it. A record that
 * cannot be written is logged and the server keeps running without discovery.
 * @throws {InstanceError} `PORT_IN_USE` / `LISTEN_FAILED`; no record is written then.
 */
export async function startInstance(options: StartInstanceOptions): Promise<Instance> {
  const { logger } = options;
  const cwd = path.resolve(options.cwd);
  const project = await readProject(cwd, options.name);
  const token = options.auth === false ? undefined : randomBytes(32).toString('base64url');
  const started = new Date().toISOString();
  let url: string | undefined;
  let session: typeof import('./_session.js') | undefined;
  const pages = createBrowserPages({ root: cwd, log: (message) => logger.info(message) });
  const runner: ScriptRunner = new ScriptRunner({
    cwd,
    pageUrl: (printed) => pages.proxiedUrl(printed),
    ...(options.graceMs === undefined ? {} : { graceMs: options.graceMs }),
    ...(options.maxRuns === undefined ? {} : { maxRuns: options.maxRuns }),
    ...(options.logBytes === undefined ? {} : { logBytes: options.logBytes }),
    onRunsChanged: () => {
      for (const session of http.sessions()) session.sendResourceListChanged();
      http.modern.resourcesChanged();
    },
    onExit: (run) => {
      logger.info(`run ${run.id} (${run.script}) ended: ${run.state}, exit code ${run.exitCode}`);
      for (const session of http.sessions()) {
        session
          .sendLoggingMessage({
            level: run.state === 'failed' ? 'warning' : 'info',
            logger: 'scripts',
            data: { event: 'run-ended', ...run },
          })
          .catch(() => undefined);
      }
    },
  });
  const http = await startHttpServer({
    port: options.port ?? 0,
    token,
    logger,
    ...(options.sessionIdleMs === undefined ? {} : { sessionIdleMs: options.sessionIdleMs }),
    ...(options.maxSessions === undefined ? {} : { maxSessions: options.maxSessions }),
    // The SDK, the tools and their schemas are loaded at the first MCP request (server.ts).
    load: async () => {
      session ??= await import('./_session.js');
    },
    createSession: (): McpServer => {
      if (!session) throw new Error('createSession before load');
      return session.createSessionServer(
        { name: 'beacon-instance', version: VERSION },
        { cwd, name: project.name, runner, url: () => url, started, pages },
      );
    },
  });
  url = http.url;
  const stopLogUpdates = publishLogUpdates(runner, http.modern);
  // Every dev server a run prints gets a page proxy in front of it.
  runner.onLine(({ newUrls }) => {
    for (const printed of newUrls) pages.proxy(printed);
  });
  logger.info(
    `serving ${project.name} (${cwd}) at ${url}${token === undefined ? ' WITHOUT authentication (--no-auth)' : ''}`,
  );

  let registration: Registration | undefined;
  if (options.register !== false) {
    try {
      registration = await register({
        paths: options.paths ?? resolvePaths(),
        ...(options.heartbeatMs === undefined ? {} : { heartbeatMs: options.heartbeatMs }),
        record: {
          pid: process.pid,
          path: await recordedFolder(cwd),
          port: http.port,
          name: project.name,
          has_package_json: project.hasPackageJson,
          url,
          ...(token === undefined ? {} : { token }),
        },
        // A record that cannot be written now is tried again with every heartbeat.
        retryFirstWrite: true,
        onHeartbeatError: (error) => logger.warn(`heartbeat failed: ${error.message}`),
      });
      if (registration.written)
        logger.info(`announced as ${registration.id} in ${registration.file}`);
      else
        logger.warn(
          `running without discovery until ${registration.file} can be written (tried again with every heartbeat)`,
        );
    } catch (error) {
      logger.warn(`running without discovery: ${(error as Error).message}`);
    }
  }

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      await registration
        ?.close()
        .catch((error: Error) => logger.warn(`cannot remove record: ${error.message}`));
      await runner.stopAll();
      stopLogUpdates();
      await pages.close();
      await http.close();
    })();
    return closing;
  };
  return { url, port: http.port, token, registration, close, [Symbol.asyncDispose]: close };
}

/**
 * The folder a record names: its real path (the native realpath: symlinks, `/var` ->
 * `/private/var`, a `subst` drive resolved, and the case as the disk spells it on macOS and
 * Windows), so one project reached two ways is one folder to the hub. As given when the
 * system cannot resolve it.
 */
function recordedFolder(cwd: string): Promise<string> {
  return realpath(cwd).catch(() => cwd);
}
