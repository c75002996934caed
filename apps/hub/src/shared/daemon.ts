// `beacon-hub daemon`: the user's one hub, serving every bridge on its private endpoint as a
// session of its own, over one connection per instance and one link per remote. Started by the
// first bridge that finds none; it leaves a while after its last session ends.

import { readFileSync } from 'node:fs';
import { chmod, lstat, unlink } from 'node:fs/promises';
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { HubSessionOptions } from '@mcp-beacon/hub-mcp';
import { createLogger, type Logger, type LogLevel, onShutdown } from '@mcp-beacon/runtime';
import { StdioServerTransport } from '@modelcontextprotocol/server/stdio';
import type { Hub } from '../hub.js';
import { VERSION } from '../version.js';
import { checkPrivate, type HubEndpoint, releaseLock } from './endpoint.js';
import { createLogFile } from './log-file.js';
import { type HubLine, type HubStatus, parseLine, type SessionRequest } from './wire.js';

/** How long the hub stays after its last session ends, by default, in ms (5 minutes). */
export const DEFAULT_IDLE_EXIT_MS = 5 * 60_000;
/** How long a hub waits for its first client however short `--idle-exit` is, in ms. */
const FIRST_CLIENT_MS = 15_000;
/** How long a new connection may take to say hello, in ms. */
const HELLO_TIMEOUT_MS = 10_000;
/** Longest hello line taken, in bytes. */
const MAX_HELLO_BYTES = 64 * 1024;
/** Largest message a session's client may send, in bytes (as on stdio). */
const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

/** What {@link serveShared} needs. */
export interface SharedHubOptions {
  endpoint: HubEndpoint;
  /** Starts the hub's instances side (no client yet); `log` is the hub's own logger. */
  start(logger: Logger): Promise<Hub>;
  /** Exit a while after the last session ends, in ms. */
  idleExitMs: number;
  /** The hub-wide flags it runs with, shown by `status`. */
  args: readonly string[];
}

const RANKS: Record<Exclude<LogLevel, 'silent'>, number> = { error: 1, warn: 2, info: 3, debug: 4 };

/**
 * Serves the shared hub on `options.endpoint` (the caller holds its lock) until it has been
 * idle for `idleExitMs`, or a signal ends it.
 */
