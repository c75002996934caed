// Over 300 lines on purpose: the SDK's Transport contract (send, SSE answers, the GET event
// stream and its reopening, session end) and the direct-call fast path share one session and
// one connection pool, and splitting them would put that shared state behind an interface.
// The HTTP/1.1 wire is `_http1.ts` (or `_undici.ts`); body decoding is `_body.ts`.
import { type Clock, systemClock } from '@mcp-beacon/registry';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type {
  JSONRPCErrorResponse,
  JSONRPCMessage,
  JSONRPCResultResponse,
} from '@modelcontextprotocol/sdk/types.js';
import { Http1Pool, type Http1Request, type Http1Response } from './_http1.js';
import { UndiciPool } from './_undici.js';
import { ConnectionError } from './errors.js';

/** Options of {@link HttpClientTransport}. */
export interface HttpClientTransportOptions {
  /** Sent as `Authorization: Bearer <token>` on every request. */
  token?: string | undefined;
  /** Timeout of the `DELETE` that ends the session, in ms (default 1 000). */
  terminateTimeoutMs?: number;
  /** Delays before reopening a dropped server event stream, in ms (default 250, 1 000, 4 000). */
  reopenDelaysMs?: readonly number[];
  /**
   * Longest message taken from the server, in characters (default 64 Mi): a longer JSON body or
   * SSE event ends its response, so a misbehaving server cannot grow the hub's memory.
   */
  maxMessageLength?: number;
  /**
   * The HTTP/1.1 client: `builtin` (default), a small client of this package, or `undici`
   * (loaded on first use). The builtin one costs less CPU and memory per call in the same-run
   * benchmarks (bench/README.md); both send a request at most once.
   */
  httpClient?: 'undici' | 'builtin';
  /** Timers of call timeouts and event-stream reopening (default: the real clock). */
  clock?: Clock;
}

/** What the transport needs of an HTTP client: one request at a time per connection. */
interface HttpPool {
  request(request: Http1Request): Promise<Http1Response>;
  close(): void;
}

const MAX_MESSAGE_LENGTH = 64 * 1024 * 1024;

/** JSON-RPC error code for a request whose connection ended before its answer. */
const CONNECTION_CLOSED = -32000;

/** The answer to a {@link HttpClientTransport.call}: a result or an error, as sent. */
export type DirectAnswer = JSONRPCResultResponse | JSONRPCErrorResponse;

const httpError = (status: number, message: string) =>
  new ConnectionError('HTTP_STATUS', message, { status });

/** A direct call in flight: how to settle it, and when it times out (`clock.now()` ms). */
interface DirectCall {
  settle: (answer: DirectAnswer) => void;
  fail: (error: Error) => void;
  deadline: number;
  expire: () => void;
}

/**
 * A lean MCP streamable-HTTP client transport on a small keep-alive HTTP/1.1 client: one
 * upstream session, bodies parsed as JSON and handed on without schema validation (the hub
 * forwards them as they are). Handles JSON and SSE answers to a POST, the server's GET event
 * stream, `mcp-session-id` / `mcp-protocol-version` headers, and ends the session with
 * `DELETE` in {@link terminateSession}. A POST stream that ends before its answer yields a
 * JSON-RPC error for that request at once, instead of a wait for the request's timeout.
 */
export class HttpClientTransport implements Transport {
  onclose?: (() => void) | undefined;
  onerror?: ((error: Error) => void) | undefined;
  onmessage?: ((message: JSONRPCMessage) => void) | undefined;
  sessionId?: string | undefined;

  private readonly url: URL;
  /** The request target: path and query of `url`. */
  private readonly path: string;
  private readonly pool: HttpPool;
  private protocolVersion: string | undefined;
  private closed = false;
  /** The server's GET event stream is open or being opened (or the server has none). */
  private eventStreamOpen = false;
  private reopenTimer: unknown;
  private reopenAttempt = 0;
  private readonly direct = new Map<string, DirectCall>();
  private directIds = 0;
  /** One timer for every direct call's timeout, due at `sweepAt` (`clock.now()` ms). */
  private sweep: unknown;
  private sweepAt = Number.POSITIVE_INFINITY;
  private readonly clock: Clock;

