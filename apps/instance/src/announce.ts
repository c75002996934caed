import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { type BeaconPaths, resolvePaths } from '@mcp-beacon/paths';
import {
  findPortOwner,
  isLoopbackHttpUrl,
  type Registration,
  register,
} from '@mcp-beacon/registry';
import {
  type Clock,
  cleanText,
  exitStatus,
  type Logger,
  sleep,
  systemClock,
} from '@mcp-beacon/runtime';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { InstanceError } from './errors.js';
import { VERSION } from './instance.js';

/** Options of {@link announce}. */
export interface AnnounceOptions {
  /** The MCP server's streamable-HTTP URL; must be http on a loopback address. */
  url: string;
  name?: string;
  /** Project path recorded for the server (default: the current directory). */
  path?: string;
  /** Bearer token the server requires (sent by announce and by the hub). */
  token?: string;
  logger: Logger;
  paths?: BeaconPaths;
  /** Ping period over the kept session, in ms (default 5 000); in 2026-07-28 a ping is `server/discover`. */
  intervalMs?: number;
  /** Bound on the handshake and on each ping, in ms (default 2 000). */
  timeoutMs?: number;
  /** Starts this server first (`announce -- <command> [args]`) and announces it once it answers. */
  command?: readonly string[];
  /** How long the started server may take to answer MCP, in ms (default 30 000). */
  startTimeoutMs?: number;
  /** Timers of the pings, the start-up polls and the kill deadline (default: the real clock). */
  clock?: Clock;
}

/** How an announcement ended. */
export type AnnouncementEnd =
  | { how: 'stopped' }
  | { how: 'unreachable'; reason: string }
  | { how: 'exited'; code: number };

/** A running announcement; `done` settles when it ends. */
export interface Announcement {
  readonly registration: Registration;
  readonly done: Promise<AnnouncementEnd>;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * An MCP connection with the announced server, kept for pings: MCP 2026-07-28 with any server
 * that answers `server/discover` (the SDK probes first, so also one serving both revisions),
 * else a 2025-11-25 session after `initialize`.
 */
async function openSession(url: string, token: string | undefined, timeoutMs: number) {
  const client = new Client(
    { name: 'beacon-announce', version: VERSION },
    { versionNegotiation: { mode: 'auto' } },
  );
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    requestInit: token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } },
  });
  try {
    await client.connect(transport, { timeout: timeoutMs });
  } catch (error) {
    await client.close().catch(() => undefined);
    throw new InstanceError(
      'UNREACHABLE',
      `no MCP server answers at ${url}: ${cleanText((error as Error).message)}`,
      { cause: error },
    );
  }
  return { client, transport };
}

/**
 * Asks the server, within `timeoutMs`, whether it still answers, in the session's revision:
 * `ping` in 2025-11-25; 2026-07-28 has no `ping`, so there `server/discover`, which every
 * server of that revision answers.
 */
async function checkAlive(client: Client, timeoutMs: number): Promise<void> {
  if (client.getProtocolEra() === 'modern') await client.discover({ timeout: timeoutMs });
  else await client.ping({ timeout: timeoutMs });
}

/**
 * Announces an MCP server: writes its record only after the MCP handshake succeeds, keeps
 * that one session and pings over it, and withdraws the record as soon as a ping fails, the
 * session is lost, or (with `command`) the server process exits. The record's pid is the
 * server's: the started child, else the process that holds the URL's port (Linux), else this
 * one.
 * @throws {InstanceError} `INVALID_INPUT` for a non-loopback URL; `UNREACHABLE` when no MCP
 * server answers (nothing is written then).
 */
