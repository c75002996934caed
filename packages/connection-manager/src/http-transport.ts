import { Agent, type ClientRequest, type IncomingMessage, request } from 'node:http';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type {
  JSONRPCErrorResponse,
  JSONRPCMessage,
  JSONRPCResultResponse,
} from '@modelcontextprotocol/sdk/types.js';
import { ConnectionError } from './errors.js';

/** Options of {@link HttpClientTransport}. */
export interface HttpClientTransportOptions {
  /** Sent as `Authorization: Bearer <token>` on every request. */
  token?: string | undefined;
  /** Timeout of the `DELETE` that ends the session, in ms (default 1 000). */
  terminateTimeoutMs?: number;
  /** Delays before reopening a dropped server event stream, in ms (default 250, 1 000, 4 000). */
  reopenDelaysMs?: readonly number[];
}

/** JSON-RPC error code for a request whose connection ended before its answer. */
const CONNECTION_CLOSED = -32000;

/** The answer to a {@link HttpClientTransport.call}: a result or an error, as sent. */
export type DirectAnswer = JSONRPCResultResponse | JSONRPCErrorResponse;

/**
 * Cancels a direct call without an `AbortSignal` (cheaper on a hot path): `call()` fills in
 * `cancel`, which sends `notifications/cancelled` and rejects the call with `reason`.
 */
export interface CancelHandle {
  cancel?: (reason: string) => void;
}

const httpError = (status: number, message: string) =>
  new ConnectionError('HTTP_STATUS', message, { status });

