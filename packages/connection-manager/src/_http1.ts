// Over 300 lines on purpose: a small HTTP/1.1 client (request writing, response parsing,
// chunked bodies, keep-alive reuse and retirement) is one protocol, kept in one file so its
// at-most-once rule (a written request is never sent again) can be read in one place.
import { connect, type Socket } from 'node:net';
import { BodyText } from './_body.js';
import { ConnectionError } from './errors.js';

/** One request of {@link Http1Pool.request}. */
export interface Http1Request {
  method: 'POST' | 'GET' | 'DELETE';
  /** The request target: path and query. */
  path: string;
  /** Header names in lower case; `host`, `content-length` and `connection` are set here. */
  headers: Record<string, string>;
  body?: string | undefined;
  /** Fails the exchange when the socket is idle this long, in ms (default: never). */
  idleTimeoutMs?: number | undefined;
}

/** A response head; the body is read with {@link Http1Response.read}. */
export interface Http1Response {
  readonly status: number;
  /** Header names in lower case; a repeated header's values joined with `, `. */
  readonly headers: Readonly<Record<string, string>>;
  /**
   * Hands each decoded piece of the body (UTF-8) to `onText`, in order; resolves when the body
   * ends. Call it once.
   * @throws {ConnectionError} `CLOSED` when the connection fails or ends before the body does.
   */
  read(onText: (text: string) => void): Promise<void>;
  /** Reads and drops the body, so the connection can serve the next request. */
  discard(): void;
  /** Ends the exchange now: the connection is closed and a pending `read` rejects. */
  abort(): void;
}

/** Options of {@link Http1Pool}. */
export interface Http1PoolOptions {
  /** Idle keep-alive connections kept for reuse (default 4); more are closed. */
  maxIdle?: number;
  /**
   * How long an idle connection is reused when the server names no `Keep-Alive: timeout`, in ms
   * (default 4 000: below the 5 s of Node's HTTP server, beacon-instance's).
   */
  idleReuseMs?: number;
  /** Monotonic time in ms (default `performance.now`). */
  now?: () => number;
  /** Largest response head accepted, in bytes (default 64 KiB). */
  maxHeadBytes?: number;
}

const CRLF = Buffer.from('\r\n');
const HEAD_END = Buffer.from('\r\n\r\n');
const EMPTY = Buffer.alloc(0);

/** Socket errors of a connection that broke under a request (a reset, a write into a closed one). */
const BROKEN_CODES = new Set<string | undefined>([
  'ECONNRESET',
  'EPIPE',
  'ERR_STREAM_WRITE_AFTER_END',
  'ERR_STREAM_DESTROYED',
]);
/** An idle connection is retired this long before the server's keep-alive timeout, in ms. */
const RETIRE_MARGIN_MS = 1_000;

/**
 * A small HTTP/1.1 client for one origin on a keep-alive connection pool, made for the
 * hub's hot path: a request is one socket write, the response is framed (content-length,
 * chunked, or until close) from the raw bytes, and the body is handed on as decoded text as it
 * arrives. No pipelining: a connection serves one exchange at a time, and there is no limit
 * on concurrent connections (as with `node:http`'s default agent).
 *
 * A request reaches the server at most once: it is never written again once written. A
 * connection is reused only while it is provably open (not ended, not destroyed) and younger
 * than the server's keep-alive timeout (its `Keep-Alive: timeout=N`, less a second; else
 * `idleReuseMs`), so the race with a server closing an idle connection is rare; when it
 * happens anyway, the request fails with `RESET` ("it may or may not have run").
 */
export class Http1Pool {
  private readonly idle: Connection[] = [];
  private readonly busy = new Set<Connection>();
  private closed = false;

  constructor(
    private readonly host: string,
    private readonly port: number,
    /** The `Host` header: `host:port`, IPv6 literals in brackets. */
    private readonly authority: string,
    private readonly options: Http1PoolOptions = {},
  ) {
    this.now = options.now ?? (() => performance.now());
  }

  private readonly now: () => number;

