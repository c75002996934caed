// A 2025-era SDK client's transport to a server that speaks MCP 2026-07-28 only: the client's
// handshake, pings, subscriptions and log level become what that revision has instead, and the
// server's `input_required` results become requests to the client. The hub keeps one model of
// an instance (the 2025 one) and meets the newer revision here, at the edge.
import { type Clock, systemClock } from '@mcp-beacon/runtime';
import type { JSONRPCMessage, RequestId, Transport } from '@modelcontextprotocol/client';
import { SessionWire } from './_session-wire.js';
import { readBodyJson, readEventStream, refusal } from './_sse.js';
import { ConnectionError } from './errors.js';
import { backoffDelay } from './retry.js';

/** The revision this transport speaks on the wire. */
export const MODERN_REVISION = '2026-07-28';

/** Most `input_required` rounds one request may take before it fails. */
export const MAX_INPUT_ROUNDS = 10;

/** Most requests one `input_required` round may make of the client. */
export const MAX_INPUT_REQUESTS = 16;

/** What a server may ask the client within a request (2026-07-28's input requests). */
const INPUT_METHODS = new Set(['sampling/createMessage', 'elicitation/create', 'roots/list']);

const MAX_MESSAGE_LENGTH = 64 * 1024 * 1024;
/** The listen stream's reopening: from 250 ms, at most 30 s apart. */
const LISTEN_BACKOFF = { initialMs: 250, maxMs: 30_000 };
const KEY = {
  version: 'io.modelcontextprotocol/protocolVersion',
  clientInfo: 'io.modelcontextprotocol/clientInfo',
  capabilities: 'io.modelcontextprotocol/clientCapabilities',
  logLevel: 'io.modelcontextprotocol/logLevel',
  serverInfo: 'io.modelcontextprotocol/serverInfo',
  subscription: 'io.modelcontextprotocol/subscriptionId',
} as const;

type Json = Record<string, unknown>;
const isRecord = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Options of {@link ModernHttpTransport}. */
export interface ModernHttpTransportOptions {
  /** Bearer token sent with every request. */
  token?: string | undefined;
  /** Longest message accepted, in characters (default 64 Mi). */
  maxMessageLength?: number;
  /** Timers of the listen stream's reopening (default: the real clock). */
  clock?: Clock;
}

/** One exchange of the client's: how to end it, and the bridge requests it is waiting on. */
interface Exchange {
  abort: AbortController;
}

/**
 * A transport for a 2025-era SDK client that talks MCP 2026-07-28 to the server, on undici:
 * - `initialize` is answered from `server/discover` (its capabilities, identity, instructions);
 * - every request carries the revision, the client's identity and capabilities (and the log
 *   level it set) in `_meta`, and the `Mcp-Method` / `Mcp-Name` headers;
 * - `ping` is a `server/discover` (the revision has no ping);
 * - `resources/subscribe` and the server's `list_changed` are one `subscriptions/listen` stream,
 *   reopened with backoff while the transport lives;
 * - an `input_required` result is carried to the client as its `sampling/createMessage`,
 *   `elicitation/create` or `roots/list` requests, and the request is sent again with the
 *   answers (at most {@link MAX_INPUT_ROUNDS} rounds);
 * - `notifications/cancelled` ends the request's exchange, which is how the revision cancels.
 */
export class ModernHttpTransport implements Transport {
  onclose?: (() => void) | undefined;
  onerror?: ((error: Error) => void) | undefined;
  onmessage?: ((message: JSONRPCMessage) => void) | undefined;
  private readonly wire: SessionWire;
  private readonly clock: Clock;
  private readonly maxLength: number;
  private readonly exchanges = new Map<RequestId, Exchange>();
  /** Requests this transport made of the client, by their id: how to settle each. */
  private readonly asked = new Map<string, (message: JSONRPCMessage) => void>();
  private asks = 0;
  private clientInfo: Json = { name: 'beacon-hub', version: '0.0.0' };
  private capabilities: Json = {};
  private logLevel: string | undefined;
  private readonly subscriptions = new Set<string>();
  private serverCapabilities: Json = {};
  private listen: AbortController | undefined;
  private listenAttempt = 0;
  private listenTimer: unknown;
  /** The client said `initialized`: the listen stream may open. */
  private initialized = false;
  private closed = false;

