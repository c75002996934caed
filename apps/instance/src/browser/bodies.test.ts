import { once } from 'node:events';
import { createServer, request } from 'node:http';
import {
  brotliCompressSync,
  constants,
  createGzip,
  deflateSync,
  gzipSync,
  type ZlibOptions,
} from 'node:zlib';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Decoded, decode } from './bodies.js';
import { MAX_HTML_BYTES, type PageChannel, startPageProxy } from './proxy.js';

const MiB = 1024 * 1024;
/** Zeros compress best run by run: 1 GiB of them gzips to about 1 MiB in under a second. */
const RLE: ZlibOptions = { strategy: constants.Z_RLE };
const BROTLI_FAST = { params: { [constants.BROTLI_PARAM_QUALITY]: 1 } };

/** A short account of a decoding, so that a failing check never prints megabytes. */
const outcome = (decoded: Decoded) =>
  decoded.ok ? `${decoded.body.length} bytes` : `refused: ${decoded.reason}`;

const closers: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

/** `size` zero bytes gzipped as a stream, 1 MiB at a time, so the zeros never sit in memory. */
async function gzipZeros(size: number): Promise<Buffer> {
  const gzip = createGzip(RLE);
  const chunks: Buffer[] = [];
  gzip.on('data', (chunk: Buffer) => chunks.push(chunk));
  const ended = once(gzip, 'end');
  const zeros = Buffer.alloc(MiB);
  for (let written = 0; written < size; written += MiB)
    if (!gzip.write(zeros)) await once(gzip, 'drain');
  gzip.end();
  await ended;
  return Buffer.concat(chunks);
}

describe('decode', () => {
  const page = Buffer.from('<html><head></head><body>hi</body></html>');

  it('decodes identity, gzip, deflate and br, whatever the case and spaces', async () => {
    expect(await decode(page, undefined, MiB)).toEqual({ ok: true, body: page });
    expect(await decode(page, '', MiB)).toEqual({ ok: true, body: page });
    expect(await decode(gzipSync(page), ' GZip ', MiB)).toEqual({ ok: true, body: page });
    expect(await decode(gzipSync(page), 'x-gzip', MiB)).toEqual({ ok: true, body: page });
    expect(await decode(deflateSync(page), 'deflate', MiB)).toEqual({ ok: true, body: page });
    expect(await decode(brotliCompressSync(page), 'br', MiB)).toEqual({ ok: true, body: page });
  });

  it('tells an unknown encoding from a corrupt body', async () => {
    for (const encoding of ['compress', 'gzip, br', 'constructor', '__proto__'])
      expect(await decode(page, encoding, MiB)).toEqual({ ok: false, reason: 'unknown-encoding' });
    expect(await decode(page, 'gzip', MiB)).toEqual({ ok: false, reason: 'corrupt' });
    expect(await decode(gzipSync(page).subarray(0, 20), 'gzip', MiB)).toEqual({
      ok: false,
      reason: 'corrupt',
    });
  });

  it('stops inflating gzip, deflate and br bombs at the bound', async () => {
    const zeros = Buffer.alloc(64 * MiB);
    const bombs = {
      gzip: gzipSync(zeros, RLE),
      deflate: deflateSync(zeros, RLE),
      br: brotliCompressSync(zeros, BROTLI_FAST),
    };
    for (const [encoding, bomb] of Object.entries(bombs)) {
      expect(bomb.length).toBeLessThan(MiB);
      expect(outcome(await decode(bomb, encoding, MiB)), encoding).toBe('refused: too-large');
    }
  });

  it('keeps a body of exactly the bound and refuses one byte more', async () => {
    const full = Buffer.alloc(MiB, 'a');
    const decoded = await decode(gzipSync(full), 'gzip', MiB);
    expect(outcome(decoded)).toBe(`${MiB} bytes`);
    expect(decoded.ok && decoded.body.equals(full)).toBe(true);
    const over = Buffer.alloc(MiB + 1, 'a');
    expect(outcome(await decode(gzipSync(over), 'gzip', MiB))).toBe('refused: too-large');
    expect(outcome(await decode(over, undefined, MiB))).toBe('refused: too-large');
  });
});

describe('the page proxy in front of a dev server that sends a compression bomb', () => {
  /** About 1 MiB of gzip that inflates to 1 GiB, 64 times the proxy's bound. */
  let bomb: Buffer;
  beforeAll(async () => {
    bomb = await gzipZeros(1024 * MiB);
  });

  const channel: PageChannel = {
    key: 'k',
    script: () => 'window.x = 1;',
    handle: (_what, _body, _origin, res) => res.writeHead(204).end(),
  };

  const get = (url: string) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      request(url, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (c: string) => {
          body += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
        .on('error', reject)
        .end();
    });

  it('answers 502 saying it inflates past the bound, stays small, and serves pages meanwhile and after', async () => {
    expect(bomb.length).toBeLessThan(2 * MiB);
    expect(MAX_HTML_BYTES).toBe(16 * MiB);
    const server = createServer((req, res) => {
      if (req.url === '/bomb') {
        res.writeHead(200, { 'content-type': 'text/html', 'content-encoding': 'gzip' });
        res.end(bomb);
      } else {
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end('<html><head></head><body>fine</body></html>');
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closers.push(
      () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }),
    );
    const { port } = server.address() as { port: number };
    const proxy = await startPageProxy({ upstream: `http://127.0.0.1:${port}`, channel });
    closers.push(() => proxy.close());

    const before = process.memoryUsage().rss;
    let peak = before;
    const sample = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 5);
    const [answer, meanwhile] = await Promise.all([
      get(`${proxy.origin}/bomb`),
      get(`${proxy.origin}/`),
    ]).finally(() => clearInterval(sample));
    peak = Math.max(peak, process.memoryUsage().rss);

    expect(answer).toEqual({
      status: 502,
      body: "beacon page proxy: the dev server's response inflates past 16 MiB (gzip); not rewritten",
    });
    expect(meanwhile.status).toBe(200);
    expect(meanwhile.body).toContain('fine');
    expect(peak - before).toBeLessThan(300 * MiB);
    const after = await get(`${proxy.origin}/`);
    expect(after.status).toBe(200);
    expect(after.body).toContain('<script src="/__beacon/page.js"');
  });
});