  constructor(
    url: URL | string,
    private readonly options: HttpClientTransportOptions = {},
  ) {
    this.clock = options.clock ?? systemClock;
    this.url = new URL(url);
    if (this.url.protocol !== 'http:')
      throw new ConnectionError('BAD_URL', `only http URLs are supported, got ${this.url.href}`);
    this.path = `${this.url.pathname}${this.url.search}`;
    this.pool =
      options.httpClient === 'undici'
        ? new UndiciPool(this.url.origin)
        : new Http1Pool(
            this.url.hostname.replace(/^\[(.*)\]$/, '$1'),
            Number(this.url.port || 80),
            this.url.host,
            { maxIdle: 4 },
          );
  }

  async start(): Promise<void> {}

  /**
   * Sends one request outside the MCP client's bookkeeping and resolves with the answer as the
   * server wrote it (`result` or `error`, nothing validated): the hub forwards tool calls this
   * way. Notifications and server-to-client requests sent meanwhile still reach `onmessage`,
   * before the answer. Aborting `signal` (the one way to cancel) sends `notifications/cancelled`
   * and rejects with the signal's reason; after `timeoutMs` the same happens with a `TIMEOUT`
   * error.
   * @throws {ConnectionError} when the request cannot be sent, the server refuses it, or
   *   `TIMEOUT`.
   */
  call(
    method: string,
    params: Record<string, unknown>,
    options: {
      signal?: AbortSignal | undefined;
      timeoutMs?: number | undefined;
    } = {},
  ): Promise<DirectAnswer> {
    const { signal, timeoutMs } = options;
    const id = `direct-${++this.directIds}`;
    return new Promise<DirectAnswer>((resolve, reject) => {
      const done = () => signal?.removeEventListener('abort', onAbort);
      const cancel = (error: unknown, reason: string) => {
        if (!this.direct.delete(id)) return;
        done();
        reject(error);
        void this.send({
          jsonrpc: '2.0',
          method: 'notifications/cancelled',
          params: { requestId: id, reason },
        }).catch(() => undefined);
      };
      const onAbort = () =>
        cancel(signal?.reason ?? new Error('aborted'), String(signal?.reason ?? 'cancelled'));
      if (signal?.aborted) return reject(signal.reason ?? new Error('aborted'));
      signal?.addEventListener('abort', onAbort, { once: true });
      const deadline =
        timeoutMs === undefined ? Number.POSITIVE_INFINITY : this.clock.now() + timeoutMs;
      this.direct.set(id, {
        settle: (answer) => {
          done();
          resolve(answer);
        },
        fail: (error) => {
          done();
          reject(error);
        },
        deadline,
        expire: () =>
          cancel(
            new ConnectionError('TIMEOUT', `no answer within ${timeoutMs} ms`),
            `no answer within ${timeoutMs} ms`,
          ),
      });
      if (deadline < this.sweepAt) this.armSweep(deadline);
      this.send({ jsonrpc: '2.0', id, method, params }).catch((error: unknown) => {
        if (!this.direct.delete(id)) return;
        done();
        reject(error);
      });
    });
  }

  /**
   * Call timeouts share one timer instead of one per call (a timer per call was a measurable
   * share of the hub's time per call): it is due at the earliest deadline and, when it fires,
   * expires what is due and re-arms for the next.
   */
  private armSweep(at: number): void {
    if (this.sweep !== undefined) this.clock.clearTimeout(this.sweep);
    this.sweepAt = at;
    this.sweep = this.clock.setTimeout(
      () => this.expireCalls(),
      Math.max(1, Math.ceil(at - this.clock.now())),
    );
  }

  private expireCalls(): void {
    this.sweep = undefined;
    this.sweepAt = Number.POSITIVE_INFINITY;
    const now = this.clock.now();
    let next = Number.POSITIVE_INFINITY;
    for (const call of [...this.direct.values()]) {
      if (call.deadline <= now) call.expire();
      else if (call.deadline < next) next = call.deadline;
    }
    if (next !== Number.POSITIVE_INFINITY && !this.closed) this.armSweep(next);
  }

  setProtocolVersion(version: string): void {
    this.protocolVersion = version;
  }

