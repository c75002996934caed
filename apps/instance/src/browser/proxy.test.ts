import { createServer, request, type Server } from 'node:http';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { socketRouteScript } from './_socket-route.js';
import { type PageChannel, type PageProxy, startPageProxy } from './proxy.js';

const closers: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

/** A dev-server stand-in: a few routes and a WebSocket echo on /hmr. */
async function upstream(): Promise<{ origin: string; server: Server }> {
  const server = createServer((req, res) => {
    if (req.url === '/') {
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.end('<!doctype html><html><head><title>t</title></head><body>hi</body></html>');
    } else if (req.url === '/gz') {
      res.setHeader('content-type', 'text/html');
      res.setHeader('content-encoding', 'gzip');
      res.end(gzipSync('<html><head></head><body>zipped</body></html>'));
    } else if (req.url === '/redirect') {
      res.writeHead(302, { location: `http://127.0.0.1:${port}/` }).end();
    } else if (req.url === '/echo') {
      res.setHeader('content-type', 'application/json');
      req.pipe(res);
    } else if (req.url === '/events') {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: one\n\n');
      setTimeout(() => res.end('data: two\n\n'), 50);
    } else res.writeHead(404).end('nope');
  });
  const wss = new WebSocketServer({ server, path: '/hmr' });
  wss.on('connection', (socket, req) => {
    socket.send(`protocol ${socket.protocol} origin ${req.headers.origin}`);
    socket.on('message', (data) => socket.send(`echo ${data}`));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  closers.push(
    () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
  return { origin: `http://127.0.0.1:${port}`, server };
}

const channel: PageChannel = {
  key: 'k',
  script: () => 'window.x = 1;',
  handle: (_what, body, _origin, res) => res.writeHead(200).end(JSON.stringify(body)),
};

async function proxyFor(origin: string): Promise<PageProxy> {
  const proxy = await startPageProxy({ upstream: origin, channel });
  closers.push(() => proxy.close());
  return proxy;
}

const get = (url: string, headers: Record<string, string> = {}) =>
  new Promise<{ status: number; headers: Record<string, unknown>; body: string }>(
    (resolve, reject) => {
      const req = request(url, { headers }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (c: string) => {
          body += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      });
      req.on('error', reject);
      req.end();
    },
  );

describe('the page proxy', () => {
  it('injects the page script into HTML only, also compressed HTML', async () => {
    const up = await upstream();
    const proxy = await proxyFor(up.origin);
    const page = await get(`${proxy.origin}/`);
    expect(page.body).toMatch(
      /^<!doctype html><html><head><script src="\/__beacon\/page\.js" nonce="[^"]+"><\/script><title>t<\/title>/,
    );
    expect(Number(page.headers['content-length'])).toBe(Buffer.byteLength(page.body));
    const zipped = await get(`${proxy.origin}/gz`);
    expect(zipped.headers['content-encoding']).toBeUndefined();
    expect(zipped.body).toContain('<head><script src="/__beacon/page.js"');
    expect(zipped.body).toContain('zipped');
    const script = await get(`${proxy.origin}/__beacon/page.js`);
    // The channel's script, then the one routing sockets for the dev server through the proxy.
    expect(script.body).toBe(`window.x = 1;\n${socketRouteScript(new URL(up.origin))}`);
    const missing = await get(`${proxy.origin}/missing`);
    expect(missing).toMatchObject({ status: 404, body: 'nope' });
  });

  it('forwards bodies, streams and redirects, and bridges WebSockets with their protocol', async () => {
    const up = await upstream();
    const proxy = await proxyFor(up.origin);
    const echoed = await fetch(`${proxy.origin}/echo`, { method: 'POST', body: '{"a":1}' });
    expect(await echoed.text()).toBe('{"a":1}');
    const events = await get(`${proxy.origin}/events`);
    expect(events.body).toBe('data: one\n\ndata: two\n\n');
    const redirect = await get(`${proxy.origin}/redirect`);
    expect(redirect.status).toBe(302);
    expect(redirect.headers.location).toBe(`${proxy.origin}/`);
    const socket = new WebSocket(`${proxy.origin.replace('http', 'ws')}/hmr`, 'vite-hmr', {
      headers: { origin: proxy.origin },
    });
    const messages: string[] = [];
    socket.on('message', (m) => messages.push(String(m)));
    await new Promise((resolve) => socket.once('open', resolve));
    expect(socket.protocol).toBe('vite-hmr');
    socket.send('ping');
    await new Promise<void>((resolve) => {
      const check = () => (messages.length >= 2 ? resolve() : setTimeout(check, 5));
      check();
    });
    expect(messages).toEqual([`protocol vite-hmr origin ${up.origin}`, 'echo ping']);
    socket.close();
  });

  it('answers only its own Host, and its own paths only same-origin with the key', async () => {
    const up = await upstream();
    const proxy = await proxyFor(up.origin);
    expect((await get(`${proxy.origin}/`, { host: 'evil.example' })).status).toBe(421);
    const port = new URL(proxy.origin).port;
    expect((await get(`${proxy.origin}/`, { host: `localhost:${port}` })).status).toBe(200);
    const post = (headers: Record<string, string>) =>
      fetch(`${proxy.origin}/__beacon/events`, { method: 'POST', headers, body: '{"page":"p1"}' });
    expect((await post({ origin: proxy.origin, 'x-beacon-key': 'k' })).status).toBe(200);
    expect((await post({ origin: 'http://evil.example', 'x-beacon-key': 'k' })).status).toBe(403);
    expect((await post({ origin: proxy.origin, 'x-beacon-key': 'no' })).status).toBe(403);
    expect((await post({ 'x-beacon-key': 'k' })).status).toBe(403);
  });

  it('says a dev server that is down is down', async () => {
    const up = await upstream();
    const proxy = await proxyFor(up.origin);
    await new Promise<void>((resolve) => {
      up.server.close(() => resolve());
      up.server.closeAllConnections();
    });
    const answer = await get(`${proxy.origin}/`);
    expect(answer.status).toBe(502);
    expect(answer.body).toMatch(/did not answer/);
  });
});
