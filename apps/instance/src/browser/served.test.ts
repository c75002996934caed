// What a page proxy remembers of the scripts it served (where webpack's `eval` modules are
// looked up, and when a map must be read again), and the hosts its socket routing takes.
import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { upstreamHosts } from './_socket-route.js';
import { type PageChannel, SERVED_SCRIPTS, startPageProxy } from './proxy.js';

const closers: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

const channel: PageChannel = {
  key: 'k',
  script: () => '',
  handle: (_what, _body, _origin, res) => res.writeHead(204).end(),
};

async function proxied() {
  const server: Server = createServer((req, res) => {
    const pathname = new URL(req.url ?? '/', 'http://x').pathname;
    if (pathname.endsWith('.js')) res.setHeader('content-type', 'text/javascript');
    else if (pathname.endsWith('.mjs')) res.setHeader('content-type', 'application/javascript');
    else res.setHeader('content-type', 'text/plain');
    res.statusCode = req.url?.startsWith('/missing') ? 404 : 200;
    res.end('x');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const { port } = server.address() as { port: number };
  const proxy = await startPageProxy({ upstream: `http://127.0.0.1:${port}`, channel });
  closers.push(() => proxy.close());
  const get = async (p: string) => (await fetch(`${proxy.origin}${p}`)).text();
  return { proxy, get };
}

describe('the scripts a proxy served', () => {
  it('lists JavaScript only, newest first, a URL served again with a higher serial', async () => {
    const { proxy, get } = await proxied();
    await get('/main.js');
    await get('/chunk.mjs?v=1');
    await get('/notes.txt');
    await get('/missing.js');
    const o = proxy.origin;
    expect(proxy.scripts()).toEqual([
      { url: `${o}/chunk.mjs?v=1`, serial: 2 },
      { url: `${o}/main.js`, serial: 1 },
    ]);
    await get('/main.js');
    expect(proxy.scripts()).toEqual([
      { url: `${o}/main.js`, serial: 3 },
      { url: `${o}/chunk.mjs?v=1`, serial: 2 },
    ]);
  });

  it(`keeps at most ${SERVED_SCRIPTS}, dropping the least recently served`, async () => {
    const { proxy, get } = await proxied();
    for (let i = 0; i < SERVED_SCRIPTS + 5; i++) await get(`/s${i}.js`);
    const list = proxy.scripts();
    expect(list).toHaveLength(SERVED_SCRIPTS);
    expect(list[0]?.url).toBe(`${proxy.origin}/s${SERVED_SCRIPTS + 4}.js`);
    expect(list.at(-1)?.url).toBe(`${proxy.origin}/s5.js`);
  });
});

describe('upstreamHosts', () => {
  it('names a loopback dev server by every loopback name, another by its own', () => {
    expect(upstreamHosts(new URL('http://127.0.0.1:8080'))).toEqual([
      '127.0.0.1:8080',
      'localhost:8080',
      '[::1]:8080',
      '0.0.0.0:8080',
    ]);
    expect(upstreamHosts(new URL('http://[::1]:3000'))).toContain('127.0.0.1:3000');
    expect(upstreamHosts(new URL('http://devbox.lan:5173'))).toEqual(['devbox.lan:5173']);
    expect(upstreamHosts(new URL('https://devbox.lan'))).toEqual(['devbox.lan:443']);
  });
});