  async send(message: JSONRPCMessage): Promise<void> {
    if (this.closed) throw new ConnectionError('CLOSED', 'transport is closed');
    const body = JSON.stringify(message);
    const requestId = 'method' in message && 'id' in message ? message.id : undefined;
    let response: Http1Response;
    try {
      response = await this.exchange('POST', body, 'application/json, text/event-stream');
    } catch (error) {
      this.onerror?.(error as Error);
      throw error;
    }
    const sessionId = response.headers['mcp-session-id'];
    if (sessionId !== undefined) this.sessionId = sessionId;
    const status = response.status;
    if (status < 200 || status >= 300) {
      const text = await this.readBody(response).catch(() => '');
      const error = httpError(
        status,
        `${this.url.href} refused the request${text ? `: ${text.trim().slice(0, 200)}` : ''}`,
      );
      this.onerror?.(error);
      throw error;
    }
    if (status === 202 || requestId === undefined) {
      response.discard();
      if (
        'method' in message &&
        message.method === 'notifications/initialized' &&
        !this.eventStreamOpen
      )
        this.openEventStream();
      return;
    }
    const type = response.headers['content-type'] ?? '';
    if (type.includes('text/event-stream')) {
      let answered = false;
      this.readEvents(response, (m) => {
        if ('id' in m && m.id === requestId && !('method' in m)) answered = true;
      }).then((cut) => {
        if (answered || this.closed) return;
        // The stream ended without the answer: fail the request now rather than at its timeout.
        this.deliver({
          jsonrpc: '2.0',
          id: requestId,
          error: {
            code: CONNECTION_CLOSED,
            message: cut ?? 'the instance closed the stream before answering',
          },
        });
      });
      return;
    }
    let text: string;
    try {
      text = await this.readBody(response);
    } catch (error) {
      this.onerror?.(error as Error);
      throw error;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      const error = new ConnectionError(
        'NOT_MCP',
        `not JSON from ${this.url.href}: ${text.slice(0, 200)}`,
      );
      this.onerror?.(error);
      throw error;
    }
    for (const m of Array.isArray(parsed) ? parsed : [parsed]) this.deliver(m as JSONRPCMessage);
  }