export async function serveShared(options: SharedHubOptions): Promise<void> {
  const { endpoint } = options;
  const file = createLogFile(endpoint.log);
  /** Bridges to tell of the hub's own warnings, with the level each asked for. */
  const listeners = new Set<{ socket: Socket; rank: number }>();
  const relay = (level: Exclude<LogLevel, 'silent'>, message: string) => {
    const line = `${JSON.stringify({ beacon: 'log', level, message } satisfies HubLine)}\n`;
    for (const listener of listeners)
      if (RANKS[level] <= listener.rank && !listener.socket.destroyed) listener.socket.write(line);
  };
  const fileLog = createLogger('info', { write: file, repeatMs: 60_000 });
  const both =
    (level: Exclude<LogLevel, 'silent'>) =>
    (message: string): void => {
      if (level !== 'debug') fileLog[level](message);
      relay(level, message);
    };
  const logger: Logger = {
    error: both('error'),
    warn: both('warn'),
    info: both('info'),
    debug: both('debug'),
  };

  const startedAt = new Date();
  if (process.platform !== 'win32') {
    // The lock is ours: a socket left by a hub that died is removed, anything else is refused.
    const left = await lstat(endpoint.address).then(
      () => true,
      () => false,
    );
    if (left) {
      await checkPrivate(endpoint.address, 'socket');
      await unlink(endpoint.address);
    }
  }
  const hub = await options.start(logger);
  let server: NetServer | undefined;
  let stopped = false;
  const stop = onShutdown(
    async () => {
      stopped = true;
      if (idle) clearTimeout(idle);
      server?.close();
      for (const { socket } of listeners) socket.destroy();
      if (process.platform !== 'win32') await unlink(endpoint.address).catch(() => undefined);
      await releaseLock(endpoint);
      await hub.close();
    },
    { logger },
  );

  let idle: NodeJS.Timeout | undefined;
  let served = false;
  const armIdle = () => {
    if (idle) clearTimeout(idle);
    idle = undefined;
    if (hub.server.sessions().length > 0) return;
    // A newer Beacon installed over this one: its bridges start their own hub; this one goes.
    if (installedVersion() !== VERSION) return void stop('a newer Beacon is installed');
    // Before its first client, the hub waits for the bridge that started it at least a while.
    const wait = served ? options.idleExitMs : Math.max(options.idleExitMs, FIRST_CLIENT_MS);
    idle = setTimeout(() => stop(`no client for ${wait} ms`), wait);
  };
  hub.server.onSessionEnd(() => armIdle());

  const status = (): HubStatus => ({
    pid: process.pid,
    startedAt: startedAt.toISOString(),
    uptimeMs: Date.now() - startedAt.getTime(),
    rssBytes: process.memoryUsage.rss(),
    instances: hub.manager.list().length,
    args: [...options.args],
    sessions: hub.server.sessions(),
  });

  server = createServer((socket) => {
    socket.on('error', () => undefined);
    void welcome(socket);
  });
  const welcome = async (socket: Socket) => {
    const hello = await readHello(socket);
    const reply = (line: HubLine) => socket.write(`${JSON.stringify(line)}\n`);
    if (!hello) return void socket.destroy();
    if (hello.version !== VERSION) {
      reply({ beacon: 'refused', version: VERSION, reason: `this hub is version ${VERSION}` });
      return void socket.end();
    }
    if (hello.beacon === 'status') {
      reply({ beacon: 'status', version: VERSION, ...status() });
      return void socket.end();
    }
    const request = (hello.session ?? {}) as SessionRequest;
    const rank =
      hello.logLevel === 'silent' ? 0 : (RANKS[hello.logLevel as Exclude<LogLevel, 'silent'>] ?? 2);
    const listener = { socket, rank };
    const session: HubSessionOptions = {
      ...(typeof request.workingFolder === 'string'
        ? { workingFolder: request.workingFolder }
        : {}),
      ...(request.tools === 'grouped' || request.tools === 'namespaced'
        ? { tools: request.tools }
        : {}),
      ...(typeof request.maxNameLength === 'number'
        ? { maxNameLength: request.maxNameLength }
        : {}),
      ...(typeof request.maxTools === 'number' ? { maxTools: request.maxTools } : {}),
      ...(request.startRoots === true ? { startRoots: true } : {}),
      ...(typeof request.label === 'string' ? { label: request.label.slice(0, 200) } : {}),
      // What concerns this session goes to its bridge only (and to the hub's file).
      log: (message) => {
        fileLog.warn(message);
        if (RANKS.warn <= rank && !socket.destroyed)
          socket.write(
            `${JSON.stringify({ beacon: 'log', level: 'warn', message } satisfies HubLine)}\n`,
          );
      },
    };
    const transport = new StdioServerTransport(socket, socket, {
      maxBufferSize: MAX_MESSAGE_BYTES,
    });
    try {
      const opened = await hub.server.connect(transport, session);
      reply({ beacon: 'welcome', version: VERSION, pid: process.pid });
      served = true;
      socket.resume();
      listeners.add(listener);
      void opened.ended.then(() => socket.destroy());
      armIdle();
      socket.once('close', () => {
        listeners.delete(listener);
        void opened.close();
      });
      logger.info(`session ${opened.info().id} opened (${request.label ?? 'a bridge'})`);
    } catch (error) {
      reply({ beacon: 'refused', version: VERSION, reason: (error as Error).message });
      socket.end();
    }
  };

  await new Promise<void>((resolve, reject) => {
    server?.once('error', reject);
    server?.listen(endpoint.address, () => {
      server?.off('error', reject);
      resolve();
    });
  });
  if (process.platform !== 'win32') await chmod(endpoint.address, 0o600);
  logger.info(`Beacon hub ${VERSION} serving at ${endpoint.address} (pid ${process.pid})`);
  armIdle();

  // Another hub took the endpoint over (this one's socket was removed): it serves the sessions
  // it has, and leaves when they end.
  const watch = setInterval(() => {
    if (stopped || process.platform === 'win32') return;
    lstat(endpoint.address).catch(() => {
      server?.close();
      if (hub.server.sessions().length === 0) stop('its endpoint was removed');
    });
  }, 5_000);
  watch.unref();
}

/** The version of the Beacon installed where this hub was loaded from, now. */
function installedVersion(): string {
  try {
    const file = fileURLToPath(new URL('../package.json', import.meta.url));
    return (JSON.parse(readFileSync(file, 'utf8')) as { version?: string }).version ?? VERSION;
  } catch {
    return VERSION;
  }
}

/** The connection's first line (the bridge's hello), or undefined when it sends none. */
function readHello(
  socket: Socket,
): Promise<
  { beacon: 'hello' | 'status'; version: string; session?: unknown; logLevel?: unknown } | undefined
> {
  return new Promise((resolve) => {
    let buffer = Buffer.alloc(0);
    const done = (value: ReturnType<typeof parseLine>) => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      const ok =
        value &&
        (value.beacon === 'hello' || value.beacon === 'status') &&
        typeof value.version === 'string';
      resolve(ok ? (value as never) : undefined);
    };
    const timer = setTimeout(() => done(undefined), HELLO_TIMEOUT_MS);
    const onClose = () => done(undefined);
    const onData = (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      const nl = buffer.indexOf(10);
      if (nl < 0) {
        if (buffer.length > MAX_HELLO_BYTES) done(undefined);
        return;
      }
      socket.pause();
      const rest = buffer.subarray(nl + 1);
      if (rest.length > 0) socket.unshift(rest);
      done(parseLine(buffer.subarray(0, nl).toString('utf8')));
    };
    socket.on('data', onData);
    socket.once('close', onClose);
  });
}