  /**
   * Sends one request; resolves with the response head.
   * @throws {ConnectionError} `CLOSED` once the pool is closed, `RESET` when the connection broke
   *   after the request was written and before its answer (never sent again), or the socket error (with its
   *   `code`, such as `ECONNREFUSED`) when the request cannot be sent or answered.
   */
  async request(request: Http1Request): Promise<Http1Response> {
    return this.send(serialize(request, this.authority), request.idleTimeoutMs);
  }

  /** Closes every connection; pending requests and reads reject. Idempotent. */
  close(): void {
    this.closed = true;
    for (const connection of [...this.idle, ...this.busy]) connection.destroy(closedError());
    this.idle.length = 0;
    this.busy.clear();
  }

  private send(wire: string, idleTimeoutMs: number | undefined) {
    if (this.closed) return Promise.reject(closedError());
    const now = this.now();
    let connection = this.idle.pop();
    while (connection && !connection.reusableAt(now)) {
      connection.destroy();
      connection = this.idle.pop();
    }
    if (!connection)
      connection = new Connection(
        connect({ host: this.host, port: this.port }),
        (c, reusable) => this.release(c, reusable),
        this.options.idleReuseMs ?? 4_000,
        this.now,
      );
    this.busy.add(connection);
    return connection.exchange(wire, idleTimeoutMs, this.options.maxHeadBytes ?? 64 * 1024);
  }

  private release(connection: Connection, reusable: boolean): void {
    this.busy.delete(connection);
    const index = this.idle.indexOf(connection);
    if (index >= 0) this.idle.splice(index, 1);
    if (reusable && !this.closed && this.idle.length < (this.options.maxIdle ?? 4))
      this.idle.push(connection);
    else connection.destroy();
  }
}

const closedError = () => new ConnectionError('CLOSED', 'connection closed');

function serialize(request: Http1Request, authority: string): string {
  let head = `${request.method} ${request.path} HTTP/1.1\r\nhost: ${authority}\r\nconnection: keep-alive\r\n`;
  for (const [name, value] of Object.entries(request.headers)) {
    // Values can come from the server (the session id): no header injection.
    if (value.includes('\n') || value.includes('\r'))
      throw new ConnectionError('BAD_HEADER', `header ${name} holds a line break`);
    head += `${name}: ${value}\r\n`;
  }
  if (request.body !== undefined) head += `content-length: ${Buffer.byteLength(request.body)}\r\n`;
  return `${head}\r\n${request.body ?? ''}`;
}

type Framing =
  | { kind: 'length'; left: number }
  | { kind: 'chunked'; left: number; step: 'size' | 'data' | 'crlf' | 'trailers' }
  | { kind: 'close' };

/** The reuse window a response's `Keep-Alive: timeout=N` (seconds) allows, in ms. */
function reuseWindow(keepAlive: string | undefined, fallbackMs: number): number {
  const seconds = Number(/(?:^|[,;\s])timeout=(\d+)/i.exec(keepAlive ?? '')?.[1]);
  if (!Number.isFinite(seconds)) return fallbackMs;
  return Math.max(0, seconds * 1000 - RETIRE_MARGIN_MS);
}

/** One pooled socket and the exchange it serves. */
class Connection {
  private current: Exchange | undefined;
  private used = false;
  /** Until when (monotonic ms) an idle connection may take another request. */
  private reuseUntil = 0;

