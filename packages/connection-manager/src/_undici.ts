// The HTTP/1.1 wire of the transport, on undici (the Node core team's client): one keep-alive
// pool per instance, no pipelining, POSTs never retried, each exchange abortable.

import { createRequire } from 'node:module';
import type * as Undici from 'undici';
import type { Dispatcher } from 'undici';
import { BodyText } from './_body.js';
import { ConnectionError } from './errors.js';

// undici's index loads every part of undici (fetch, WebSocket, caches, mocks, proxies), about
// 9 MiB of a hub's RSS, while a 2025 instance needs the Pool alone: it is loaded from its own
// file (undici is pinned; its package has no exports map). The rest comes with `loadUndici`,
// when a 2026-07-28 server is first reached.
const require = createRequire(import.meta.url);
const Pool: typeof Undici.Pool = require('undici/lib/dispatcher/pool.js');

let undici: Promise<typeof Undici> | undefined;
/** All of undici, loaded on first use. */
export const loadUndici = (): Promise<typeof Undici> => (undici ??= import('undici'));

/** One request as the transport makes it. */
export interface HttpRequest {
  method: 'GET' | 'POST' | 'DELETE';
  /** Path and query. */
  path: string;
  headers: Record<string, string>;
  body?: string | undefined;
  /** Longest wait for the head and between body chunks, in ms (default: none). */
  idleTimeoutMs?: number | undefined;
  /** Aborting it ends the exchange (before or after its head) and frees its socket. */
  signal?: AbortSignal | undefined;
}

/** A response head; its body is read once, as text. */
export interface HttpResponse {
  readonly status: number;
  /** Header names in lower case; repeated headers joined with `, `. */
  readonly headers: Record<string, string>;
  /** Hands each piece of body text to `onText` as it arrives; resolves when the body ends. */
  read(onText: (text: string) => void): Promise<void>;
  /** Reads and drops the body (so the connection can serve the next request). */
  discard(): void;
  /** Ends the exchange now: the read rejects with `CLOSED`, the socket is closed. */
  abort(): void;
}

/** undici error codes of a connection that broke under a request. */
const RESET_CODES = new Set(['UND_ERR_SOCKET', 'ECONNRESET', 'EPIPE', 'UND_ERR_CLOSED']);
const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);
const MALFORMED_CODES = new Set([
  'UND_ERR_HEADERS_OVERFLOW',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
  'UND_ERR_RESPONSE_STATUS_CODE',
]);

/** An undici failure as the transport's error codes. */
function mapError(error: unknown, answered: boolean): Error {
  if (error instanceof ConnectionError) return error;
  const code = (error as { code?: string }).code ?? '';
  const message = (error as Error).message ?? String(error);
  if (RESET_CODES.has(code))
    return new ConnectionError(
      'RESET',
      answered
        ? 'the connection was reset mid-answer'
        : 'the connection was reset during the request; it may or may not have run',
      { cause: error },
    );
  if (TIMEOUT_CODES.has(code))
    return new ConnectionError('TIMEOUT', 'no data within the idle timeout', { cause: error });
  if (
    MALFORMED_CODES.has(code) ||
    code.startsWith('HPE_') ||
    (error as Error).name === 'HTTPParserError'
  )
    return new ConnectionError('BAD_RESPONSE', message, { cause: error });
  // undici asserts on some malformed heads (a 101 without an upgrade) rather than parsing them.
  if (code === 'ERR_ASSERTION')
    return new ConnectionError('BAD_RESPONSE', 'malformed HTTP answer', { cause: error });
  if (code === 'UND_ERR_ABORTED' || code === 'UND_ERR_DESTROYED')
    return new ConnectionError('CLOSED', 'connection closed', { cause: error });
  return error as Error;
}

/** Options of {@link UndiciPool}. */
export interface UndiciPoolOptions {
  /** Largest response head accepted, in bytes (default 64 KiB). */
  maxHeadBytes?: number;
  /** Keep-alive reuse without a server hint, in ms (default 4 000). */
  idleReuseMs?: number;
  /** Connections open at once; more requests wait for one (default 64). */
  connections?: number;
}

