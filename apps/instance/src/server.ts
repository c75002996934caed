import { randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { type Clock, isLoopbackHost, type Logger, systemClock } from '@mcp-beacon/runtime';
import type {
  NodeIncomingMessageLike,
  NodeStreamableHTTPServerTransport,
} from '@modelcontextprotocol/node';
import type { McpServer } from '@modelcontextprotocol/server';
import { InstanceError } from './errors.js';

/** Options of {@link startHttpServer}. */
export interface HttpServerOptions {
  /** Port to listen on; 0 takes any free port. */
  port: number;
  /** Bearer token every request must carry; `undefined` turns authentication off. */
  token: string | undefined;
  logger: Logger;
  /** Builds the MCP server for one new session (2025), or for one request (2026-07-28). */
  createSession: () => McpServer;
  /**
   * Loads what {@link createSession} needs; awaited (with the SDK) before the first MCP request
   * is served, so that nothing of it is loaded while no client has asked anything.
   */
  load?: () => Promise<void>;
  /** Largest request body accepted, in bytes (default 4 MiB). */
  maxBodyBytes?: number;
  /** A session with no request and no open stream for this long is ended (default 10 min). */
  sessionIdleMs?: number;
  /** Concurrent sessions; an `initialize` beyond gets HTTP 503 (default 100). */
  maxSessions?: number;
  /** Open TCP connections; more are refused at accept (default 4 096). */
  maxConnections?: number;
  /** A connection that has not made an authenticated request is closed after this (default 10 s). */
  unauthenticatedMs?: number;
  /** Timers of the idle-session sweep and the unauthenticated-socket deadline. */
  clock?: Clock;
}

/** A listening instance HTTP server. */
export interface HttpServer {
  readonly port: number;
  readonly url: string;
  /** Open MCP sessions. */
  readonly sessionCount: number;
  /** MCP servers of the open sessions (for broadcasting log messages). */
  sessions(): McpServer[];
  /** Tells the 2026-07-28 clients' open `subscriptions/listen` streams of a change. */
  readonly modern: ModernNotifier;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** What changed, for the 2026-07-28 clients listening. */
export interface ModernNotifier {
  resourcesChanged(): void;
  resourceUpdated(uri: string): void;
  /** True while some listen stream is open (so updates are worth computing). */
  listening(): boolean;
}

interface Session {
  transport: NodeStreamableHTTPServerTransport;
  server: McpServer;
  /** Requests and streams open now. */
  open: number;
  /** `clock.now()` when the last one closed. */
  lastActive: number;
}

/** The SDK's server side, once loaded, and the 2026-07-28 handler built with it. */
interface Endpoint {
  sdk: typeof import('./_mcp.js');
  bus: InstanceType<typeof import('./_mcp.js').InMemoryServerEventBus>;
  modern: ReturnType<typeof import('./_mcp.js').createMcpHandler>;
  serveModern: ReturnType<typeof import('./_mcp.js').toNodeHandler>;
}

const HOST = '127.0.0.1';

/** True for a Host header naming a loopback host with exactly this port. */
function isLoopbackHostHeader(header: string, port: number): boolean {
  const colon = header.lastIndexOf(':');
  return (
    colon > 0 && header.slice(colon + 1) === String(port) && isLoopbackHost(header.slice(0, colon))
  );
}

/** True for an Origin on a loopback host (any port, http or https). */
function isLoopbackOrigin(origin: string): boolean {
  try {
    const url = new URL(origin);
    return (url.protocol === 'http:' || url.protocol === 'https:') && isLoopbackHost(url.hostname);
  } catch {
    return false;
  }
}

function tokenMatches(header: string | undefined, token: string): boolean {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  if (!match?.[1]) return false;
  const given = Buffer.from(match[1]);
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function sendError(
  res: ServerResponse,
  status: number,
  code: number,
  message: string,
  headers: Record<string, string> = {},
) {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null }));
}

/** The request's method and headers as a web Request (its body is read already). */
function headersOnly(req: IncomingMessage): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers))
    if (typeof value === 'string') headers.set(name, value);
  return new Request('http://127.0.0.1/mcp', { method: req.method ?? 'POST', headers });
}