  constructor(
    private readonly socket: Socket,
    private readonly release: (connection: Connection, reusable: boolean) => void,
    private readonly idleReuseMs: number,
    private readonly now: () => number,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      if (this.current) this.current.feed(chunk);
      else socket.destroy(); // bytes nobody asked for: this connection cannot be trusted
    });
    socket.on('end', () => {
      // An idle connection the server ended is gone now, not at its 'close' a turn later: a
      // request written in between would fail with a write after end.
      if (this.current) this.current.ended();
      else socket.destroy();
    });
    socket.on('error', (error: Error) => this.current?.fail(error));
    socket.on('close', () => {
      this.current?.fail(closedError());
      this.release(this, false);
    });
    socket.on('timeout', () =>
      socket.destroy(new ConnectionError('TIMEOUT', 'no data within the idle timeout')),
    );
  }

  exchange(wire: string, idleTimeoutMs: number | undefined, maxHeadBytes: number) {
    this.used = true;
    this.socket.ref();
    if (idleTimeoutMs !== undefined) this.socket.setTimeout(idleTimeoutMs);
    return new Promise<Http1Response>((resolve, reject) => {
      this.current = new Exchange(maxHeadBytes, resolve, reject, {
        done: (reusable, keepAlive) => {
          this.current = undefined;
          this.reuseUntil = this.now() + reuseWindow(keepAlive, this.idleReuseMs);
          if (idleTimeoutMs !== undefined) this.socket.setTimeout(0);
          this.socket.unref();
          this.release(this, reusable);
        },
        abort: () => this.socket.destroy(),
      });
      this.socket.write(wire);
    });
  }

  /**
   * True while the socket is provably open (neither side ended it, not destroyed) and within the
   * server's keep-alive window: only then may a request be written on it.
   */
  reusableAt(now: number): boolean {
    return this.used && now < this.reuseUntil && this.open;
  }

  /** True while neither side has ended the socket and it is not destroyed. */
  get open(): boolean {
    return !this.socket.destroyed && this.socket.writable && !this.socket.readableEnded;
  }

  destroy(error?: Error): void {
    if (error) this.current?.fail(error);
    this.socket.destroy();
  }
}

/** The parser and state of one request/response on a connection. */
class Exchange implements Http1Response {
  status = 0;
  headers: Record<string, string> = {};
  private pending: Buffer = EMPTY;
  private framing: Framing | undefined;
  private keepAlive = true;
  private readonly body = new BodyText();

  constructor(
    private readonly maxHeadBytes: number,
    private readonly resolveHead: (response: Http1Response) => void,
    private readonly rejectHead: (error: Error) => void,
    /**
     * `done` hands the connection back (reusable or not, with the answer's `Keep-Alive` header);
     * `abort` closes it.
     */
    private readonly connection: {
      done: (reusable: boolean, keepAlive?: string) => void;
      abort: () => void;
    },
  ) {}

  read(onText: (text: string) => void): Promise<void> {
    return this.body.read(onText);
  }

  discard(): void {
    this.read(() => undefined).catch(() => undefined);
  }

  abort(): void {
    if (this.body.done) return;
    this.fail(closedError());
    this.connection.abort();
  }

  feed(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    try {
      if (!this.framing && !this.parseHead()) return;
      this.parseBody();
    } catch (error) {
      this.fail(error as Error);
      this.connection.abort();
    }
  }

  /** The server ended the connection (FIN). */
  ended(): void {
    if (this.framing?.kind === 'close' && !this.body.finished) {
      this.keepAlive = false;
      this.finish();
      return;
    }
    this.fail(
      this.framing
        ? new ConnectionError('CLOSED', 'the server closed the connection mid-body')
        : new ConnectionError(
            'RESET',
            'the server closed the connection after the request was sent, before answering; it may or may not have run',
          ),
    );
  }

  fail(cause: Error): void {
    if (this.body.done) return;
    const error = BROKEN_CODES.has((cause as NodeJS.ErrnoException).code)
      ? new ConnectionError(
          'RESET',
          this.framing
            ? 'the connection was reset mid-answer'
            : 'the connection was reset during the request; it may or may not have run',
          { cause },
        )
      : cause;
    if (!this.framing) this.rejectHead(error);
    this.body.fail(error);
    this.connection.done(false);
  }