  constructor(
    readonly url: URL | string,
    options: ModernHttpTransportOptions = {},
  ) {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:')
      throw new ConnectionError('BAD_URL', `only http URLs are supported, got ${parsed.href}`);
    this.wire = new SessionWire(parsed, options.token);
    this.wire.protocolVersion = MODERN_REVISION;
    this.clock = options.clock ?? systemClock;
    this.maxLength = options.maxMessageLength ?? MAX_MESSAGE_LENGTH;
  }

  async start(): Promise<void> {}

  async send(message: JSONRPCMessage): Promise<void> {
    if (this.closed) throw new ConnectionError('CLOSED', 'transport is closed');
    if (!('method' in message)) {
      // The client's answer to a request of ours.
      const settle = this.asked.get(String(message.id));
      if (settle) settle(message);
      return;
    }
    if (!('id' in message)) return this.notify(message.method, message.params);
    const { id, method } = message;
    const params = isRecord(message.params) ? message.params : {};
    switch (method) {
      case 'initialize':
        return this.initialize(id, params);
      case 'ping':
        return this.answer(id, async () => {
          await this.exchange(id, 'server/discover', {});
          return {};
        });
      case 'logging/setLevel':
        this.logLevel = typeof params.level === 'string' ? params.level : undefined;
        return this.deliver({ jsonrpc: '2.0', id, result: {} });
      case 'resources/subscribe':
      case 'resources/unsubscribe':
        if (typeof params.uri === 'string') {
          if (method === 'resources/subscribe') this.subscriptions.add(params.uri);
          else this.subscriptions.delete(params.uri);
          this.reopenListen();
        }
        return this.deliver({ jsonrpc: '2.0', id, result: {} });
      default:
        return this.answer(id, () => this.request(id, method, params));
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.listen?.abort();
    this.clock.clearTimeout(this.listenTimer);
    for (const exchange of this.exchanges.values()) exchange.abort.abort();
    this.exchanges.clear();
    this.wire.close();
    this.onclose?.();
  }

  /** The client's `initialize`, answered from the server's `server/discover`. */
  private async initialize(id: RequestId, params: Json): Promise<void> {
    if (isRecord(params.clientInfo)) this.clientInfo = params.clientInfo;
    if (isRecord(params.capabilities)) this.capabilities = params.capabilities;
    // A failure is thrown from `send`, so the connection sees why (and may try 2025 again).
    try {
      const discover = await this.exchange(id, 'server/discover', {}).catch((error: unknown) => {
        // The server answered, but not as a 2026-07-28 server does: it is not one (any more).
        if (error instanceof ConnectionError) throw error;
        throw new ConnectionError(
          'NOT_MCP',
          `${this.wire.url.href} does not answer server/discover: ${(error as Error).message}`,
        );
      });
      const versions = Array.isArray(discover.supportedVersions) ? discover.supportedVersions : [];
      if (!versions.includes(MODERN_REVISION))
        throw new ConnectionError(
          'NOT_MCP',
          `${this.wire.url.href} offers ${JSON.stringify(versions).slice(0, 200)}, not ${MODERN_REVISION}`,
        );
      this.serverCapabilities = isRecord(discover.capabilities) ? discover.capabilities : {};
      const meta = isRecord(discover._meta) ? discover._meta : {};
      this.deliver({
        jsonrpc: '2.0',
        id,
        result: {
          // The client checks the version it asked for; what is spoken is 2026-07-28.
          protocolVersion: params.protocolVersion,
          capabilities: this.serverCapabilities,
          serverInfo: isRecord(meta[KEY.serverInfo])
            ? meta[KEY.serverInfo]
            : { name: 'unknown', version: '0.0.0' },
          ...(typeof discover.instructions === 'string'
            ? { instructions: discover.instructions }
            : {}),
        },
      } as JSONRPCMessage);
    } finally {
      this.exchanges.delete(id);
    }
  }

  private notify(method: string, params: unknown): void {
    if (method === 'notifications/initialized') {
      this.initialized = true;
      this.openListen();
    } else if (method === 'notifications/cancelled' && isRecord(params))
      this.exchanges.get(params.requestId as RequestId)?.abort.abort();
    // Nothing else a client notifies has a 2026-07-28 counterpart (roots changes are asked for).
  }

  /** Runs `work` and delivers its result (or its error) as the answer to `id`. */
  private async answer(id: RequestId, work: () => Promise<Json>): Promise<void> {
    try {
      this.deliver({ jsonrpc: '2.0', id, result: await work() } as JSONRPCMessage);
    } catch (error) {
      if (this.closed) return;
      if (this.exchanges.get(id)?.abort.signal.aborted) return; // cancelled: no answer
      // The request did not get through (or its answer did not): the send fails, as it does on
      // the 2025 transport, and the caller reports the instance as failing.
      if (error instanceof ConnectionError) throw error;
      const rpc = error as { code?: unknown; message?: string; data?: unknown };
      this.deliver({
        jsonrpc: '2.0',
        id,
        error: {
          code: Number.isSafeInteger(rpc.code) ? (rpc.code as number) : -32603,
          message: rpc.message ?? String(error),
          ...(rpc.data === undefined ? {} : { data: rpc.data }),
        },
      });
    } finally {
      this.exchanges.delete(id);
    }
  }

  /** A request of the client's, its `input_required` rounds carried to the client. */
  private async request(id: RequestId, method: string, params: Json): Promise<Json> {
    let round = params;
    for (let rounds = 0; ; rounds++) {
      const result = await this.exchange(id, method, round);
      if (result.resultType !== 'input_required') {
        const { resultType: _kind, ...rest } = result;
        return rest;
      }
      if (rounds >= MAX_INPUT_ROUNDS)
        throw Object.assign(
          new Error(`${method} still required input after ${MAX_INPUT_ROUNDS} rounds`),
          { code: -32603 },
        );
      const requests = isRecord(result.inputRequests) ? result.inputRequests : {};
      const asks = Object.entries(requests);
      if (asks.length > MAX_INPUT_REQUESTS)
        throw Object.assign(
          new Error(
            `${method} asked the client ${asks.length} things at once; at most ${MAX_INPUT_REQUESTS} are carried`,
          ),
          { code: -32603 },
        );
      const answers: Json = {};
      await Promise.all(
        asks.map(async ([key, ask]) => {
          answers[key] = await this.askClient(id, ask);
        }),
      );
      round = {
        ...params,
        inputResponses: answers,
        ...(typeof result.requestState === 'string' ? { requestState: result.requestState } : {}),
      };
    }
  }

  /** One request of the server's, made of the client; resolves with its result. */
  private askClient(exchange: RequestId, ask: unknown): Promise<unknown> {
    if (!isRecord(ask) || typeof ask.method !== 'string' || !INPUT_METHODS.has(ask.method))
      return Promise.reject(
        Object.assign(
          new Error(
            `the server asked the client for ${isRecord(ask) ? String(ask.method).slice(0, 64) : 'something'}, which is not an input request`,
          ),
          { code: -32602 },
        ),
      );
    const id = `modern-input-${++this.asks}`;
    return new Promise((resolve, reject) => {
      const signal = this.exchanges.get(exchange)?.abort.signal;
      const onAbort = () => {
        this.asked.delete(id);
        reject(new Error('cancelled'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.asked.set(id, (message) => {
        this.asked.delete(id);
        signal?.removeEventListener('abort', onAbort);
        if ('result' in message) resolve(message.result);
        else if ('error' in message)
          reject(Object.assign(new Error(message.error.message), message.error));
      });
      this.deliver({
        jsonrpc: '2.0',
        id,
        method: ask.method,
        params: isRecord(ask.params) ? ask.params : {},
      } as JSONRPCMessage);
    });
  }

  /** The `_meta` every request carries. */
  private envelope(): Json {
    return {
      [KEY.version]: MODERN_REVISION,
      [KEY.clientInfo]: this.clientInfo,
      [KEY.capabilities]: this.capabilities,
      ...(this.logLevel === undefined ? {} : { [KEY.logLevel]: this.logLevel }),
    };
  }

  /** One POST; notifications on its stream are delivered, its result returned. */
  private async exchange(id: RequestId, method: string, params: Json): Promise<Json> {
    const abort = new AbortController();
    this.exchanges.set(id, { abort });
    const meta = isRecord(params._meta) ? params._meta : {};
    const body = {
      jsonrpc: '2.0',
      id,
      method,
      params: { ...params, _meta: { ...meta, ...this.envelope() } },
    };
    const name = nameOf(method, params);
    const response = await this.wire.exchange('POST', {
      body: JSON.stringify(body),
      accept: 'application/json, text/event-stream',
      signal: abort.signal,
      extraHeaders: { 'mcp-method': method, ...(name === undefined ? {} : { 'mcp-name': name }) },
    });
    if (response.status < 200 || response.status >= 300) {
      // A JSON-RPC error in a refusal's body is the server's answer.
      const answer = await readBodyJson(response, { maxLength: 65_536 }, this.wire.url.href).catch(
        () => undefined,
      );
      const error = answer?.find((m): m is { error: Json } => isRecord(m) && isRecord(m.error));
      if (error) throw Object.assign(new Error(String(error.error.message)), error.error);
      throw await refusal(response, this.wire.url.href);
    }
    let answer: Json | undefined;
    const take = (m: unknown) => {
      if (!isRecord(m)) return;
      if (m.id === id && !('method' in m)) {
        answer = m;
        return;
      }
      if (typeof m.method === 'string') this.deliver(m as JSONRPCMessage);
    };
    const type = response.headers['content-type'] ?? '';
    if (type.includes('text/event-stream')) {
      const cut = await readEventStream(
        response,
        { maxLength: this.maxLength },
        { onData: (data) => take(parse(data)) },
      );
      if (cut !== undefined) throw new ConnectionError('TOO_LARGE', cut);
    } else {
      for (const m of await readBodyJson(
        response,
        { maxLength: this.maxLength },
        this.wire.url.href,
      ))
        take(m);
    }
    if (!answer) throw new ConnectionError('NOT_MCP', `${method}: the server sent no answer`);
    if (isRecord(answer.error))
      throw Object.assign(new Error(String(answer.error.message)), answer.error);
    return isRecord(answer.result) ? answer.result : {};
  }

  /** The stream of the server's changes: lists, and the resources the client follows. */
  private openListen(): void {
    if (this.closed) return;
    const filter: Json = {};
    const caps = this.serverCapabilities;
    for (const [kind, field] of [
      ['tools', 'toolsListChanged'],
      ['resources', 'resourcesListChanged'],
      ['prompts', 'promptsListChanged'],
    ] as const)
      if (isRecord(caps[kind]) && caps[kind].listChanged === true) filter[field] = true;
    if (this.subscriptions.size > 0 && isRecord(caps.resources) && caps.resources.subscribe)
      filter.resourceSubscriptions = [...this.subscriptions];
    if (Object.keys(filter).length === 0) return;
    const abort = new AbortController();
    this.listen = abort;
    const id = `listen-${++this.asks}`;
    void this.wire
      .exchange('POST', {
        body: JSON.stringify({
          jsonrpc: '2.0',
          id,
          method: 'subscriptions/listen',
          params: { notifications: filter, _meta: this.envelope() },
        }),
        accept: 'text/event-stream',
        signal: abort.signal,
        extraHeaders: { 'mcp-method': 'subscriptions/listen' },
      })
      .then(async (response) => {
        if (response.status !== 200) throw await refusal(response, this.wire.url.href);
        await readEventStream(
          response,
          { maxLength: this.maxLength },
          {
            onData: (data) => {
              const m = parse(data);
              if (!isRecord(m) || typeof m.method !== 'string') return;
              if (m.method === 'notifications/subscriptions/acknowledged') {
                this.listenAttempt = 0;
                return;
              }
              const params = isRecord(m.params) ? { ...m.params } : {};
              if (isRecord(params._meta)) {
                const { [KEY.subscription]: _id, ...rest } = params._meta;
                params._meta = rest;
              }
              this.deliver({ jsonrpc: '2.0', method: m.method, params } as JSONRPCMessage);
            },
          },
        );
      })
      .catch((error: Error) => {
        if (!abort.signal.aborted && !this.closed) this.onerror?.(error);
      })
      .finally(() => {
        if (this.listen !== abort || this.closed) return;
        // The stream ended: it is opened again, later each time it fails.
        const delay = backoffDelay(this.listenAttempt++, LISTEN_BACKOFF);
        this.listenTimer = this.clock.setTimeout(() => this.openListen(), delay);
      });
  }

  private reopenListen(): void {
    if (!this.initialized) return; // opened with what it follows at `initialized`
    const old = this.listen;
    this.listen = undefined;
    this.clock.clearTimeout(this.listenTimer);
    old?.abort();
    this.openListen();
  }

  private deliver(message: JSONRPCMessage): void {
    if (!this.closed) this.onmessage?.(message);
  }
}

/** What `Mcp-Name` names for a method: the tool, prompt or resource. */
function nameOf(method: string, params: Json): string | undefined {
  const name =
    method === 'tools/call' || method === 'prompts/get'
      ? params.name
      : method === 'resources/read'
        ? params.uri
        : undefined;
  return typeof name === 'string' ? name : undefined;
}

function parse(data: string): unknown {
  try {
    return JSON.parse(data);
  } catch {
    return undefined;
  }
}
