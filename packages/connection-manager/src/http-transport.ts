// The MCP streamable-HTTP client transport of the hub: requests and their JSON or SSE answers,
// the server's GET event stream (reopened with backoff for as long as the transport lives),
// one recovery of an expired session, cancellation that frees the exchange, and the direct-call
// fast path. The session's requests are `_session-wire.ts` (on `_undici.ts`), reading answers
// `_sse.ts`, the call table `_direct-calls.ts`, the GET stream's life `_event-stream.ts`, the
// renewal of a forgotten session `_session-renewal.ts`, the order of deliveries `_order.ts`.
import { type Clock, systemClock } from '@mcp-beacon/runtime';
import type { JSONRPCMessage, RequestId, Transport } from '@modelcontextprotocol/client';
import { type DirectAnswer, DirectCalls } from './_direct-calls.js';
import { EventStream, type EventStreamStatus } from './_event-stream.js';
import { ResponseOrder } from './_order.js';
import { SessionRenewal } from './_session-renewal.js';
import { SessionWire } from './_session-wire.js';
import { type MessageBounds, readBodyJson, readEventStream, refusal } from './_sse.js';
import type { HttpResponse } from './_undici.js';
import { ConnectionError } from './errors.js';
import type { CallOptions, HttpClientTransportOptions } from './types.js';

export type { DirectAnswer } from './_direct-calls.js';
export type { EventStreamStatus } from './_event-stream.js';
export type { CallOptions, HttpClientTransportOptions } from './types.js';

const MAX_MESSAGE_LENGTH = 64 * 1024 * 1024;
const REOPEN_DELAYS_MS = [250, 1_000, 4_000, 15_000, 30_000];

/** JSON-RPC error code for a request whose connection ended before its answer. */
const CONNECTION_CLOSED = -32000;

/** A request whose answer is still to come: how to end its exchange, and its size bound. */
interface InFlight {
  abort: AbortController;
  bounds: MessageBounds;
  cancelled: boolean;
}

const requestIdOf = (message: JSONRPCMessage): RequestId | undefined =>
  'method' in message && 'id' in message ? message.id : undefined;

/**
 * A lean MCP streamable-HTTP client transport on undici: one upstream session, bodies parsed
 * as JSON and handed on without schema validation (the hub forwards them as they are).
 * Handles JSON and SSE answers to a POST, the server's GET event stream (reopened with
 * `Last-Event-ID` after a loss, for as long as the transport lives; see {@link eventStream}),
 * `mcp-session-id` / `mcp-protocol-version` headers, and ends the session with `DELETE` in
 * {@link terminateSession}. A session the server no longer knows (404) is renewed once with a
 * fresh `initialize`, its resource subscriptions and log level applied again, and the request
 * that met the 404 is sent again: the server never took it. A POST stream that ends before its
 * answer yields a JSON-RPC error for that request at once; `notifications/cancelled` for a
 * request in flight also ends its exchange, so its socket is freed.
 */
export class HttpClientTransport implements Transport {
  onclose?: (() => void) | undefined;
  onerror?: ((error: Error) => void) | undefined;
  onmessage?: ((message: JSONRPCMessage) => void) | undefined;
  /** Every change of {@link eventStream}. */
  oneventstream?: ((status: EventStreamStatus) => void) | undefined;
  private readonly url: URL;
  private readonly wire: SessionWire;
  private readonly clock: Clock;
  private readonly maxLength: number;
  private closed = false;
  private readonly events: EventStream;
  private readonly direct: DirectCalls;
  private readonly order = new ResponseOrder();
  private readonly inflight = new Map<RequestId, InFlight>();
  private readonly session: SessionRenewal;

  constructor(
    url: URL | string,
    private readonly options: HttpClientTransportOptions = {},
  ) {
    this.clock = options.clock ?? systemClock;
    this.url = new URL(url);
    if (this.url.protocol !== 'http:')
      throw new ConnectionError('BAD_URL', `only http URLs are supported, got ${this.url.href}`);
    this.maxLength = options.maxMessageLength ?? MAX_MESSAGE_LENGTH;
    this.wire = new SessionWire(this.url, options.token);
    this.direct = new DirectCalls(this.clock);
    this.session = new SessionRenewal({
      url: this.url.href,
      session: () => this.sessionId,
      forget: () => {
        this.wire.sessionId = undefined;
      },
      request: (method, params, timeoutMs) => this.request(method, params, { timeoutMs }, true),
      notify: (method) => this.post({ jsonrpc: '2.0', method }, undefined, true),
    });
    this.events = new EventStream(
      {
        get: (lastEventId) =>
          this.wire.exchange('GET', {
            accept: 'text/event-stream',
            extraHeaders: lastEventId === undefined ? {} : { 'last-event-id': lastEventId },
          }),
        session: () => this.sessionId,
        renew: (session) =>
          this.session.renew(session).catch((error: Error) => this.onerror?.(error)),
        renewing: () => this.session.renewing,
        renewals: () => this.session.renewals,
        message: (data) => {
          const m = this.parse(data, 'event stream');
          if (m) this.deliver(m);
        },
        error: (error) => this.onerror?.(error),
        status: (status) => this.oneventstream?.(status),
        closed: () => this.closed,
      },
      {
        clock: this.clock,
        delaysMs: options.reopenDelaysMs ?? REOPEN_DELAYS_MS,
        maxLength: this.maxLength,
        url: this.url.href,
      },
    );
  }