export async function announce(options: AnnounceOptions): Promise<Announcement> {
  const { logger } = options;
  const clock = options.clock ?? systemClock;
  if (!isLoopbackHttpUrl(options.url)) {
    throw new InstanceError(
      'INVALID_INPUT',
      `--url must be http on a loopback address, got ${options.url}`,
    );
  }
  const timeoutMs = options.timeoutMs ?? 2_000;
  const parsed = new URL(options.url);
  const port = Number(parsed.port || 80);

  let child: ChildProcess | undefined;
  let childExit: Promise<number> | undefined;
  let session: Awaited<ReturnType<typeof openSession>>;
  if (options.command && options.command.length > 0) {
    const [file, ...args] = options.command as [string, ...string[]];
    const started = spawn(file, args, { stdio: ['ignore', 'inherit', 'inherit'] });
    child = started;
    childExit = new Promise<number>((resolve) => {
      started.once('error', (error) => {
        logger.error(`cannot start ${file}: ${error.message}`);
        resolve(127);
      });
      started.once('exit', (code, signal) => resolve(exitStatus(code, signal)));
    });
    const deadline = clock.now() + (options.startTimeoutMs ?? 30_000);
    let exited: number | undefined;
    void childExit.then((code) => {
      exited = code;
    });
    for (;;) {
      try {
        session = await openSession(options.url, options.token, timeoutMs);
        break;
      } catch (error) {
        if (exited !== undefined)
          throw new InstanceError(
            'UNREACHABLE',
            `${file} exited with code ${exited} before answering at ${options.url}`,
          );
        if (clock.now() > deadline) {
          started.kill('SIGTERM');
          throw error;
        }
        await sleep(clock, 250);
      }
    }
  } else {
    session = await openSession(options.url, options.token, timeoutMs);
  }

  const pid = child?.pid ?? (await findPortOwner(port)) ?? process.pid;
  const dir = path.resolve(options.path ?? process.cwd());
  let registration: Registration;
  try {
    registration = await register({
      paths: options.paths ?? resolvePaths(),
      record: {
        pid,
        path: dir,
        port,
        name: cleanText(options.name ?? (path.basename(dir) || parsed.host)),
        has_package_json: false,
        url: options.url,
        ...(options.token === undefined ? {} : { token: options.token }),
      },
      onHeartbeatError: (error) => logger.warn(`heartbeat failed: ${error.message}`),
    });
  } catch (error) {
    await session.client.close().catch(() => undefined);
    child?.kill('SIGTERM');
    throw error;
  }
  logger.info(`announced ${options.url} (pid ${pid}) as ${registration.id}`);

  let finish!: (end: AnnouncementEnd) => void;
  const done = new Promise<AnnouncementEnd>((resolve) => {
    finish = resolve;
  });
  let ending: Promise<void> | undefined;
  let timer: unknown;
  // The clock's timers do not hold the process; the announcement does, until it ends.
  const hold = setInterval(() => undefined, 2 ** 30);
  const end = (result: AnnouncementEnd) => {
    ending ??= (async () => {
      clock.clearTimeout(timer);
      await registration.close().catch(() => undefined);
      if (result.how === 'unreachable')
        logger.warn(`${options.url} ${result.reason}; record withdrawn`);
      await session.transport.terminateSession().catch(() => undefined);
      await session.client.close().catch(() => undefined);
      if (child && child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const killer = clock.setTimeout(() => child?.kill('SIGKILL'), 3_000);
        await childExit;
        clock.clearTimeout(killer);
      }
      clearInterval(hold);
      finish(result);
    })();
    return ending;
  };

  const ping = async () => {
    if (ending) return;
    try {
      await checkAlive(session.client, timeoutMs);
    } catch (error) {
      await end({ how: 'unreachable', reason: `stopped answering (${(error as Error).message})` });
      return;
    }
    clock.clearTimeout(timer);
    timer = clock.setTimeout(() => void ping(), options.intervalMs ?? 5_000);
  };
  // A transport error (the event stream dropped, a refused request) is checked at once.
  session.client.onerror = () => void ping();
  session.client.onclose = () => void end({ how: 'unreachable', reason: 'closed the session' });
  void childExit?.then((code) => end({ how: 'exited', code }));
  timer = clock.setTimeout(() => void ping(), options.intervalMs ?? 5_000);
  const close = () => end({ how: 'stopped' });
  return { registration, done, close, [Symbol.asyncDispose]: close };
}
