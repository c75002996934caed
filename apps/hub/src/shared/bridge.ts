// `beacon-hub` as an MCP client launches it: a thin bridge between the client's stdio and the
// user's one hub, reached on its private endpoint and started (detached) when none answers. The
// client's JSON-RPC passes both ways unchanged. If the hub goes away mid-session, the client's
// requests in flight fail with an error saying so, a new hub is started, the session is set up
// again there (initialize, log level, subscriptions) and the client is told its lists changed.
// Loaded first by every client: Node's own modules only, no SDK, no watcher, no HTTP client.

import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { lstat } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { isLogLevel, type LogLevel } from '@mcp-beacon/runtime';
import { VERSION } from '../version.js';
import { checkPrivate, EndpointError, ensureHubDir, type HubEndpoint } from './endpoint.js';
import { answerFrom, type Greeting, readGreeting, writeGreeting } from './greeting.js';
import { tailOf } from './log-file.js';
import { type Hello, isOwnLine, lineReader, parseLine, type SessionRequest } from './wire.js';

/** How long a bridge waits for a hub it started to answer, in ms. */
export const START_TIMEOUT_MS = 15_000;
/** How long the hub may take to welcome a bridge, in ms. */
const HANDSHAKE_TIMEOUT_MS = 10_000;
/** How often a bridge waiting for a hub starts one again when the last one found it taken. */
const RESTART_HUB_MS = 1_000;
/** Most new hubs a bridge starts in a minute after the one it used went away. */
export const MAX_RESTARTS_PER_MINUTE = 5;
/** Most client lines held while the bridge reconnects (more are answered with an error). */
export const MAX_QUEUED_LINES = 1_000;

/** What the bridge needs. */
export interface BridgeOptions {
  endpoint: HubEndpoint;
  session: SessionRequest;
  /** The hub-wide flags a hub this bridge starts gets. */
  hubArgs: readonly string[];
  /** The beacon-hub script to start the hub with (`node <cli> daemon ...`). */
  cli: string;
  /** Where a started hub runs (the data folder, so it holds no project's folder open). */
  cwd: string;
  logLevel: string;
}

type Id = string | number;

/** The list a request asks for, by its method. */
const LISTS: Record<string, string> = {
  'tools/list': 'tools',
  'resources/list': 'resources',
  'resources/templates/list': 'resources',
  'prompts/list': 'prompts',
};

/** Log levels, most severe first (as `--log-level` orders them). */
const LEVELS: readonly LogLevel[] = ['silent', 'error', 'warn', 'info', 'debug'];

const keyOf = (id: unknown) => JSON.stringify(id);

/** A JSON-RPC error line answering request `id`. */
const errorLine = (id: unknown, message: string) =>
  `${JSON.stringify({ jsonrpc: '2.0', id, error: { code: -32603, message } })}\n`;