  /** Parses the head once it is complete; false while more bytes are needed. */
  private parseHead(): boolean {
    for (;;) {
      const end = this.pending.indexOf(HEAD_END);
      if ((end < 0 ? this.pending.length : end) > this.maxHeadBytes)
        throw new ConnectionError('BAD_RESPONSE', `response head over ${this.maxHeadBytes} bytes`);
      if (end < 0) return false;
      const lines = this.pending.toString('latin1', 0, end).split('\r\n');
      this.pending = this.pending.subarray(end + 4);
      const status = /^HTTP\/1\.([01]) (\d{3})/.exec(lines[0] ?? '');
      if (!status)
        throw new ConnectionError(
          'BAD_RESPONSE',
          `not an HTTP/1 response: ${lines[0]?.slice(0, 80)}`,
        );
      const code = Number(status[2]);
      // No upgrade is ever asked for, so a protocol switch is not an answer.
      if (code === 101) throw new ConnectionError('BAD_RESPONSE', 'unexpected protocol switch');
      // Interim answers (100 Continue, 103 Early Hints) precede the real one.
      if (code < 200) continue;
      const headers: Record<string, string> = {};
      for (let i = 1; i < lines.length; i++) {
        const line = lines[i] as string;
        const colon = line.indexOf(':');
        if (colon <= 0) continue;
        const name = line.slice(0, colon).trim().toLowerCase();
        const value = line.slice(colon + 1).trim();
        headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
      }
      this.status = code;
      this.headers = headers;
      const connection = headers.connection?.toLowerCase() ?? '';
      this.keepAlive =
        status[1] === '1' ? !connection.includes('close') : connection.includes('keep-alive');
      if (code === 204 || code === 304) this.framing = { kind: 'length', left: 0 };
      else if (headers['transfer-encoding']?.toLowerCase().includes('chunked'))
        this.framing = { kind: 'chunked', left: 0, step: 'size' };
      else if (headers['content-length'] !== undefined) {
        const length = Number(headers['content-length']);
        if (!Number.isSafeInteger(length) || length < 0)
          throw new ConnectionError(
            'BAD_RESPONSE',
            `bad content-length: ${headers['content-length']}`,
          );
        this.framing = { kind: 'length', left: length };
      } else this.framing = { kind: 'close' };
      this.resolveHead(this);
      return true;
    }
  }

  private parseBody(): void {
    const framing = this.framing as Framing;
    if (framing.kind === 'close') {
      this.emit(this.pending);
      this.pending = EMPTY;
      return;
    }
    if (framing.kind === 'length') {
      const take = Math.min(framing.left, this.pending.length);
      this.emit(this.pending.subarray(0, take));
      framing.left -= take;
      if (this.pending.length > take) this.keepAlive = false; // bytes past the body
      this.pending = EMPTY;
      if (framing.left === 0) this.finish();
      return;
    }
    for (;;) {
      if (framing.step === 'data') {
        const take = Math.min(framing.left, this.pending.length);
        this.emit(this.pending.subarray(0, take));
        this.pending = this.pending.subarray(take);
        framing.left -= take;
        if (framing.left > 0) return;
        framing.step = 'crlf';
      }
      const eol = this.pending.indexOf(CRLF);
      if (eol < 0) {
        if (this.pending.length > 4096)
          throw new ConnectionError('BAD_RESPONSE', 'bad chunked body');
        return;
      }
      const line = this.pending.toString('latin1', 0, eol);
      this.pending = this.pending.subarray(eol + 2);
      if (framing.step === 'crlf') {
        if (line !== '') throw new ConnectionError('BAD_RESPONSE', 'bad chunked body');
        framing.step = 'size';
      } else if (framing.step === 'size') {
        const size = Number.parseInt(line, 16);
        if (!/^[0-9a-fA-F]+/.test(line) || !Number.isSafeInteger(size))
          throw new ConnectionError('BAD_RESPONSE', `bad chunk size: ${line.slice(0, 20)}`);
        framing.left = size;
        framing.step = size === 0 ? 'trailers' : 'data';
      } else if (line === '') {
        if (this.pending.length > 0) this.keepAlive = false;
        this.pending = EMPTY;
        this.finish();
        return;
      }
    }
  }

  private emit(bytes: Buffer): void {
    this.body.push(bytes);
  }

  private finish(): void {
    this.body.end();
    this.connection.done(this.keepAlive, this.headers['keep-alive']);
  }
}