  /** Ends the session on the server (`DELETE`), best effort and bounded in time; never throws. */
  async terminateSession(): Promise<void> {
    if (this.sessionId === undefined || this.closed) return;
    const timeoutMs = this.options.terminateTimeoutMs ?? 1_000;
    try {
      const response = await this.exchange('DELETE', undefined, undefined, timeoutMs);
      response.discard();
    } catch {
      // Best effort: the server expires sessions on its own.
    }
    this.sessionId = undefined;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.reopenTimer !== undefined) this.clock.clearTimeout(this.reopenTimer);
    if (this.sweep !== undefined) this.clock.clearTimeout(this.sweep);
    this.pool.close();
    const pending = [...this.direct.values()];
    this.direct.clear();
    for (const { fail } of pending) fail(new ConnectionError('CLOSED', 'transport is closed'));
    this.onclose?.();
  }

  private headers(accept: string | undefined, hasBody: boolean): Record<string, string> {
    const headers: Record<string, string> = {};
    if (accept) headers.accept = accept;
    if (hasBody) headers['content-type'] = 'application/json';
    if (this.sessionId !== undefined) headers['mcp-session-id'] = this.sessionId;
    if (this.protocolVersion !== undefined) headers['mcp-protocol-version'] = this.protocolVersion;
    if (this.options.token !== undefined) headers.authorization = `Bearer ${this.options.token}`;
    return headers;
  }

  /** One HTTP request; resolves with the response head (the body is the caller's to read). */
  private async exchange(
    method: 'POST' | 'GET' | 'DELETE',
    body: string | undefined,
    accept: string | undefined,
    timeoutMs?: number,
  ): Promise<Http1Response> {
    try {
      return await this.pool.request({
        method,
        path: this.path,
        headers: this.headers(accept, body !== undefined),
        body,
        idleTimeoutMs: timeoutMs,
      });
    } catch (error) {
      if (this.closed) throw new ConnectionError('CLOSED', 'transport is closed');
      throw error;
    }
  }

  private deliver(message: unknown): void {
    if (this.closed) return;
    if (typeof message !== 'object' || message === null || !('jsonrpc' in message)) {
      this.onerror?.(new Error(`not a JSON-RPC message: ${JSON.stringify(message).slice(0, 200)}`));
      return;
    }
    // The SDK runs notification handlers a microtask later but settles responses at once: a
    // response is handed on a microtask later too, so progress sent before it is seen first.
    if ('method' in message) this.onmessage?.(message as JSONRPCMessage);
    else if ('id' in message && typeof message.id === 'string' && this.direct.has(message.id)) {
      const { settle } = this.direct.get(message.id)!;
      this.direct.delete(message.id);
      queueMicrotask(() => settle(message as DirectAnswer));
    } else queueMicrotask(() => this.closed || this.onmessage?.(message as JSONRPCMessage));
  }

  /**
   * Reads `data:` events of an SSE body until it ends; resolves then (never rejects), with the
   * reason when the stream was cut for an event over `maxMessageLength`.
   */
  private async readEvents(
    response: Http1Response,
    seen?: (message: JSONRPCMessage) => void,
  ): Promise<string | undefined> {
    const max = this.options.maxMessageLength ?? MAX_MESSAGE_LENGTH;
    /** The text after the last line break, in pieces (joined once a line is complete). */
    let partial: string[] = [];
    let partialLength = 0;
    let data: string[] = [];
    let eventLength = 0;
    let cut: string | undefined;
    const dispatch = () => {
      if (data.length === 0) return;
      const text = data.length === 1 ? (data[0] as string) : data.join('\n');
      data = [];
      eventLength = 0;
      // A server may send an event with an id and empty data to prime resumption; it carries
      // no message.
      if (text.trim() === '') return;
      let message: JSONRPCMessage;
      try {
        message = JSON.parse(text) as JSONRPCMessage;
      } catch {
        this.onerror?.(new Error(`not JSON in event stream: ${text.slice(0, 200)}`));
        return;
      }
      seen?.(message);
      this.deliver(message);
    };
    const line = (text: string, start: number, end: number) => {
      if (end === start) return dispatch();
      if (!text.startsWith('data:', start)) return;
      const value = text.slice(start + (text.charCodeAt(start + 5) === 32 ? 6 : 5), end);
      eventLength += value.length + 1;
      data.push(value);
    };
    await response
      .read((chunk) => {
        if (cut) return;
        let nl = chunk.indexOf('\n');
        if (nl < 0) {
          // Kept in pieces: appending to one string and searching it again would be quadratic
          // in a long line.
          partial.push(chunk);
          partialLength += chunk.length;
        } else {
          const text = partial.length === 0 ? chunk : partial.join('') + chunk;
          nl += text.length - chunk.length;
          partial = [];
          let start = 0;
          while (nl >= 0) {
            line(text, start, nl > start && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl);
            start = nl + 1;
            nl = text.indexOf('\n', start);
          }
          partialLength = text.length - start;
          if (partialLength > 0) partial.push(text.slice(start));
        }
        if (eventLength + partialLength > max) {
          cut = `the instance sent an event over ${max} characters; its stream was closed`;
          this.onerror?.(new ConnectionError('TOO_LARGE', cut));
          response.abort();
        }
      })
      .catch(() => undefined);
    if (cut) return cut;
    dispatch();
    return undefined;
  }

  /**
   * The whole body as text.
   * @throws {ConnectionError} `TOO_LARGE` past `maxMessageLength` (the response is closed), or
   *   `CLOSED` when the connection fails first.
   */
  private async readBody(response: Http1Response): Promise<string> {
    const max = this.options.maxMessageLength ?? MAX_MESSAGE_LENGTH;
    const pieces: string[] = [];
    let length = 0;
    let over = false;
    await response
      .read((chunk) => {
        if (over) return;
        length += chunk.length;
        if (length > max) {
          over = true;
          response.abort();
        } else pieces.push(chunk);
      })
      .catch((error: unknown) => {
        if (!over) throw error;
      });
    if (over)
      throw new ConnectionError(
        'TOO_LARGE',
        `the instance sent a body over ${max} characters; it was closed`,
      );
    return pieces.join('');
  }

  /** The server's own event stream (notifications outside requests); reopened when it drops. */
  private openEventStream(): void {
    if (this.closed) return;
    this.eventStreamOpen = true;
    this.exchange('GET', undefined, 'text/event-stream').then(
      async (response) => {
        const status = response.status;
        if (status === 405) {
          response.discard();
          return; // the server offers no standalone stream
        }
        if (status !== 200) {
          response.discard();
          this.eventStreamLost(httpError(status, `${this.url.href} refused the event stream`));
          return;
        }
        this.reopenAttempt = 0;
        await this.readEvents(response);
        this.eventStreamLost(new Error('event stream closed'));
      },
      (error: Error) => this.eventStreamLost(error),
    );
  }

  private eventStreamLost(error: Error): void {
    this.eventStreamOpen = false;
    if (this.closed) return;
    this.onerror?.(error);
    const delays = this.options.reopenDelaysMs ?? [250, 1_000, 4_000];
    const delay = delays[this.reopenAttempt++];
    if (delay === undefined) return;
    this.reopenTimer = this.clock.setTimeout(() => this.openEventStream(), delay);
  }
}