/**
 * A lean MCP streamable-HTTP client transport on `node:http` with a keep-alive agent: one
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
  /** `url` as `node:http` request options, worked out once rather than per request. */
  private readonly target: { hostname: string; port: string; path: string };
  private readonly agent = new Agent({ keepAlive: true, maxFreeSockets: 4 });
  private readonly open = new Set<ClientRequest>();
  private protocolVersion: string | undefined;
  private closed = false;
  private eventStream: ClientRequest | undefined;
  private reopenTimer: NodeJS.Timeout | undefined;
  private reopenAttempt = 0;
  private readonly direct = new Map<
    string,
    { settle: (answer: DirectAnswer) => void; fail: (error: Error) => void }
  >();
  private directIds = 0;

  constructor(
    url: URL | string,
    private readonly options: HttpClientTransportOptions = {},
  ) {
    this.url = new URL(url);
    if (this.url.protocol !== 'http:')
      throw new ConnectionError('BAD_URL', `only http URLs are supported, got ${this.url.href}`);
    this.target = {
      hostname: this.url.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: this.url.port || '80',
      path: `${this.url.pathname}${this.url.search}`,
    };
  }

  async start(): Promise<void> {}

  /**
   * Sends one request outside the MCP client's bookkeeping and resolves with the answer as the
   * server wrote it (`result` or `error`, nothing validated): the hub forwards tool calls this
   * way. Notifications and server-to-client requests sent meanwhile still reach `onmessage`,
   * before the answer. Aborting `signal` sends `notifications/cancelled` and rejects with the
   * signal's reason (calling `handle.cancel` does the same without a signal); after
   * `timeoutMs` the same happens with a `TIMEOUT` error.
   * @throws {ConnectionError} when the request cannot be sent, the server refuses it, or
   *   `TIMEOUT`.
   */
  call(
    method: string,
    params: Record<string, unknown>,
    options: {
      signal?: AbortSignal | undefined;
      timeoutMs?: number | undefined;
      handle?: CancelHandle | undefined;
    } = {},
  ): Promise<DirectAnswer> {
    const { signal, timeoutMs, handle } = options;
    const id = `direct-${++this.directIds}`;
    return new Promise<DirectAnswer>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const done = () => {
        if (timer !== undefined) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
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
      if (handle) handle.cancel = (reason) => cancel(new Error(reason), reason);
      if (timeoutMs !== undefined)
        timer = setTimeout(
          () =>
            cancel(
              new ConnectionError('TIMEOUT', `no answer within ${timeoutMs} ms`),
              `no answer within ${timeoutMs} ms`,
            ),
          timeoutMs,
        );
      this.direct.set(id, {
        settle: (answer) => {
          done();
          resolve(answer);
        },
        fail: (error) => {
          done();
          reject(error);
        },
      });
      this.send({ jsonrpc: '2.0', id, method, params }).catch((error: unknown) => {
        if (!this.direct.delete(id)) return;
        done();
        reject(error);
      });
    });
  }

  setProtocolVersion(version: string): void {
    this.protocolVersion = version;
  }

  async send(message: JSONRPCMessage): Promise<void> {
    if (this.closed) throw new ConnectionError('CLOSED', 'transport is closed');
    const body = JSON.stringify(message);
    const requestId = 'method' in message && 'id' in message ? message.id : undefined;
    let response: IncomingMessage;
    try {
      response = await this.exchange('POST', body, 'application/json, text/event-stream');
    } catch (error) {
      this.onerror?.(error as Error);
      throw error;
    }
    const sessionId = response.headers['mcp-session-id'];
    if (typeof sessionId === 'string') this.sessionId = sessionId;
    const status = response.statusCode ?? 0;
    if (status < 200 || status >= 300) {
      const text = await readBody(response).catch(() => '');
      const error = httpError(
        status,
        `${this.url.href} refused the request${text ? `: ${text.trim().slice(0, 200)}` : ''}`,
      );
      this.onerror?.(error);
      throw error;
    }
    if (status === 202 || requestId === undefined) {
      response.resume();
      if (
        'method' in message &&
        message.method === 'notifications/initialized' &&
        this.eventStream === undefined
      )
        this.openEventStream();
      return;
    }
    const type = response.headers['content-type'] ?? '';
    if (type.includes('text/event-stream')) {
      let answered = false;
      this.readEvents(response, (m) => {
        if ('id' in m && m.id === requestId && !('method' in m)) answered = true;
      }).then(() => {
        if (answered || this.closed) return;
        // The stream ended without the answer: fail the request now rather than at its timeout.
        this.deliver({
          jsonrpc: '2.0',
          id: requestId,
          error: {
            code: CONNECTION_CLOSED,
            message: 'the instance closed the stream before answering',
          },
        });
      });
      return;
    }
    const text = await readBody(response);
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
      response.resume();
    } catch {
      // Best effort: the server expires sessions on its own.
    }
    this.sessionId = undefined;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.reopenTimer) clearTimeout(this.reopenTimer);
    for (const req of this.open) req.destroy();
    this.open.clear();
    const pending = [...this.direct.values()];
    this.direct.clear();
    for (const { fail } of pending) fail(new ConnectionError('CLOSED', 'transport is closed'));
    this.agent.destroy();
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

  /**
   * One HTTP request; resolves with the response head (the body is the caller's to read). A
   * pooled keep-alive socket the server closed meanwhile is retried once on a fresh one, as
   * the request never reached the server.
   */
  private async exchange(
    method: 'POST' | 'GET' | 'DELETE',
    body: string | undefined,
    accept: string | undefined,
    timeoutMs?: number,
  ): Promise<IncomingMessage> {
    try {
      return await this.exchangeOnce(method, body, accept, timeoutMs);
    } catch (error) {
      if (!(error as { staleSocket?: boolean }).staleSocket || this.closed) throw error;
      return this.exchangeOnce(method, body, accept, timeoutMs);
    }
  }

  private exchangeOnce(
    method: 'POST' | 'GET' | 'DELETE',
    body: string | undefined,
    accept: string | undefined,
    timeoutMs?: number,
  ): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const req = request({
        ...this.target,
        method,
        agent: this.agent,
        headers: {
          ...this.headers(accept, body !== undefined),
          ...(body === undefined ? {} : { 'content-length': Buffer.byteLength(body) }),
        },
      });
      this.open.add(req);
      req.once('close', () => this.open.delete(req));
      if (timeoutMs !== undefined)
        req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      req.once('response', resolve);
      req.once('error', (error: NodeJS.ErrnoException) => {
        if (this.closed) return reject(new ConnectionError('CLOSED', 'transport is closed'));
        if (req.reusedSocket && error.code === 'ECONNRESET')
          Object.assign(error, { staleSocket: true });
        reject(error);
      });
      req.end(body);
      if (method === 'GET') this.eventStream = req;
    });
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

  /** Reads `data:` events of an SSE body until it ends; resolves then (never rejects). */
  private readEvents(
    response: IncomingMessage,
    seen?: (message: JSONRPCMessage) => void,
  ): Promise<void> {
    return new Promise((resolve) => {
      let buffer = '';
      let data: string[] = [];
      const dispatch = () => {
        if (data.length === 0) return;
        const text = data.join('\n');
        data = [];
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
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        buffer += chunk;
        let nl = buffer.indexOf('\n');
        while (nl >= 0) {
          const line = buffer.slice(0, nl).replace(/\r$/, '');
          buffer = buffer.slice(nl + 1);
          if (line === '') dispatch();
          else if (line.startsWith('data:')) data.push(line.slice(line[5] === ' ' ? 6 : 5));
          nl = buffer.indexOf('\n');
        }
      });
      response.once('close', () => {
        dispatch();
        resolve();
      });
      response.once('error', () => undefined);
    });
  }

  /** The server's own event stream (notifications outside requests); reopened when it drops. */
  private openEventStream(): void {
    if (this.closed) return;
    this.exchange('GET', undefined, 'text/event-stream').then(
      async (response) => {
        const status = response.statusCode ?? 0;
        if (status === 405) {
          response.resume();
          return; // the server offers no standalone stream
        }
        if (status !== 200) {
          response.resume();
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
    this.eventStream = undefined;
    if (this.closed) return;
    this.onerror?.(error);
    const delays = this.options.reopenDelaysMs ?? [250, 1_000, 4_000];
    const delay = delays[this.reopenAttempt++];
    if (delay === undefined) return;
    this.reopenTimer = setTimeout(() => this.openEventStream(), delay);
    this.reopenTimer.unref();
  }
}

function readBody(response: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => {
      text += chunk;
    });
    response.once('end', () => resolve(text));
    response.once('error', reject);
  });
}
