// A proxy in front of one dev server origin, on 127.0.0.1 and a port of its own: everything is
// forwarded unchanged (methods, bodies, streaming, compression, redirects, WebSocket upgrades
// for HMR) on undici and ws, except that HTML documents get the page script, the script's own
// paths (`/__beacon/...`) are answered here, and the proxy's origin is the dev server's on the
// way in (Host, Origin, Referer) and the proxy's again on the way out (Location, CORS, cookies).

import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Dispatcher, Pool as UndiciPool } from 'undici';
import { WebSocket, WebSocketServer } from 'ws';
import { socketRouteScript } from './_socket-route.js';
import { decode, endToEnd, readAll } from './bodies.js';
import { allowPageScript, injectScript } from './csp.js';
import { BEACON_PATH } from './page-script.js';

// undici's index loads every part of undici (fetch, WebSocket, caches, mocks, proxies), about
// 8 MiB more RSS than the proxy uses: its Pool and `request` are loaded from their own files
// (undici is pinned; its package has no exports map).
const require = createRequire(import.meta.url);
const Pool: typeof UndiciPool = require('undici/lib/dispatcher/pool.js');
const poolRequest: (
  this: UndiciPool,
  options: Omit<Dispatcher.RequestOptions, 'origin'>,
) => Promise<Dispatcher.ResponseData> = require('undici/lib/api/api-request.js');

/** What a proxy asks of the instance for its own paths. */
export interface PageChannel {
  /** The page script's source. */
  script(): string;
  /** The instance's secret the page's requests carry. */
  readonly key: string;
  /** A POST to `/__beacon/<what>` from a page of `origin`, its body parsed. */
  handle(what: string, body: unknown, origin: string, res: ServerResponse): void;
}

/** A running page proxy. */
export interface PageProxy {
  /** `http://127.0.0.1:<port>`. */
  readonly origin: string;
  /** The dev server origin it forwards to. */
  readonly upstream: string;
  /** A text from the dev server (a script or a source map), or undefined (8 MiB at most). */
  fetchText(url: string): Promise<string | undefined>;
  /**
   * The JavaScript it served lately (its own URLs, at most {@link SERVED_SCRIPTS}), newest
   * first; `serial` grows each time a URL is served again (a rebuilt bundle).
   */
  scripts(): Array<{ url: string; serial: number }>;
  close(): Promise<void>;
}

/**
 * Largest HTML document rewritten, in bytes, both as received and once decoded from its
 * content encoding (a larger one, or one that inflates past it, is answered with 502).
 */
export const MAX_HTML_BYTES = 16 * 1024 * 1024;
const MAX_HTML_MIB = MAX_HTML_BYTES / 1024 / 1024;
/** Largest body of a page's own request, in bytes. */
const MAX_CHANNEL_BODY = 256 * 1024;
const MAX_TEXT = 8 * 1024 * 1024;
/** Script URLs a proxy remembers having served (where webpack's `eval` modules are looked up). */
export const SERVED_SCRIPTS = 16;

/**
 * Starts a proxy for `upstream` (an origin such as `http://localhost:5173`) on 127.0.0.1.
 * It answers only requests whose Host is its own address.
 */