  async start(): Promise<void> {}

  /** The session the server gave, once it did (the SDK's `Transport.sessionId`). */
  get sessionId(): string | undefined {
    return this.wire.sessionId;
  }

  /** Resumes a session the server gave earlier (or forgets it, with undefined). */
  set sessionId(id: string | undefined) {
    this.wire.sessionId = id;
  }

  /** The server's event stream as last seen (undefined before the session is initialized). */
  get eventStream(): EventStreamStatus | undefined {
    return this.events.status;
  }

  /**
   * Reopens a lost event stream now rather than at its next scheduled attempt (the health
   * check calls it); does nothing while the stream is open, opening, or not offered.
   */
  reopenEventStream(): void {
    if (this.events.status?.state === 'lost' && !this.session.renewing && !this.closed)
      this.events.open();
  }

  /** Sessions renewed after the server answered 404 for this one. */
  get sessionRenewals(): number {
    return this.session.renewals;
  }

  /**
   * Sends one request outside the MCP client's bookkeeping and resolves with the answer as the
   * server wrote it (`result` or `error`, nothing validated): the hub forwards tool calls and
   * fetches catalogs this way. Notifications and server-to-client requests sent meanwhile still
   * reach `onmessage`, before the answer. Aborting `signal` (the one way to cancel) sends
   * `notifications/cancelled`, ends the exchange and rejects with the signal's reason; after
   * `timeoutMs` the same happens with a `TIMEOUT` error. An answer over `maxLength` characters
   * (default: the transport's bound) or holding over `maxValues` objects and arrays (default:
   * no bound) is cut while it is read, and the call rejects with `TOO_LARGE`.
   * @throws {ConnectionError} when the request cannot be sent, the server refuses it,
   *   `TOO_LARGE` or `TIMEOUT`.
   */
  call(
    method: string,
    params: Record<string, unknown>,
    options: CallOptions = {},
  ): Promise<DirectAnswer> {
    return this.request(method, params, options, false);
  }

  /** {@link call}; `renewal` marks the requests of a session renewal (they do not wait for it). */
  private request(
    method: string,
    params: Record<string, unknown>,
    options: CallOptions,
    renewal: boolean,
  ): Promise<DirectAnswer> {
    const bounds = { maxLength: options.maxLength ?? this.maxLength, maxValues: options.maxValues };
    return this.direct.call({
      signal: options.signal,
      timeoutMs: options.timeoutMs,
      post: (id) => this.post({ jsonrpc: '2.0', id, method, params }, bounds, renewal),
      cancelled: (requestId, reason) =>
        void this.send({
          jsonrpc: '2.0',
          method: 'notifications/cancelled',
          params: { requestId, reason },
        }).catch(() => undefined),
    });
  }

  setProtocolVersion(version: string): void {
    this.wire.protocolVersion = version;
  }

  async send(message: JSONRPCMessage): Promise<void> {
    if (this.closed) throw new ConnectionError('CLOSED', 'transport is closed');
    if ('method' in message) this.session.sent(message);
    if ('method' in message && message.method === 'notifications/cancelled') {
      // The cancelled request's exchange ends now: its socket is freed whatever the server does.
      const inflight = this.inflight.get(message.params?.requestId as RequestId);
      if (inflight) {
        inflight.cancelled = true;
        inflight.abort.abort();
      }
    }
    await this.post(message);
  }

