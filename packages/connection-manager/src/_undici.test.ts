import { createServer, type Server, type Socket } from 'node:net';
import { freePort } from '@mcp-beacon/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type HttpRequest,
  type HttpResponse,
  UndiciPool,
  type UndiciPoolOptions,
} from './_undici.js';
import { ConnectionError } from './errors.js';

/**
 * What a raw server answers to one request, written piece by piece: `close` ends the socket,
 * `reset` resets it (RST), `pause` waits 5 ms, a function runs at that point.
 */
type Reply = Array<string | Buffer | 'close' | 'reset' | 'pause' | (() => void)>;

/** The request surface of the pool. */
interface Pool {
  request(request: HttpRequest): Promise<HttpResponse>;
  close(): void;
}

interface RawServer {
  pool: Pool;
  /** Connections accepted so far. */
  connections: () => number;
  /** Connections still open on the server side. */
  open: () => number;
  requests: string[];
}

const closers: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

/**
 * A raw TCP server on 127.0.0.1 that reads one request head (and its content-length body) at
 * a time and answers with `reply(index, socket)`, each piece a separate write.
 */
async function rawServer(
  reply: (index: number) => Reply | undefined,
  options: UndiciPoolOptions = {},
): Promise<RawServer> {
  const sockets = new Set<Socket>();
  const requests: string[] = [];
  let accepted = 0;
  const server: Server = createServer((socket) => {
    accepted++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buffer = '';
    socket.setEncoding('latin1');
    socket.on('data', async (chunk: string) => {
      buffer += chunk;
      for (;;) {
        const end = buffer.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buffer.slice(0, end);
        const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
        if (buffer.length < end + 4 + length) return;
        const request = buffer.slice(0, end + 4 + length);
        buffer = buffer.slice(end + 4 + length);
        requests.push(request);
        const pieces = reply(requests.length - 1);
        if (!pieces) return void socket.destroy();
        for (const piece of pieces) {
          if (piece === 'close') return void socket.end();
          if (piece === 'reset') return void socket.resetAndDestroy();
          if (piece === 'pause') await new Promise((r) => setTimeout(r, 5));
          else if (typeof piece === 'function') piece();
          else {
            socket.write(piece);
            await new Promise((r) => setImmediate(r));
          }
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const pool: Pool = new UndiciPool(`http://127.0.0.1:${port}`, options);
  closers.push(
    () =>
      new Promise<void>((resolve) => {
        pool.close();
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  );
  return { pool, requests, connections: () => accepted, open: () => sockets.size };
}

const post = (pool: Pool, body = '{"x":1}') =>
  pool.request({
    method: 'POST',
    path: '/mcp',
    headers: { 'content-type': 'application/json' },
    body,
  });

async function text(response: HttpResponse): Promise<string> {
  let all = '';
  await response.read((piece) => {
    all += piece;
  });
  return all;
}

const ok = (body: string, extra = '') =>
  `HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`;

/** Waits until `check` holds, polling each event-loop turn (bounded by the test timeout). */
async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((r) => setTimeout(r, 2));
}

describe('UndiciPool', () => {
  it('sends one well-formed request and reads a content-length body', async () => {
    const s = await rawServer(() => [ok('hello')]);
    const response = await post(s.pool, '{"a":"é"}');
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('text/plain');
    expect(await text(response)).toBe('hello');
    const [request] = s.requests;
    expect(request).toMatch(/^POST \/mcp HTTP\/1\.1\r\n/);
    expect(request).toMatch(/\r\nhost: 127\.0\.0\.1:\d+\r\n/);
    expect(request).toContain('\r\ncontent-length: 10\r\n');
    expect(Buffer.from(request as string, 'latin1').toString('utf8')).toMatch(/\{"a":"é"\}$/);
  });

  it('reuses kept-alive connections for the next requests', async () => {
    const s = await rawServer(() => [ok('one')]);
    for (let i = 0; i < 10; i++) expect(await text(await post(s.pool))).toBe('one');
    // undici may open a second connection while the first is still settling its last answer.
    expect(s.connections()).toBeLessThanOrEqual(2);
  });

  it('decodes a chunked body delivered a byte at a time, with extensions and trailers', async () => {
    const body = Buffer.from(
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Two: a\r\nx-two: b\r\n\r\n' +
        '5;name=value\r\nhello\r\n7\r\n, world\r\n0\r\nx-trailer: yes\r\n\r\n',
    );
    const s = await rawServer(() => [...body].map((byte) => Buffer.from([byte])));
    const response = await post(s.pool);
    expect(response.headers['x-two']).toBe('a, b');
    expect(await text(response)).toBe('hello, world');
    // The connection is clean after the trailers: it serves the next requests.
    for (let i = 0; i < 3; i++) expect(await text(await post(s.pool))).toBe('hello, world');
    expect(s.connections()).toBeLessThanOrEqual(2);
  });

  it('decodes a UTF-8 character split across chunks and packets', async () => {
    const euro = Buffer.from('€'); // three bytes
    const s = await rawServer(() => [
      'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n',
      '2\r\n',
      euro.subarray(0, 2),
      '\r\n1\r\n',
      euro.subarray(2),
      '\r\n0\r\n\r\n',
    ]);
    expect(await text(await post(s.pool))).toBe('€');
  });

  it('hands body text on as it arrives, before the body ends', async () => {
    let secondSent = false;
    const s = await rawServer(() => [
      'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n6\r\nfirst\n\r\n',
      'pause',
      'pause',
      () => {
        secondSent = true;
      },
      '7\r\nsecond\n\r\n0\r\n\r\n',
    ]);
    const response = await post(s.pool);
    const seen: Array<[string, boolean]> = [];
    await response.read((piece) => seen.push([piece, secondSent]));
    expect(seen).toEqual([
      ['first\n', false],
      ['second\n', true],
    ]);
  });

  it('reads a body without length until the server closes, and does not reuse that connection', async () => {
    const s = await rawServer(() => ['HTTP/1.1 200 OK\r\n\r\n', 'part one, ', 'part two', 'close']);
    expect(await text(await post(s.pool))).toBe('part one, part two');
    expect(await text(await post(s.pool))).toBe('part one, part two');
    expect(s.connections()).toBe(2);
  });

  it('closes a connection the server marks `connection: close`, and one with bytes past the body', async () => {
    const s = await rawServer((i) =>
      i === 0 ? [ok('a', 'connection: close\r\n')] : [`${ok('b')}junk`],
    );
    expect(await text(await post(s.pool))).toBe('a');
    expect(await text(await post(s.pool))).toBe('b');
    expect(await text(await post(s.pool))).toBe('b');
    expect(s.connections()).toBe(3);
  });

  it('reads a 204 as empty, and fails an unasked-for interim 100 answer as a reset', async () => {
    const s = await rawServer((i) =>
      i === 0
        ? ['HTTP/1.1 204 No Content\r\n\r\n']
        : ['HTTP/1.1 100 Continue\r\n\r\n', ok('final')],
    );
    const first = await post(s.pool);
    expect(first.status).toBe(204);
    expect(await text(first)).toBe('');
    // The request was sent, so it may have run: RESET, never a resend.
    await expect(post(s.pool)).rejects.toMatchObject({ code: 'RESET' });
    expect(s.requests).toHaveLength(2);
  });

  it('never sends a request twice: one the server drops unanswered fails with RESET, and the next works', async () => {
    // The server answers the first request on each connection and drops the connection on the
    // second without answering: a server that crashed mid-call, or a forwarder losing its upstream.
    const s = await rawServer((i) => (i % 2 === 0 ? [ok(`answer ${i}`)] : undefined));
    expect(await text(await post(s.pool))).toBe('answer 0');
    const error = await post(s.pool).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as ConnectionError).code).toBe('RESET');
    expect((error as Error).message).toMatch(/may or may not have run/);
    expect(s.requests).toHaveLength(2);
    expect(await text(await post(s.pool))).toBe('answer 2');
    expect(s.requests).toHaveLength(3);
    expect(s.connections()).toBe(2);
  });

  it('fails a request on a reset reused connection with RESET, sent once, and reaches each request at most once when the server ends connections after answers', async () => {
    const reset = await rawServer((i) => (i % 2 === 0 ? [ok(`answer ${i}`)] : ['reset']));
    expect(await text(await post(reset.pool))).toBe('answer 0');
    await expect(post(reset.pool)).rejects.toMatchObject({ code: 'RESET' });
    expect(reset.requests).toHaveLength(2);
    expect(await text(await post(reset.pool))).toBe('answer 2');
    // Each answer is followed by the server's FIN: a request either finds the connection known
    // closed (and takes a fresh one) or fails with RESET; none reaches the server twice.
    const ending = await rawServer(() => [ok('x'), 'close']);
    let answered = 0;
    for (let i = 0; i < 20; i++) {
      const outcome = await post(ending.pool, `{"n":${i}}`).then(
        text,
        (e: ConnectionError) => e.code,
      );
      if (outcome === 'x') answered++;
      else expect(outcome).toBe('RESET');
    }
    const bodies = ending.requests.map((r) => r.slice(r.indexOf('\r\n\r\n') + 4));
    expect(new Set(bodies).size).toBe(bodies.length);
    expect(bodies.length).toBeLessThanOrEqual(20);
    expect(answered).toBeGreaterThan(0);
  });

  it('retires an idle connection before the server’s keep-alive timeout', async () => {
    // timeout=2 less a second: the client closes its idle connections after about 1 s (the
    // raw server never closes one itself).
    const named = await rawServer(() => [ok('x', 'keep-alive: timeout=2\r\n')]);
    await text(await post(named.pool));
    await text(await post(named.pool));
    await until(() => named.open() === 0);
    expect(await text(await post(named.pool))).toBe('x');
    // Without the header, after `idleReuseMs`.
    const plain = await rawServer(() => [ok('y')], { idleReuseMs: 300 });
    await text(await post(plain.pool));
    await until(() => plain.open() === 0);
    expect(await text(await post(plain.pool))).toBe('y');
  });

  it('does not retry on a fresh connection that fails', async () => {
    const s = await rawServer(() => undefined);
    const error = await post(s.pool).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as ConnectionError).code).toBe('RESET');
    expect(s.connections()).toBe(1);
  });

  it('rejects the read when the server closes mid-body', async () => {
    const s = await rawServer(() => [
      'HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n',
      'only this',
      'close',
    ]);
    const response = await post(s.pool);
    const seen: string[] = [];
    const error = await response.read((piece) => seen.push(piece)).catch((e: unknown) => e);
    expect(seen.join('')).toBe('only this');
    expect((error as ConnectionError).code).toBe('RESET');
    expect((error as Error).message).toMatch(/mid-answer/);
  });

  it('refuses a head over the limit, a non-HTTP answer, a protocol switch and a bad chunk size', async () => {
    const big = await rawServer(() => [`HTTP/1.1 200 OK\r\nx: ${'a'.repeat(3000)}\r\n\r\n`], {
      maxHeadBytes: 1024,
    });
    await expect(post(big.pool)).rejects.toMatchObject({ code: 'BAD_RESPONSE' });
    const notHttp = await rawServer(() => ['SSH-2.0-OpenSSH\r\n\r\n']);
    await expect(post(notHttp.pool)).rejects.toMatchObject({ code: 'BAD_RESPONSE' });
    const upgrade = await rawServer(() => ['HTTP/1.1 101 Switching Protocols\r\n\r\n']);
    await expect(post(upgrade.pool)).rejects.toMatchObject({ code: 'BAD_RESPONSE' });
    const badChunk = await rawServer(() => [
      'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n',
    ]);
    const response = await post(badChunk.pool);
    await expect(text(response)).rejects.toMatchObject({ code: 'BAD_RESPONSE' });
  });

  it('reports a refused port with its socket error code', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const pool = new UndiciPool(`http://127.0.0.1:${port}`);
    await expect(post(pool)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    pool.close();
  });

  it('fails an exchange that stays idle past its timeout', async () => {
    const s = await rawServer(() => []);
    const error = await s.pool
      .request({ method: 'DELETE', path: '/mcp', headers: {}, idleTimeoutMs: 50 })
      .catch((e: unknown) => e);
    expect((error as ConnectionError).code).toBe('TIMEOUT');
  });

  it('refuses a header value with a line break (no header injection)', async () => {
    const s = await rawServer(() => [ok('x')]);
    await expect(
      s.pool.request({ method: 'GET', path: '/', headers: { 'mcp-session-id': 'a\r\nx: y' } }),
    ).rejects.toMatchObject({ code: 'BAD_HEADER' });
    expect(s.requests).toEqual([]);
  });

  it('opens at most `connections` connections; more requests wait for one', async () => {
    const s = await rawServer(() => ['pause', ok('x')], { connections: 2 });
    const responses = await Promise.all(Array.from({ length: 5 }, () => post(s.pool)));
    expect(await Promise.all(responses.map(text))).toEqual(['x', 'x', 'x', 'x', 'x']);
    expect(s.connections()).toBe(2);
  });

  it('an aborted signal ends an exchange before its head and frees its socket', async () => {
    const s = await rawServer(() => []);
    const abort = new AbortController();
    const pending = s.pool.request({
      method: 'POST',
      path: '/mcp',
      headers: {},
      body: '{}',
      signal: abort.signal,
    });
    await until(() => s.requests.length === 1);
    abort.abort();
    await expect(pending).rejects.toMatchObject({ code: 'CLOSED' });
    await until(() => s.open() === 0);
    const early = new AbortController();
    early.abort();
    await expect(
      s.pool.request({ method: 'GET', path: '/', headers: {}, signal: early.signal }),
    ).rejects.toMatchObject({ code: 'CLOSED' });
    expect(s.requests).toHaveLength(1);
  });

  it('abort() and close() end exchanges in flight, and close() is idempotent', async () => {
    const s = await rawServer(() => ['HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n', 'abc']);
    const response = await post(s.pool);
    const reading = response.read(() => undefined);
    response.abort();
    await expect(reading).rejects.toMatchObject({ code: 'CLOSED' });

    const second = await post(s.pool);
    const secondRead = second.read(() => undefined);
    const pending = post(s.pool);
    s.pool.close();
    s.pool.close();
    await expect(secondRead).rejects.toMatchObject({ code: 'CLOSED' });
    // The third request was already on its way when the pool closed.
    await expect(pending).rejects.toMatchObject({ code: 'CLOSED' });
    await expect(post(s.pool)).rejects.toMatchObject({ code: 'CLOSED' });
    await until(() => s.open() === 0);
  });
});

// What the transport relies on: a request reaches its server at most once.
describe('UndiciPool: at most once', () => {
  it('fails a POST the server reads and then resets or drops with RESET, and never sends it again', async () => {
    for (const end of ['reset', 'close'] as const) {
      const s = await rawServer((i) => (i === 1 ? [end] : [ok(`answer ${i}`)]));
      expect(await text(await post(s.pool, '{"n":0}'))).toBe('answer 0');
      const error = await post(s.pool, '{"n":1}').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConnectionError);
      expect((error as ConnectionError).code).toBe('RESET');
      expect((error as Error).message).toMatch(/may or may not have run/);
      // Give a retry every chance to arrive before counting.
      await new Promise((r) => setTimeout(r, 50));
      expect(s.requests.filter((r) => r.endsWith('{"n":1}'))).toHaveLength(1);
      expect(await text(await post(s.pool, '{"n":2}'))).toBe('answer 2');
    }
  });

  it('fails a POST reset on a fresh connection with RESET, sent once', async () => {
    const s = await rawServer(() => ['reset']);
    await expect(post(s.pool)).rejects.toMatchObject({ code: 'RESET' });
    await new Promise((r) => setTimeout(r, 50));
    expect(s.requests).toHaveLength(1);
    expect(s.connections()).toBe(1);
  });

  it('refuses a header value with a line break and a protocol switch, and reports a refused port', async () => {
    const s = await rawServer(() => [ok('x')]);
    await expect(
      s.pool.request({ method: 'GET', path: '/', headers: { 'mcp-session-id': 'a\r\nx: y' } }),
    ).rejects.toMatchObject({ code: 'BAD_HEADER' });
    expect(s.requests).toEqual([]);
    const upgrade = await rawServer(() => [
      'HTTP/1.1 101 Switching Protocols\r\nupgrade: x\r\nconnection: upgrade\r\n\r\n',
    ]);
    await expect(post(upgrade.pool)).rejects.toMatchObject({
      code: expect.stringMatching(/BAD_RESPONSE|RESET/),
    });
    const port = await freePort();
    const nowhere = new UndiciPool(`http://127.0.0.1:${port}`);
    await expect(post(nowhere)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    nowhere.close();
  });
});