/**
 * An HTTP/1.1 client for one origin on an undici `Pool`: requests are never retried (undici
 * retries nothing that is not idempotent, and every request here is marked so), idle
 * connections are retired before the server's `Keep-Alive: timeout` (less a second), no
 * pipelining.
 */
export class UndiciPool {
  private readonly pool: Undici.Pool;
  private closed = false;

  constructor(origin: string, options: UndiciPoolOptions = {}) {
    this.pool = new Pool(origin, {
      pipelining: 1,
      connections: options.connections ?? 64,
      keepAliveTimeout: options.idleReuseMs ?? 4_000,
      keepAliveTimeoutThreshold: 1_000,
      maxHeaderSize: options.maxHeadBytes ?? 64 * 1024,
    });
  }

  /**
   * Sends one request; resolves with the response head.
   * @throws {ConnectionError} `CLOSED` (also when `request.signal` aborts first), `RESET`,
   *   `TIMEOUT`, `BAD_RESPONSE` or `BAD_HEADER`, or the socket error (with its `code`, such as
   *   `ECONNREFUSED`).
   */
  request(request: HttpRequest): Promise<HttpResponse> {
    if (this.closed) return Promise.reject(new ConnectionError('CLOSED', 'connection closed'));
    for (const [name, value] of Object.entries(request.headers))
      if (value.includes('\n') || value.includes('\r'))
        return Promise.reject(
          new ConnectionError('BAD_HEADER', `header ${name} holds a line break`),
        );
    if (request.signal?.aborted)
      return Promise.reject(new ConnectionError('CLOSED', 'the request was aborted'));
    return new Promise<HttpResponse>((resolve, reject) => {
      const exchange = new UndiciExchange(resolve, reject);
      request.signal?.addEventListener('abort', () => exchange.abort(), { once: true });
      // dispatch() with a handler rather than request(): no stream per response on the hot path.
      this.pool.dispatch(
        {
          method: request.method,
          path: request.path,
          headers: request.headers,
          body: request.body ?? null,
          idempotent: false,
          headersTimeout: request.idleTimeoutMs ?? 0,
          bodyTimeout: request.idleTimeoutMs ?? 0,
        },
        exchange,
      );
    });
  }

  /** Closes every connection; pending requests and reads reject. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.pool.destroy().catch(() => undefined);
  }
}

/** One exchange as undici hands it over: its head resolves the request, its body is read. */
class UndiciExchange implements Dispatcher.DispatchHandler, HttpResponse {
  status = 0;
  headers: Record<string, string> = {};
  private controller: Dispatcher.DispatchController | undefined;
  private answered = false;
  private aborted = false;
  private readonly body = new BodyText();

  constructor(
    private readonly resolveHead: (response: HttpResponse) => void,
    private readonly rejectHead: (error: Error) => void,
  ) {}

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.aborted) controller.abort(new ConnectionError('CLOSED', 'the request was aborted'));
  }

  onRequestUpgrade(controller: Dispatcher.DispatchController): void {
    controller.abort(new ConnectionError('BAD_RESPONSE', 'unexpected protocol switch'));
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
  ): void {
    if (statusCode < 200) return; // an interim answer precedes the real one
    this.answered = true;
    this.status = statusCode;
    for (const [name, value] of Object.entries(headers))
      if (value !== undefined) this.headers[name] = Array.isArray(value) ? value.join(', ') : value;
    this.resolveHead(this);
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.body.push(chunk);
  }

  onResponseEnd(): void {
    this.body.end();
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    if (this.body.done) return;
    const failure = mapError(error, this.answered);
    if (!this.answered) this.rejectHead(failure);
    this.body.fail(failure);
  }

  read(onText: (text: string) => void): Promise<void> {
    return this.body.read(onText);
  }

  discard(): void {
    this.read(() => undefined).catch(() => undefined);
  }

  abort(): void {
    if (this.body.done || this.aborted) return;
    this.aborted = true;
    this.controller?.abort(new ConnectionError('CLOSED', 'the request was aborted'));
  }
}