async function readBody(req: IncomingMessage, limit: number): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new InstanceError('INVALID_INPUT', `request body over ${limit} bytes`);
    chunks.push(chunk);
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

/**
 * Serves MCP over streamable HTTP at `http://127.0.0.1:<port>/mcp` with real sessions.
 * Requests are checked in order: Host must be the loopback host and port, an Origin (if any)
 * must be loopback (DNS-rebinding protection), and the bearer token must match.
 * @throws {InstanceError} `PORT_IN_USE` or `LISTEN_FAILED`.
 */
export async function startHttpServer(options: HttpServerOptions): Promise<HttpServer> {
  const { logger } = options;
  const limit = options.maxBodyBytes ?? 4 * 1024 * 1024;
  const clock = options.clock ?? systemClock;
  const idleMs = options.sessionIdleMs ?? 600_000;
  const maxSessions = options.maxSessions ?? 100;
  const unauthenticatedMs = options.unauthenticatedMs ?? 10_000;
  const sessions = new Map<string, Session>();
  const trusted = new WeakSet<Socket>();
  // The SDK (both eras) is loaded at the first MCP request, with what createSession needs.
  let loading: Promise<Endpoint> | undefined;
  let loaded: Endpoint | undefined;
  const endpoint = () =>
    (loading ??= (async () => {
      const [sdk] = await Promise.all([import('./_mcp.js'), options.load?.()]);
      // 2026-07-28 requests: stateless, one server per request, no session held between them.
      const bus = new sdk.InMemoryServerEventBus();
      const modern = sdk.createMcpHandler(() => options.createSession(), {
        legacy: 'reject',
        bus,
        onerror: (error) => logger.debug(`2026-07-28 request: ${error.message}`),
      });
      loaded = { sdk, bus, modern, serveModern: sdk.toNodeHandler(modern) };
      return loaded;
    })());
  let port = options.port;

  // A session lives while it has a request or stream open, and for `idleMs` after the last.
  const track = (session: Session, res: ServerResponse) => {
    session.open++;
    res.once('close', () => {
      session.open--;
      session.lastActive = clock.now();
    });
  };
  const sweepMs = Math.max(50, Math.min(idleMs / 4, 30_000));
  let sweep: unknown;
  const sweepIdle = () => {
    sweep = clock.setTimeout(() => {
      sweepIdle();
      const now = clock.now();
      for (const [id, session] of sessions) {
        if (session.open > 0 || now - session.lastActive < idleMs) continue;
        logger.debug(`session ${id} idle for ${idleMs} ms: ended`);
        void session.transport.close();
      }
    }, sweepMs);
  };
  sweepIdle();

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const host = req.headers.host ?? '';
    if (!isLoopbackHostHeader(host, port)) {
      logger.warn(`rejected request with Host ${JSON.stringify(host)}`);
      return sendError(
        res,
        403,
        -32000,
        'Forbidden: Host must be a loopback address and this port',
      );
    }
    const origin = req.headers.origin;
    if (origin !== undefined && !isLoopbackOrigin(origin)) {
      logger.warn(`rejected request with Origin ${JSON.stringify(origin)}`);
      return sendError(res, 403, -32000, 'Forbidden: Origin must be a loopback address');
    }
    if (options.token !== undefined && !tokenMatches(req.headers.authorization, options.token)) {
      return sendError(res, 401, -32001, 'Unauthorized: a valid bearer token is required', {
        'www-authenticate': 'Bearer realm="beacon-instance"',
      });
    }
    trust(req.socket);
    if (new URL(req.url ?? '/', 'http://x').pathname !== '/mcp') {
      return sendError(res, 404, -32000, 'Not found: the MCP endpoint is /mcp');
    }
    const sessionHeader = req.headers['mcp-session-id'];
    const sessionId = Array.isArray(sessionHeader) ? sessionHeader[0] : sessionHeader;
    if (sessionId !== undefined) {
      const session = sessions.get(sessionId);
      if (!session) return sendError(res, 404, -32001, 'Session not found');
      track(session, res);
      return session.transport.handleRequest(req, res);
    }
    if (req.method !== 'POST') return sendError(res, 400, -32000, 'Bad request: no session id');
    let body: unknown;
    try {
      body = await readBody(req, limit);
    } catch (error) {
      const tooBig = error instanceof InstanceError;
      return sendError(
        res,
        tooBig ? 413 : 400,
        -32700,
        tooBig ? error.message : 'Parse error: body is not JSON',
      );
    }
    const { sdk, serveModern } = await endpoint();
    // A request of 2026-07-28 (its envelope names the revision) needs no session.
    if (!(await sdk.isLegacyRequest(headersOnly(req), body)))
      return serveModern(req as NodeIncomingMessageLike, res, body);
    if (!sdk.isInitializeRequest(body)) {
      return sendError(
        res,
        400,
        -32000,
        'Bad request: the first request of a session must be initialize',
      );
    }
    if (sessions.size >= maxSessions) {
      logger.warn(`refused a new session: ${maxSessions} sessions are open`);
      return sendError(
        res,
        503,
        -32000,
        `Service unavailable: ${maxSessions} sessions are open; end one (DELETE) or wait for idle ones to expire`,
        { 'retry-after': String(Math.ceil(Math.min(idleMs, 60_000) / 1000)) },
      );
    }
    const server = options.createSession();
    const transport = new sdk.NodeStreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        const session: Session = { transport, server, open: 0, lastActive: clock.now() };
        sessions.set(id, session);
        track(session, res);
        logger.debug(`session ${id} opened`);
      },
    });
    transport.onclose = () => {
      if (transport.sessionId) sessions.delete(transport.sessionId);
      logger.debug(`session ${transport.sessionId ?? '?'} closed`);
    };
    await server.connect(transport);
    await transport.handleRequest(req, res, body);
  };

  const http = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      logger.error(`request failed: ${(error as Error).stack ?? error}`);
      sendError(res, 500, -32603, 'Internal error');
    });
  });
  // Bounds for connections: a slow or silent client cannot hold a socket for long before it
  // authenticates, and the number of sockets is capped below the descriptor limit.
  http.headersTimeout = 10_000;
  http.requestTimeout = 30_000;
  http.keepAliveTimeout = 5_000;
  http.maxRequestsPerSocket = 10_000;
  http.maxConnections = options.maxConnections ?? 4_096;
  const unauthenticated = new Map<Socket, unknown>();
  const trust = (socket: Socket) => {
    if (trusted.has(socket)) return;
    trusted.add(socket);
    clock.clearTimeout(unauthenticated.get(socket));
    unauthenticated.delete(socket);
  };
  http.on('connection', (socket: Socket) => {
    unauthenticated.set(
      socket,
      clock.setTimeout(() => socket.destroy(), unauthenticatedMs),
    );
    socket.once('close', () => {
      clock.clearTimeout(unauthenticated.get(socket));
      unauthenticated.delete(socket);
    });
  });

  await new Promise<void>((resolve, reject) => {
    http.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'EADDRINUSE'
          ? new InstanceError('PORT_IN_USE', `port ${options.port} on ${HOST} is already in use`, {
              cause: error,
            })
          : new InstanceError(
              'LISTEN_FAILED',
              `cannot listen on ${HOST}:${options.port}: ${error.message}`,
              { cause: error },
            ),
      );
    });
    http.listen({ port: options.port, host: HOST, exclusive: true }, () => resolve());
  });
  port = (http.address() as AddressInfo).port;
  const url = `http://${HOST}:${port}/mcp`;

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      clock.clearTimeout(sweep);
      for (const timer of unauthenticated.values()) clock.clearTimeout(timer);
      await Promise.allSettled([...sessions.values()].map((s) => s.transport.close()));
      await (await loading?.catch(() => undefined))?.modern.close().catch(() => undefined);
      sessions.clear();
      await new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      });
    })();
    return closing;
  };
  return {
    port,
    url,
    get sessionCount() {
      return sessions.size;
    },
    sessions: () => [...sessions.values()].map((s) => s.server),
    modern: {
      resourcesChanged: () => loaded?.modern.notify.resourcesChanged(),
      resourceUpdated: (uri) => loaded?.modern.notify.resourceUpdated(uri),
      listening: () => (loaded?.bus.listenerCount ?? 0) > 0,
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