  /**
   * POSTs one message and hands its answer on (to `onmessage`, or to its direct call).
   * `renewed` marks a message of a session renewal, or the one resend after it: it neither
   * waits for a renewal nor starts one.
   */
  private async post(
    message: JSONRPCMessage,
    bounds: MessageBounds = { maxLength: this.maxLength },
    renewed = false,
  ): Promise<void> {
    if (this.session.renewing && !renewed) await this.session.renewing.catch(() => undefined);
    if (this.closed) throw new ConnectionError('CLOSED', 'transport is closed');
    const requestId = requestIdOf(message);
    const inflight: InFlight | undefined =
      requestId === undefined
        ? undefined
        : { abort: new AbortController(), bounds, cancelled: false };
    if (inflight) this.inflight.set(requestId!, inflight);
    const release = () => {
      if (requestId !== undefined && this.inflight.get(requestId) === inflight)
        this.inflight.delete(requestId);
    };
    const session = this.sessionId;
    let response: HttpResponse;
    try {
      response = await this.wire.exchange('POST', {
        body: JSON.stringify(message),
        accept: 'application/json, text/event-stream',
        signal: inflight?.abort.signal,
      });
    } catch (error) {
      release();
      if (inflight?.cancelled) return;
      this.onerror?.(error as Error);
      throw error;
    }
    const sessionId = response.headers['mcp-session-id'];
    if (sessionId !== undefined) this.wire.sessionId = sessionId;
    const status = response.status;
    if (status === 404 && session !== undefined && !renewed) {
      // The server no longer knows the session (restarted, or expired it) and took nothing.
      response.discard();
      release();
      await this.session.renew(session);
      return this.post(message, bounds, true);
    }
    if (status < 200 || status >= 300) {
      release();
      const error = await refusal(response, this.url.href);
      this.onerror?.(error);
      throw error;
    }
    if (status === 202 || requestId === undefined) {
      release();
      response.discard();
      if ('method' in message && message.method === 'notifications/initialized') this.events.open();
      return;
    }
    const type = response.headers['content-type'] ?? '';
    if (type.includes('text/event-stream')) {
      let answered = false;
      void readEventStream(response, bounds, {
        onData: (data) => {
          const m = this.parse(data, 'event stream');
          if (m && 'id' in m && m.id === requestId && !('method' in m)) answered = true;
          if (m) this.deliver(m);
        },
      }).then((cut) => {
        release();
        if (answered || this.closed || inflight!.cancelled) return;
        // The stream ended without the answer: fail the request now rather than at its timeout.
        this.unanswered(requestId!, cut);
      });
      return;
    }
    let messages: unknown[];
    try {
      messages = await readBodyJson(response, bounds, this.url.href);
    } catch (error) {
      if (inflight!.cancelled) return;
      this.onerror?.(error as Error);
      throw error;
    } finally {
      release();
    }
    for (const m of messages) this.deliver(m);
  }

  /** A request whose stream ended unanswered: its direct call fails, or the client hears why. */
  private unanswered(requestId: RequestId, cut: string | undefined): void {
    if (cut !== undefined) this.onerror?.(new ConnectionError('TOO_LARGE', cut));
    if (this.direct.unanswered(requestId, cut)) return;
    const message = cut ?? 'the instance closed the stream before answering';
    this.deliver({ jsonrpc: '2.0', id: requestId, error: { code: CONNECTION_CLOSED, message } });
  }

  /** Ends the session on the server (`DELETE`), best effort and bounded in time; never throws. */
  async terminateSession(): Promise<void> {
    if (!this.closed) await this.wire.endSession(this.options.terminateTimeoutMs ?? 1_000);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.events.stop();
    this.wire.close();
    this.inflight.clear();
    this.direct.close(new ConnectionError('CLOSED', 'transport is closed'));
    this.onclose?.();
  }

  private parse(text: string, where: string): JSONRPCMessage | undefined {
    try {
      return JSON.parse(text) as JSONRPCMessage;
    } catch {
      this.onerror?.(new Error(`not JSON in ${where}: ${text.slice(0, 200)}`));
      return undefined;
    }
  }

  private deliver(message: unknown): void {
    if (this.closed) return;
    if (typeof message !== 'object' || message === null || !('jsonrpc' in message)) {
      this.onerror?.(new Error(`not a JSON-RPC message: ${JSON.stringify(message).slice(0, 200)}`));
      return;
    }
    // A response (to the SDK client or a direct call) is handed on after the handlers of the
    // notifications before it: see `_order.ts`.
    if ('id' in message && !('method' in message) && this.direct.has(message.id)) {
      const call = this.direct.take(message.id);
      this.order.response(() => call?.settle(message as DirectAnswer));
    } else if ('method' in message)
      this.order.notification(() => this.onmessage?.(message as JSONRPCMessage));
    else this.order.response(() => this.closed || this.onmessage?.(message as JSONRPCMessage));
  }
}