export async function startPageProxy(options: {
  upstream: string;
  channel: PageChannel;
  log?: (message: string) => void;
}): Promise<PageProxy> {
  const upstream = new URL(options.upstream);
  const pool = new Pool(upstream.origin, { connections: 32, pipelining: 1 });
  const wss = new WebSocketServer({ noServer: true, handleProtocols: (p) => [...p][0] ?? false });
  const sockets = new Set<Duplex>();
  let port = 0;
  const hosts = () => new Set([`127.0.0.1:${port}`, `localhost:${port}`]);
  const origins = () => new Set([`http://127.0.0.1:${port}`, `http://localhost:${port}`]);
  const ownOrigin = () => `http://127.0.0.1:${port}`;
  const routeScript = socketRouteScript(upstream);
  const served = new Map<string, number>();
  let serial = 0;
  const remember = (path: string) => {
    const url = `${ownOrigin()}${path}`;
    served.delete(url);
    served.set(url, ++serial);
    if (served.size > SERVED_SCRIPTS) served.delete(served.keys().next().value!);
  };

  // The dev server is sent what it would get from the browser directly: its own Host, and its
  // own origin where the page's (the proxy's) is, in Origin and Referer. Another site's origin
  // stays as it is, so a dev server that refuses other origins (Next.js) still refuses it.
  const toUpstream = (value: string) => {
    for (const origin of origins())
      if (value === origin || value.startsWith(`${origin}/`))
        return `${upstream.origin}${value.slice(origin.length)}`;
    return value;
  };
  const forwardHeaders = (req: IncomingMessage): Record<string, string | string[]> => {
    const headers = endToEnd(req.headers);
    headers.host = upstream.host;
    for (const name of ['origin', 'referer']) {
      const value = headers[name];
      if (typeof value === 'string') headers[name] = toUpstream(value);
    }
    return headers;
  };
  // And back: the dev server's origin in a redirect or a CORS answer becomes the proxy origin
  // the page is at (the request's Host, checked to be the proxy's), and a cookie for the dev
  // server's host or a loopback name becomes the proxy host's.
  const answerHeaders = (
    req: IncomingMessage,
    raw: Record<string, string | string[] | undefined>,
  ): Record<string, string | string[]> => {
    const headers = endToEnd(raw);
    const page = `http://${req.headers.host}`;
    const location = headers.location;
    if (typeof location === 'string') {
      try {
        const target = new URL(location, upstream);
        if (target.origin === upstream.origin)
          headers.location = `${page}${target.pathname}${target.search}${target.hash}`;
      } catch {
        // Not a URL: passed on as it is.
      }
    }
    if (headers['access-control-allow-origin'] === upstream.origin) {
      const origin = req.headers.origin;
      headers['access-control-allow-origin'] =
        origin !== undefined && origins().has(origin) ? origin : page;
    }
    const cookies = headers['set-cookie'];
    if (cookies !== undefined)
      headers['set-cookie'] = (Array.isArray(cookies) ? cookies : [cookies]).map((line) =>
        withoutDomainOf(line, [upstream.hostname, '127.0.0.1', 'localhost']),
      );
    return headers;
  };

  const answerOwn = async (req: IncomingMessage, res: ServerResponse, pathname: string) => {
    const what = pathname.slice(BEACON_PATH.length + 1);
    if (req.method === 'GET' && what === 'page.js') {
      res.writeHead(200, {
        'content-type': 'text/javascript; charset=utf-8',
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
      });
      res.end(`${options.channel.script()}\n${routeScript}`);
      return;
    }
    // The page's channel: same origin only (a page elsewhere cannot post here or read the
    // answers), with the instance's secret, a bounded JSON body.
    const origin = req.headers.origin;
    if (
      req.method !== 'POST' ||
      origin === undefined ||
      !origins().has(origin) ||
      req.headers['x-beacon-key'] !== options.channel.key ||
      !['events', 'poll', 'result'].includes(what)
    ) {
      res.writeHead(403, { 'content-type': 'text/plain' }).end('forbidden');
      req.resume();
      return;
    }
    const body = await readAll(req, MAX_CHANNEL_BODY).catch(() => undefined);
    let parsed: unknown;
    try {
      parsed = body === undefined ? undefined : JSON.parse(body.toString('utf8'));
    } catch {
      parsed = undefined;
    }
    if (parsed === undefined) {
      res.writeHead(400, { 'content-type': 'text/plain' }).end('bad body');
      return;
    }
    options.channel.handle(what, parsed, ownOrigin(), res);
  };

  const forward = async (req: IncomingMessage, res: ServerResponse) => {
    const abort = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) abort.abort();
    });
    const method = req.method ?? 'GET';
    let answer: Dispatcher.ResponseData;
    try {
      answer = await poolRequest.call(pool, {
        method: method as 'GET',
        path: req.url ?? '/',
        headers: forwardHeaders(req),
        body: method === 'GET' || method === 'HEAD' ? null : req,
        signal: abort.signal,
      });
    } catch (error) {
      if (!res.headersSent)
        res
          .writeHead(502, { 'content-type': 'text/plain' })
          .end(`beacon page proxy: ${upstream.origin} did not answer: ${(error as Error).message}`);
      return;
    }
    const headers = answerHeaders(req, answer.headers);
    const type = String(headers['content-type'] ?? '');
    const html =
      /^text\/html\b/i.test(type) &&
      method === 'GET' &&
      answer.statusCode >= 200 &&
      answer.statusCode < 300;
    if (!html) {
      if (
        method === 'GET' &&
        answer.statusCode === 200 &&
        /^(?:text|application)\/(?:javascript|ecmascript)\b/i.test(type)
      )
        remember(req.url ?? '/');
      res.writeHead(answer.statusCode, headers);
      answer.body.pipe(res);
      answer.body.on('error', () => res.destroy());
      return;
    }
    const raw = await readAll(answer.body, MAX_HTML_BYTES).catch(() => undefined);
    const header = headers['content-encoding'];
    const encoding = Array.isArray(header) ? header.join(',') : header;
    const decoded = raw && (await decode(raw, encoding, MAX_HTML_BYTES));
    if (decoded === undefined || !decoded.ok) {
      // Too large, cut off, or in an encoding not read here: not rewritten (and not cut).
      const why =
        decoded === undefined
          ? `the document is larger than ${MAX_HTML_MIB} MiB or was cut off`
          : decoded.reason === 'too-large'
            ? `the dev server's response inflates past ${MAX_HTML_MIB} MiB (${encoding})`
            : decoded.reason === 'corrupt'
              ? `the document is not valid ${encoding}`
              : `the document's encoding (${encoding}) is not one read here`;
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`beacon page proxy: ${why}; not rewritten`);
      return;
    }
    const nonce = randomBytes(16).toString('base64');
    const text = injectScript(decoded.body.toString('utf8'), `${BEACON_PATH}/page.js`, nonce);
    delete headers['content-encoding'];
    delete headers['content-length'];
    delete headers.etag;
    for (const name of ['content-security-policy', 'content-security-policy-report-only']) {
      const policy = headers[name];
      if (policy === undefined) continue;
      headers[name] = Array.isArray(policy)
        ? policy.map((p) => allowPageScript(p, nonce))
        : allowPageScript(policy, nonce);
    }
    const body = Buffer.from(text, 'utf8');
    headers['content-length'] = String(body.length);
    res.writeHead(answer.statusCode, headers);
    res.end(body);
  };

  const server: Server = createServer((req, res) => {
    if (!hosts().has(req.headers.host ?? '')) {
      res.writeHead(421, { 'content-type': 'text/plain' }).end('wrong host');
      req.resume();
      return;
    }
    const pathname = (req.url ?? '/').split('?')[0] ?? '/';
    const handling = pathname.startsWith(`${BEACON_PATH}/`)
      ? answerOwn(req, res, pathname)
      : forward(req, res);
    handling.catch((error: Error) => {
      options.log?.(`page proxy ${upstream.origin}: ${error.message}`);
      if (!res.headersSent) res.writeHead(502).end();
      else res.destroy();
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  // WebSocket upgrades (Vite's and webpack's HMR) are bridged message by message.
  server.on('upgrade', (req, socket, head) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    if (!hosts().has(req.headers.host ?? '') || (req.url ?? '').startsWith(`${BEACON_PATH}/`)) {
      socket.destroy();
      return;
    }
    const target = new URL(req.url ?? '/', upstream);
    target.protocol = upstream.protocol === 'https:' ? 'wss:' : 'ws:';
    const protocols = String(req.headers['sec-websocket-protocol'] ?? '')
      .split(',')
      .map((p) => p.trim())
      .filter((p) => p !== '');
    const forwarded = forwardHeaders(req);
    const headers: Record<string, string> = {};
    for (const name of ['origin', 'referer', 'cookie', 'user-agent']) {
      const value = forwarded[name];
      if (typeof value === 'string') headers[name] = value;
    }
    const up = new WebSocket(target, protocols, { headers, perMessageDeflate: false });
    up.on('error', () => socket.destroy());
    up.on('unexpected-response', () => socket.destroy());
    up.on('open', () => {
      wss.handleUpgrade(req, socket, head, (down) => {
        const closeCode = (code: number) => (code === 1005 || code === 1006 ? 1000 : code);
        up.on(
          'message',
          (data, binary) => down.readyState === down.OPEN && down.send(data, { binary }),
        );
        down.on(
          'message',
          (data, binary) => up.readyState === up.OPEN && up.send(data, { binary }),
        );
        up.on('close', (code, reason) => down.close(closeCode(code), reason));
        down.on('close', (code, reason) => up.close(closeCode(code), reason));
        down.on('error', () => up.terminate());
      });
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  port = (server.address() as { port: number }).port;

  return {
    get origin() {
      return ownOrigin();
    },
    upstream: upstream.origin,
    async fetchText(url) {
      const target = new URL(url);
      try {
        const answer = await poolRequest.call(pool, {
          method: 'GET',
          path: `${target.pathname}${target.search}`,
          headers: { host: upstream.host, accept: '*/*' },
        });
        if (answer.statusCode !== 200) {
          answer.body.resume();
          return undefined;
        }
        const body = await readAll(answer.body, MAX_TEXT);
        return body?.toString('utf8');
      } catch {
        return undefined;
      }
    },
    scripts: () => [...served].reverse().map(([url, n]) => ({ url, serial: n })),
    async close() {
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        for (const socket of sockets) socket.destroy();
      });
      await pool.destroy().catch(() => undefined);
    },
  };
}

/**
 * A `Set-Cookie` line without its Domain attribute when that names one of `hosts` (or, for a
 * host name, a parent of it): the cookie becomes the proxy host's alone, as a browser at
 * `127.0.0.1` refuses `Domain=localhost` and one at `localhost` refuses `Domain=127.0.0.1`.
 */
function withoutDomainOf(line: string, hosts: string[]): string {
  const [pair, ...attributes] = line.split(';');
  const kept = attributes.filter((attribute) => {
    const [name = '', ...value] = attribute.split('=');
    if (name.trim().toLowerCase() !== 'domain') return true;
    const domain = value.join('=').trim().toLowerCase().replace(/^\./, '');
    return !hosts.some((host) => host === domain || (!isIP(host) && host.endsWith(`.${domain}`)));
  });
  return [pair, ...kept].join(';');
}