/** Runs the bridge until the client closes its stdin. */
export async function runBridge(options: BridgeOptions): Promise<void> {
  const { endpoint } = options;
  const level: LogLevel = isLogLevel(options.logLevel) ? options.logLevel : 'warn';
  const say = (at: Exclude<LogLevel, 'silent'>, message: string) => {
    if (LEVELS.indexOf(at) <= LEVELS.indexOf(level))
      process.stderr.write(`beacon-hub: ${message}\n`);
  };
  // Each side is read only as fast as the other takes it, so a large result crossing a slow
  // client pipe holds the hub's later messages (a remote link's pings among them) in the hub,
  // where they can pass it, not queued behind it here.
  const out = (text: string) => {
    if (process.stdout.write(text)) return;
    const from = socket;
    from?.pause();
    process.stdout.once('drain', () => from?.resume());
  };

  /** The client's requests the hub has not answered, by id: their method. */
  const pending = new Map<string, string>();
  /** Ids of requests the bridge sent on its own (a replay): their answers are not relayed. */
  const internal = new Set<string>();
  /** The hub's requests to the client under a changed id (after a restart): their own id. */
  const renamed = new Map<string, Id>();
  /** The hub's requests to the client, as sent; after a restart an answer to one is dropped. */
  let asked = new Set<string>();
  let stale = new Set<string>();
  /** What a new hub must be told to carry the session on. */
  let initialize: Record<string, unknown> | undefined;
  let initialized = false;
  let logLevel: unknown;
  const subscriptions = new Set<string>();
  /** The kinds of list the client has asked for (only those are worth a `list_changed`). */
  const listed = new Set<string>();

  let socket: Socket | undefined;
  let hubPid = 0;
  let generation = 0;
  let stopping = false;
  const queue: string[] = [];
  const restarts: number[] = [];
  /** Why no hub can be reached: every request is answered with it until the bridge exits. */
  let failing: string | undefined;
  /** What a hub of this endpoint answered to `initialize` before, if one did. */
  let greeting: Greeting | undefined = readGreeting(endpoint.greeting, VERSION);
  /** The client's `initialize` this bridge answered itself: the hub's answer is not relayed. */
  let answered: string | undefined;
  /** The client's `initialize` in flight to the hub: the version it asked for. */
  let asking: { key: string; requested: unknown } | undefined;

  const toHub = (line: string) => {
    if (!socket || socket.destroyed || socket.write(`${line}\n`)) return;
    process.stdin.pause();
    socket.once('drain', () => process.stdin.resume());
  };

  /** A line from the client: noted as needed, then passed on (or held while reconnecting). */
  const fromClient = (line: string) => {
    const message = parseLine(line);
    if (failing !== undefined) {
      if (message && 'id' in message && 'method' in message) out(errorLine(message.id, failing));
      return;
    }
    let forward = line;
    if (message && 'id' in message && !('method' in message)) {
      const key = keyOf(message.id);
      if (stale.has(key)) return;
      const own = renamed.get(key);
      if (own !== undefined) {
        renamed.delete(key);
        forward = JSON.stringify({ ...message, id: own });
      }
      asked.delete(key);
    } else if (message && typeof message.method === 'string') {
      const params = message.params as Record<string, unknown> | undefined;
      if ('id' in message) pending.set(keyOf(message.id), message.method);
      const kind = LISTS[message.method];
      if (kind) listed.add(kind);
      if (message.method === 'initialize' && 'id' in message) {
        initialize = message;
        const key = keyOf(message.id);
        asking = { key, requested: params?.protocolVersion };
        // Answered at once from what a hub of this endpoint said before; the hub is told too.
        const result = answerFrom(greeting, params?.protocolVersion);
        if (result) {
          answered = key;
          // Answered: if the hub goes away before its own answer, there is nothing to fail.
          pending.delete(key);
          out(`${JSON.stringify({ jsonrpc: '2.0', id: message.id, result })}\n`);
        }
      } else if (message.method === 'notifications/initialized') initialized = true;
      else if (message.method === 'logging/setLevel') logLevel = params?.level;
      else if (message.method === 'resources/subscribe' && typeof params?.uri === 'string')
        subscriptions.add(params.uri);
      else if (message.method === 'resources/unsubscribe' && typeof params?.uri === 'string')
        subscriptions.delete(params.uri);
    }
    if (socket) return toHub(forward);
    if (queue.length < MAX_QUEUED_LINES) return void queue.push(forward);
    if (message && 'id' in message && 'method' in message) {
      pending.delete(keyOf(message.id));
      out(
        errorLine(
          message.id,
          'the Beacon hub is restarting and holds too many requests; try again',
        ),
      );
    }
  };

  /** A line from the hub: its own lines are handled here, the rest go to the client. */
  const fromHub = (line: string) => {
    const message = parseLine(line);
    if (!message) return say('debug', `dropped a line from the hub that is not JSON`);
    if (isOwnLine(message)) {
      if (message.beacon === 'log' && typeof message.message === 'string') {
        const at = message.level;
        say(at === 'error' || at === 'info' || at === 'debug' ? at : 'warn', message.message);
      }
      return;
    }
    if ('id' in message && !('method' in message)) {
      const key = keyOf(message.id);
      if (internal.delete(key)) {
        const error = message.error as { message?: string } | undefined;
        if (error) say('warn', `the new hub refused the session's set-up: ${error.message ?? ''}`);
        return;
      }
      pending.delete(key);
      if (asking?.key === key) keepGreeting(asking.requested, message.result);
      if (answered === key) {
        answered = undefined;
        const error = message.error as { message?: string } | undefined;
        if (error) say('error', `the hub refused this client's initialize: ${error.message ?? ''}`);
        return;
      }
      return out(`${line}\n`);
    }
    if ('id' in message && typeof message.method === 'string') {
      if (generation === 0) asked.add(keyOf(message.id));
      else {
        // A request of a later hub gets an id no earlier hub used, so a late answer to an
        // earlier hub's request never reaches this one.
        const id = `beacon-hub:${generation}:${keyOf(message.id)}`;
        renamed.set(keyOf(id), message.id as Id);
        return out(`${JSON.stringify({ ...message, id })}\n`);
      }
    }
    out(`${line}\n`);
  };

  /** Keeps what the hub answered to an `initialize` asking for `requested`, for the next bridge. */
  const keepGreeting = (requested: unknown, result: unknown) => {
    asking = undefined;
    if (typeof requested !== 'string' || typeof result !== 'object' || result === null) return;
    const { protocolVersion, ...rest } = result as Record<string, unknown>;
    if (typeof protocolVersion !== 'string') return;
    const next: Greeting = {
      version: VERSION,
      answers: { ...(greeting?.answers ?? {}), [requested]: protocolVersion },
      result: rest,
    };
    if (JSON.stringify(next) === JSON.stringify(greeting)) return;
    greeting = next;
    writeGreeting(endpoint.greeting, next);
  };

  const stop = () => {
    if (stopping) return;
    stopping = true;
    if (socket) socket.end();
    else process.exit(0);
    // The hub closes its side at once; a hub that does not is not waited for long.
    setTimeout(() => process.exit(0), 2_000).unref();
  };
  process.stdin.on(
    'data',
    lineReader(fromClient, () => {
      say('error', 'a message from the MCP client is too long; closing');
      process.exit(1);
    }),
  );
  process.stdin.on('end', stop);
  process.stdin.on('close', stop);
  process.stdout.on('error', () => process.exit(0));

  const attach = async (): Promise<void> => {
    const { socket: next, pid } = await reach(options, say);
    hubPid = pid;
    socket = next;
    next.on(
      'data',
      lineReader(fromHub, () => {
        say('error', 'a message from the hub is too long; reconnecting');
        next.destroy();
      }),
    );
    next.on('error', () => undefined);
    next.resume();
    next.on('close', () => {
      if (socket === next) socket = undefined;
      if (stopping) process.exit(0);
      void recover();
    });
  };

  /** The hub went away: fail what it held, start or find a new one, set the session up again. */
  const recover = async () => {
    const was = hubPid;
    // The client is read again (it may have waited for the old socket to drain).
    process.stdin.resume();
    generation++;
    stale = new Set([...stale, ...asked]);
    asked = new Set();
    renamed.clear();
    internal.clear();
    for (const [key, method] of pending)
      out(
        errorLine(
          JSON.parse(key),
          `the Beacon hub (pid ${was}) stopped while ${method} was in flight; a new hub is taking over: try again`,
        ),
      );
    pending.clear();
    const now = Date.now();
    restarts.push(now);
    while (restarts.length > 0 && now - restarts[0]! > 60_000) restarts.shift();
    if (restarts.length > MAX_RESTARTS_PER_MINUTE) {
      say(
        'error',
        `the Beacon hub stopped ${restarts.length} times in a minute; giving up (its log: ${endpoint.log})`,
      );
      process.exit(1);
    }
    say('warn', `the Beacon hub (pid ${was}) stopped; starting a new one`);
    try {
      await attach();
    } catch (error) {
      say('error', (error as Error).message);
      process.exit(1);
    }
    say('info', `carrying the session on with the Beacon hub (pid ${hubPid})`);
    const replay = (method: string, params: unknown) => {
      const id = `beacon-hub:replay:${generation}:${internal.size}`;
      internal.add(keyOf(id));
      toHub(
        JSON.stringify({ jsonrpc: '2.0', id, method, ...(params === undefined ? {} : { params }) }),
      );
    };
    if (initialize) {
      replay('initialize', initialize.params);
      if (initialized)
        toHub(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
      if (logLevel !== undefined) replay('logging/setLevel', { level: logLevel });
      for (const uri of subscriptions) replay('resources/subscribe', { uri });
    }
    flush();
    // What the client listed came from the hub that left: it lists again.
    if (initialize && initialized)
      for (const kind of listed)
        out(
          `${JSON.stringify({ jsonrpc: '2.0', method: `notifications/${kind}/list_changed` })}\n`,
        );
  };

  /** The client's lines held while no hub was attached, in order. */
  const flush = () => {
    for (const line of queue.splice(0)) toHub(line);
  };
  try {
    await attach();
    flush();
  } catch (error) {
    failing = `beacon-hub: ${(error as Error).message}`;
    process.stderr.write(`${failing}\n`);
    // The client's log shows why: its requests held meanwhile, and those of the next second,
    // are answered with it.
    for (const line of queue.splice(0)) fromClient(line);
    pending.clear();
    setTimeout(() => process.exit(2), 1_000);
  }
}

/**
 * Connects to the hub of `options.endpoint`, starting one when none answers, and checks that it
 * is a Beacon hub of this version.
 * @throws {EndpointError} for an endpoint that is not the user's own, a hub that refuses, or
 *   none that answers in time.
 */
async function reach(
  options: BridgeOptions,
  say: (at: 'error' | 'warn' | 'info' | 'debug', message: string) => void,
): Promise<{ socket: Socket; pid: number }> {
  const { endpoint } = options;
  await ensureHubDir(endpoint.dir);
  const deadline = Date.now() + START_TIMEOUT_MS;
  let child: ChildProcess | undefined;
  let nextStart = 0;
  let failed: string | undefined;
  for (;;) {
    if (process.platform !== 'win32') {
      const there = await lstat(endpoint.address).then(
        () => true,
        () => false,
      );
      if (there) await checkPrivate(endpoint.address, 'socket');
    }
    const socket = await open(endpoint.address);
    if (socket) {
      // A hub that dies as it is reached (its listener outlives it a moment) is not an answer.
      const pid = await greet(socket, options.session, options.logLevel).catch((error: Error) => {
        if (error instanceof EndpointError) throw error;
        return undefined;
      });
      if (pid !== undefined) return { socket, pid };
    }
    if (failed !== undefined) throw new EndpointError(failed);
    if (!child && Date.now() >= nextStart) {
      const started = startHub(options);
      child = started;
      nextStart = Date.now() + RESTART_HUB_MS;
      say('info', `starting the Beacon hub (pid ${started.pid ?? '?'})`);
      started.once('exit', (code, signal) => {
        // One that found another hub starting exits 0: that one is waited for, and if none
        // comes to answer, a hub is started again (the lock's holder may have died meanwhile).
        if (code === 0) {
          if (child === started) child = undefined;
          return;
        }
        const tail = tailOf(endpoint.log, 2_000).trim();
        failed = `the Beacon hub did not start (${signal ?? `exit code ${code}`})${tail ? `:\n${tail}` : ''}`;
      });
    }
    if (Date.now() > deadline)
      throw new EndpointError(
        `no Beacon hub answered at ${endpoint.address} within ${START_TIMEOUT_MS} ms (its log: ${endpoint.log})`,
      );
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A connection to `address`, or undefined when nothing listens there. */
function open(address: string): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const socket = connect(address);
    socket.once('connect', () => {
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.once('error', () => {
      socket.destroy();
      resolve(undefined);
    });
  });
}

/**
 * Says hello and waits for the hub's welcome; the lines after it are left in the socket.
 * @throws {EndpointError} when the hub refuses, is not a Beacon hub of this version, or is
 *   silent; a plain `Error` when it closes the connection first (it was going away).
 */
function greet(socket: Socket, session: SessionRequest, logLevel: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const fail = (message: string, transient = false) => {
      clearTimeout(timer);
      socket.destroy();
      reject(transient ? new Error(message) : new EndpointError(message));
    };
    const timer = setTimeout(
      () => fail(`the hub did not answer within ${HANDSHAKE_TIMEOUT_MS} ms`),
      HANDSHAKE_TIMEOUT_MS,
    );
    let buffer = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      const nl = buffer.indexOf(10);
      if (nl < 0) {
        if (buffer.length > 64 * 1024) fail('what answered is not a Beacon hub');
        return;
      }
      socket.off('data', onData);
      socket.off('close', onClose);
      socket.pause();
      const rest = buffer.subarray(nl + 1);
      if (rest.length > 0) socket.unshift(rest);
      const line = parseLine(buffer.subarray(0, nl).toString('utf8'));
      clearTimeout(timer);
      // Paused until the relay's reader is attached, so nothing after the welcome is lost.
      if (line?.beacon === 'welcome' && line.version === VERSION && typeof line.pid === 'number')
        return resolve(line.pid);
      if (line?.beacon === 'refused')
        return fail(`the Beacon hub refused this client: ${String(line.reason)}`);
      fail(
        line?.beacon === 'welcome'
          ? `the hub answering is version ${String(line.version)}, not ${VERSION}`
          : 'what answered is not a Beacon hub',
      );
    };
    const onClose = () => fail('the hub closed the connection before welcoming this client', true);
    socket.on('data', onData);
    socket.once('close', onClose);
    socket.on('error', () => undefined);
    const hello: Hello = { beacon: 'hello', version: VERSION, session, logLevel };
    socket.write(`${JSON.stringify(hello)}\n`);
  });
}

/**
 * V8 flags the shared hub is started with, which only take effect on the command line: young
 * generation halves of at most 1 MiB keep a busy hub's peaks down (with 50 instances, right after
 * a burst of lists: 94-98 MiB instead of 94-111), at no cost a call through the hub showed
 * (bench/README.md, "The hub at 50 instances").
 */
export const SHARED_HUB_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1'];

/** Starts the hub, detached, logging to its own file. */
function startHub(options: BridgeOptions): ChildProcess {
  const log = openSync(options.endpoint.log, 'a', 0o600);
  try {
    const args = [...SHARED_HUB_NODE_FLAGS, options.cli, 'daemon', ...options.hubArgs];
    const child = spawn(process.execPath, args, {
      cwd: options.cwd,
      detached: true,
      stdio: ['ignore', 'ignore', log],
      windowsHide: true,
    });
    child.unref();
    return child;
  } finally {
    closeSync(log);
  }
}
