import { createServer, type IncomingHttpHeaders, request } from 'node:http';
import type { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { useChromium } from './_browser-fixture.js';
import { type PageChannel, type PageProxy, startPageProxy } from './proxy.js';

const closers: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

const COOKIES = [
  'plain=1; Path=/',
  'dl=2; Domain=localhost; Path=/',
  'dip=3; Domain=.127.0.0.1; Path=/',
  'sec=4; Secure; SameSite=None; Path=/; HttpOnly',
  'far=5; Domain=example.com; Path=/',
];

interface Seen {
  url: string;
  headers: IncomingHttpHeaders;
}

/**
 * A dev server that refuses (403) any request or upgrade whose Origin is not its own, and
 * records what it receives.
 */
async function guardedDevServer() {
  const requests: Seen[] = [];
  const upgrades: Seen[] = [];
  let origin = '';
  const foreign = (headers: IncomingHttpHeaders) =>
    headers.origin !== undefined && headers.origin !== origin;
  const server = createServer((req, res) => {
    requests.push({ url: req.url ?? '', headers: req.headers });
    if (foreign(req.headers)) {
      res.writeHead(403, { 'content-type': 'text/plain' }).end('Blocked cross-origin request');
      return;
    }
    if (req.url === '/') {
      res.writeHead(200, { 'content-type': 'text/html', 'set-cookie': COOKIES });
      res.end('<!doctype html><html><head><title>dev</title></head><body>dev</body></html>');
    } else if (req.url === '/cookies') {
      res.end(req.headers.cookie ?? '');
    } else if (req.url === '/redirect') {
      res.writeHead(302, { location: `${origin}/next?x=1` }).end();
    } else if (req.url === '/cors') {
      // A CORS middleware that reflects the Origin it is sent.
      res.writeHead(200, {
        'access-control-allow-origin': req.headers.origin ?? '*',
        'access-control-allow-credentials': 'true',
        vary: 'Origin',
      });
      res.end('ok');
    } else res.end('ok');
  });
  const wss = new WebSocketServer({ noServer: true });
  const sockets = new Set<Duplex>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('upgrade', (req, socket, head) => {
    upgrades.push({ url: req.url ?? '', headers: req.headers });
    if (foreign(req.headers)) {
      socket.end('HTTP/1.1 403 Forbidden\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => ws.send('hello'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  origin = `http://127.0.0.1:${port}`;
  closers.push(
    () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        server.close(() => resolve());
        server.closeAllConnections();
        for (const socket of sockets) socket.destroy();
      }),
  );
  return { origin, host: `127.0.0.1:${port}`, requests, upgrades };
}

const channel: PageChannel = {
  key: 'k',
  script: () => 'window.x = 1;',
  handle: (_what, _body, _origin, res) => res.writeHead(204).end(),
};

async function proxyFor(origin: string): Promise<PageProxy> {
  const proxy = await startPageProxy({ upstream: origin, channel });
  closers.push(() => proxy.close());
  return proxy;
}

/** A raw request to the proxy, with the headers a browser would send. */
const send = (url: string, method: string, headers: Record<string, string>) =>
  new Promise<{ status: number; headers: IncomingHttpHeaders; body: string }>((resolve, reject) => {
    const req = request(url, { method, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });

/** Opens a WebSocket through the proxy: its first message, or `refused`. */
const openSocket = (url: string, origin: string) =>
  new Promise<string>((resolve) => {
    const socket = new WebSocket(url, { headers: { origin } });
    closers.push(() => socket.terminate());
    socket.once('message', (data) => resolve(String(data)));
    socket.once('error', () => resolve('refused'));
    socket.once('unexpected-response', () => resolve('refused'));
  });

describe('what the dev server receives through the page proxy', () => {
  it('its own origin in Origin and Referer, its own Host, on a request from the proxy’s page', async () => {
    const dev = await guardedDevServer();
    const proxy = await proxyFor(dev.origin);
    const port = new URL(proxy.origin).port;
    const path = '/_next/static/chunks/main.js?v=1';
    const answer = await send(`${proxy.origin}${path}`, 'POST', {
      origin: proxy.origin,
      referer: `${proxy.origin}/dashboard?tab=2`,
    });
    expect(answer).toMatchObject({ status: 200, body: 'ok' });
    expect(dev.requests.at(-1)?.headers).toMatchObject({
      origin: dev.origin,
      referer: `${dev.origin}/dashboard?tab=2`,
      host: dev.host,
    });
    // The proxy's other name for itself maps the same way.
    const viaLocalhost = await send(`${proxy.origin}${path}`, 'POST', {
      host: `localhost:${port}`,
      origin: `http://localhost:${port}`,
      referer: `http://localhost:${port}/`,
    });
    expect(viaLocalhost.status).toBe(200);
    expect(dev.requests.at(-1)?.headers).toMatchObject({
      origin: dev.origin,
      referer: `${dev.origin}/`,
      host: dev.host,
    });
  });

  it('a foreign Origin and Referer unchanged, so the dev server still refuses them', async () => {
    const dev = await guardedDevServer();
    const proxy = await proxyFor(dev.origin);
    for (const origin of ['http://evil.example', `${proxy.origin}0`, 'null']) {
      const referer = origin === 'null' ? `${proxy.origin}0/x` : `${origin}/x?y=1`;
      const answer = await send(`${proxy.origin}/_next/x`, 'POST', { origin, referer });
      expect(answer.status, origin).toBe(403);
      expect(dev.requests.at(-1)?.headers).toMatchObject({ origin, referer });
    }
  });

  it('its own origin and Host on a WebSocket upgrade; a foreign origin’s upgrade refused', async () => {
    const dev = await guardedDevServer();
    const proxy = await proxyFor(dev.origin);
    const ws = `${proxy.origin.replace('http', 'ws')}/_next/webpack-hmr?id=1`;
    expect(await openSocket(ws, proxy.origin)).toBe('hello');
    expect(dev.upgrades.at(-1)).toMatchObject({
      url: '/_next/webpack-hmr?id=1',
      headers: { origin: dev.origin, host: dev.host },
    });
    expect(await openSocket(ws, 'http://evil.example')).toBe('refused');
    expect(dev.upgrades.at(-1)?.headers.origin).toBe('http://evil.example');
  });

  it('answers carrying the dev server’s origin come back with the proxy origin the page is at', async () => {
    const dev = await guardedDevServer();
    const proxy = await proxyFor(dev.origin);
    const port = new URL(proxy.origin).port;
    for (const page of [proxy.origin, `http://localhost:${port}`]) {
      const host = new URL(page).host;
      const redirect = await send(`${proxy.origin}/redirect`, 'GET', { host });
      expect(redirect.status).toBe(302);
      expect(redirect.headers.location).toBe(`${page}/next?x=1`);
      const cors = await send(`${proxy.origin}/cors`, 'POST', { host, origin: page });
      expect(cors.status).toBe(200);
      expect(cors.headers['access-control-allow-origin']).toBe(page);
    }
    // An answer for any origin passes as it is.
    const other = await send(`${proxy.origin}/cors`, 'GET', {});
    expect(other.headers['access-control-allow-origin']).toBe('*');
  });

  it('cookies the dev server sets for a loopback name become the proxy host’s', async () => {
    const dev = await guardedDevServer();
    const proxy = await proxyFor(dev.origin);
    const page = await send(`${proxy.origin}/`, 'GET', {});
    expect(page.headers['set-cookie']).toEqual([
      'plain=1; Path=/',
      'dl=2; Path=/',
      'dip=3; Path=/',
      'sec=4; Secure; SameSite=None; Path=/; HttpOnly',
      'far=5; Domain=example.com; Path=/',
    ]);
  });
});

/** Run in the page: the cookies the dev server gets, a POST's status, the HMR socket's hello. */
const IN_THE_PAGE = `(async () => ({
  cookies: await fetch('/cookies').then((r) => r.text()),
  post: await fetch('/_next/static/chunks/x.js', { method: 'POST' }).then((r) => r.status),
  socket: await new Promise((resolve) => {
    const socket = new WebSocket('ws://' + location.host + '/_next/webpack-hmr');
    socket.onmessage = (event) => {
      resolve(String(event.data));
      socket.close();
    };
    socket.onerror = () => resolve('refused');
  }),
}))()`;

describe('a page in Chromium through the proxy of a guarded dev server', () => {
  const launched = useChromium();

  it('keeps its cookies, posts to the dev server and opens its HMR socket, at either proxy name', async () => {
    const dev = await guardedDevServer();
    const proxy = await proxyFor(dev.origin);
    const port = new URL(proxy.origin).port;
    for (const base of [proxy.origin, `http://localhost:${port}`]) {
      const context = await launched.browser.newContext();
      closers.push(() => context.close());
      const page = await context.newPage();
      await page.goto(`${base}/`);
      const seen = (await page.evaluate(IN_THE_PAGE)) as {
        cookies: string;
        post: number;
        socket: string;
      };
      expect({ ...seen, cookies: seen.cookies.split('; ').sort() }, base).toEqual({
        cookies: ['dip=3', 'dl=2', 'plain=1', 'sec=4'],
        post: 200,
        socket: 'hello',
      });
    }
  });
});
