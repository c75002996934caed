// The same request/response surface as _http1.ts, on undici (the Node core team's HTTP
// client): one keep-alive pool per instance, no pipelining, POSTs never retried.

import type { Dispatcher, Pool } from 'undici';
import { BodyText } from './_body.js';
import type { Http1Request, Http1Response } from './_http1.js';
import { ConnectionError } from './errors.js';

/** undici error codes of a connection that broke under a request. */
const RESET_CODES = new Set(['UND_ERR_SOCKET', 'ECONNRESET', 'EPIPE', 'UND_ERR_CLOSED']);
const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);
const MALFORMED_CODES = new Set([
  'UND_ERR_HEADERS_OVERFLOW',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
  'UND_ERR_RESPONSE_STATUS_CODE',
  'HPE_INVALID_CONSTANT',
  'HPE_INVALID_CHUNK_SIZE',
  'HPE_INVALID_CONTENT_LENGTH',
  'HPE_INVALID_HEADER_TOKEN',
  'HPE_INVALID_STATUS',
  'HPE_INVALID_VERSION',
  'HPE_UNEXPECTED_CONTENT_LENGTH',
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
  if (MALFORMED_CODES.has(code) || code.startsWith('HPE_'))
    return new ConnectionError('BAD_RESPONSE', message, { cause: error });
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
}

/**
 * An HTTP/1.1 client for one origin on an undici `Pool`: requests are never retried (undici
 * retries nothing that is not idempotent, and POST is not), idle connections are retired
 * before the server's `Keep-Alive: timeout` (less a second), no pipelining.
 */
export class UndiciPool {
  /** undici is loaded on first use: a hub on the builtin client never pays for it. */
  private pool: Promise<Pool> | undefined;
  private closed = false;

  constructor(
    private readonly origin: string,
    private readonly options: UndiciPoolOptions = {},
  ) {}

  private open(): Promise<Pool> {
    this.pool ??= import('undici').then(
      ({ Pool }) =>
        new Pool(this.origin, {
          pipelining: 1,
          keepAliveTimeout: this.options.idleReuseMs ?? 4_000,
          keepAliveTimeoutThreshold: 1_000,
          maxHeaderSize: this.options.maxHeadBytes ?? 64 * 1024,
        }),
    );
    return this.pool;
  }

  /**
   * Sends one request; resolves with the response head.
   * @throws {ConnectionError} `CLOSED`, `RESET`, `TIMEOUT`, `BAD_RESPONSE` or `BAD_HEADER`, or
   *   the socket error (with its `code`, such as `ECONNREFUSED`).
   */
  async request(request: Http1Request): Promise<Http1Response> {
    if (this.closed) throw new ConnectionError('CLOSED', 'connection closed');
    for (const [name, value] of Object.entries(request.headers))
      if (value.includes('\n') || value.includes('\r'))
        throw new ConnectionError('BAD_HEADER', `header ${name} holds a line break`);
    const pool = await this.open();
    if (this.closed) throw new ConnectionError('CLOSED', 'connection closed');
    return new Promise<Http1Response>((resolve, reject) => {
      // dispatch() with a handler rather than request(): no stream per response on the hot path.
      pool.dispatch(
        {
          method: request.method,
          path: request.path,
          headers: request.headers,
          body: request.body ?? null,
          idempotent: false,
          headersTimeout: request.idleTimeoutMs ?? 0,
          bodyTimeout: request.idleTimeoutMs ?? 0,
        },
        new Exchange(resolve, reject),
      );
    });
  }

  /** Closes every connection; pending requests and reads reject. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    void this.pool?.then((pool) => pool.destroy()).catch(() => undefined);
  }
}

/** One response as undici hands it over, read the way the transport reads an Http1Response. */
class Exchange implements Dispatcher.DispatchHandler, Http1Response {
  status = 0;
  headers: Record<string, string> = {};
  private controller: Dispatcher.DispatchController | undefined;
  private answered = false;
  private readonly body = new BodyText();

  constructor(
    private readonly resolveHead: (response: Http1Response) => void,
    private readonly rejectHead: (error: Error) => void,
  ) {}

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
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
    if (this.body.done) return;
    this.controller?.abort(new ConnectionError('CLOSED', 'connection closed'));
  }
}
