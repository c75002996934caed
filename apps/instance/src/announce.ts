import { request } from 'node:http';
import path from 'node:path';
import { type BeaconPaths, resolvePaths } from '@mcp-beacon/paths';
import { isLoopbackHttpUrl, type Registration, register } from '@mcp-beacon/registry';
import { InstanceError } from './errors.js';
import type { Logger } from './logger.js';

/** Options of {@link announce}. */
export interface AnnounceOptions {
  /** The MCP server's streamable-HTTP URL; must be http on a loopback address. */
  url: string;
  name?: string;
  /** Project path recorded for the server (default: the current directory). */
  path?: string;
  token?: string;
  logger: Logger;
  paths?: BeaconPaths;
  /** Probe period in ms (default 5 000); the record's heartbeat follows successful probes. */
  intervalMs?: number;
  /** Consecutive failed probes after which the record is removed (default 2). */
  maxFailures?: number;
  /** Per-probe timeout in ms (default 2 000). */
  timeoutMs?: number;
}

/** A running announcement; `done` settles when it ends (stopped, or the URL stopped answering). */
export interface Announcement {
  readonly registration: Registration;
  readonly done: Promise<'stopped' | 'unreachable'>;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Resolves true when anything answers HTTP at `url` (any status), false otherwise. */
export function probe(url: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(
      url,
      { method: 'GET', timeout: timeoutMs, headers: { accept: 'text/event-stream' } },
      (res) => {
        res.destroy();
        resolve(true);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(false));
    req.end();
  });
}

/**
 * Announces an MCP server that is already running elsewhere: writes its record (pid = this
 * process) once the URL answers, refreshes it while it answers, and removes it when closed or
 * after `maxFailures` failed probes in a row.
 * @throws {InstanceError} `INVALID_INPUT` for a non-loopback URL; `UNREACHABLE` when the URL
 * does not answer at start.
 */
export async function announce(options: AnnounceOptions): Promise<Announcement> {
  const { logger } = options;
  if (!isLoopbackHttpUrl(options.url)) {
    throw new InstanceError(
      'INVALID_INPUT',
      `--url must be http on a loopback address, got ${options.url}`,
    );
  }
  const timeoutMs = options.timeoutMs ?? 2_000;
  if (!(await probe(options.url, timeoutMs))) {
    throw new InstanceError('UNREACHABLE', `nothing answers at ${options.url}`);
  }
  const parsed = new URL(options.url);
  const dir = path.resolve(options.path ?? process.cwd());
  const registration = await register({
    paths: options.paths ?? resolvePaths(),
    heartbeatMs: 0, // refreshed by successful probes instead
    record: {
      pid: process.pid,
      path: dir,
      port: Number(parsed.port || 80),
      name: options.name ?? (path.basename(dir) || parsed.host),
      has_package_json: false,
      url: options.url,
      ...(options.token === undefined ? {} : { token: options.token }),
    },
  });
  logger.info(`announced ${options.url} as ${registration.id}`);

  let failures = 0;
  let timer: NodeJS.Timeout | undefined;
  let finish!: (how: 'stopped' | 'unreachable') => void;
  const done = new Promise<'stopped' | 'unreachable'>((resolve) => {
    finish = resolve;
  });
  let closed = false;
  const end = async (how: 'stopped' | 'unreachable') => {
    if (closed) return;
    closed = true;
    clearTimeout(timer);
    await registration.close();
    finish(how);
  };
  const tick = async () => {
    if (closed) return;
    if (await probe(options.url, timeoutMs)) {
      failures = 0;
      await registration
        .heartbeat()
        .catch((error: Error) => logger.warn(`heartbeat failed: ${error.message}`));
    } else if (++failures >= (options.maxFailures ?? 2)) {
      logger.warn(`${options.url} stopped answering; record removed`);
      await end('unreachable');
      return;
    }
    if (!closed) timer = setTimeout(() => void tick(), options.intervalMs ?? 5_000);
  };
  timer = setTimeout(() => void tick(), options.intervalMs ?? 5_000);
  const close = () => end('stopped');
  return { registration, done, close, [Symbol.asyncDispose]: close };
}
