// What the hub adds to the SDK client on a connection that speaks MCP 2026-07-28 (an instance
// that refused the 2025 handshake): the SDK negotiates, wraps each request in its envelope and
// answers `input_required` through the client's handlers; here are the hub's bounds on those
// rounds, and what 2026-07-28 has no request for. Subscriptions and the catalog's
// `list_changed` become one `subscriptions/listen` stream, reopened while the connection lives;
// the log level travels in each request's `_meta`.
import type { Clock } from '@mcp-beacon/runtime';
import {
  type Client,
  type JSONRPCMessage,
  LOG_LEVEL_META_KEY,
  type McpSubscription,
  type Result,
  type SubscriptionFilter,
} from '@modelcontextprotocol/client';
import type { InstanceRequest } from './_call.js';
import { backoffDelay } from './retry.js';

/** The revision spoken with an instance that refused the 2025 handshake. */
export const MODERN_REVISION = '2026-07-28';

/** Most `input_required` rounds one request may take before it fails. */
export const MAX_INPUT_ROUNDS = 10;

/** Most requests one `input_required` round may make of the client. */
export const MAX_INPUT_REQUESTS = 16;

/** What an instance may ask the client within a request (2026-07-28's input requests). */
const INPUT_METHODS = new Set(['sampling/createMessage', 'elicitation/create', 'roots/list']);

/** The listen stream's reopening: from 250 ms, at most 30 s apart. */
const LISTEN_BACKOFF = { initialMs: 250, maxMs: 30_000 };

type Json = Record<string, unknown>;
const isRecord = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * An `input_required` answer past the hub's bounds (over {@link MAX_INPUT_REQUESTS} requests, or
 * one that is not an input request) as the error its caller gets instead, before the SDK acts
 * on it; any other message as it is.
 */
export function screenInputRequests(message: JSONRPCMessage): JSONRPCMessage {
  if (!('result' in message) || !isRecord(message.result)) return message;
  if (message.result.resultType !== 'input_required') return message;
  const refuse = (code: number, text: string): JSONRPCMessage => ({
    jsonrpc: '2.0',
    id: message.id,
    error: { code, message: text },
  });
  const asks = isRecord(message.result.inputRequests)
    ? Object.values(message.result.inputRequests)
    : [];
  if (asks.length > MAX_INPUT_REQUESTS)
    return refuse(
      -32603,
      `the instance asked the client ${asks.length} things at once; at most ${MAX_INPUT_REQUESTS} are carried`,
    );
  for (const ask of asks)
    if (!isRecord(ask) || typeof ask.method !== 'string' || !INPUT_METHODS.has(ask.method))
      return refuse(
        -32602,
        `the instance asked the client for ${isRecord(ask) ? String(ask.method).slice(0, 64) : 'something'}, which is not an input request`,
      );
  return message;
}

/** The parts of a 2026-07-28 connection the SDK client does not keep: one per connection. */
export class ModernSession {
  private level: string | undefined;
  private readonly followed = new Set<string>();
  private listening: McpSubscription | undefined;
  private opening = 0;
  private attempt = 0;
  private timer: unknown;
  private closed = false;

  constructor(
    private readonly client: Client,
    private readonly clock: Clock,
    /** A listen stream that could not be opened, or was lost. */
    private readonly lost: (error: Error) => void,
  ) {}

  /**
   * The answer to a request 2026-07-28 has no counterpart for, given here: a subscription (the
   * listen stream follows it from now on) or the log level (sent with each request from now
   * on). Undefined for a request that is sent.
   */
  answer(request: InstanceRequest): Result | undefined {
    const { method, params } = request;
    if (method === 'logging/setLevel') {
      this.level = typeof params.level === 'string' ? params.level : undefined;
      return {};
    }
    if (method !== 'resources/subscribe' && method !== 'resources/unsubscribe') return undefined;
    if (typeof params.uri !== 'string') return undefined;
    const had = this.followed.has(params.uri);
    if (method === 'resources/subscribe') this.followed.add(params.uri);
    else this.followed.delete(params.uri);
    if (had !== this.followed.has(params.uri)) this.listen();
    return {};
  }

  /** `request` as it is sent: with the log level asked for, in its `_meta`. */
  outgoing(request: InstanceRequest): InstanceRequest {
    if (this.level === undefined) return request;
    const meta = isRecord(request.params._meta) ? request.params._meta : {};
    return {
      method: request.method,
      params: { ...request.params, _meta: { ...meta, [LOG_LEVEL_META_KEY]: this.level } },
    };
  }

  /** What the listen stream asks for: the lists that can change, and the followed resources. */
  private filter(): SubscriptionFilter | undefined {
    const caps = this.client.getServerCapabilities() ?? {};
    const filter: SubscriptionFilter = {};
    if (caps.tools?.listChanged) filter.toolsListChanged = true;
    if (caps.resources?.listChanged) filter.resourcesListChanged = true;
    if (caps.prompts?.listChanged) filter.promptsListChanged = true;
    if (this.followed.size > 0 && caps.resources?.subscribe)
      filter.resourceSubscriptions = [...this.followed];
    return Object.keys(filter).length > 0 ? filter : undefined;
  }

  /** (Re)opens the listen stream with what it follows now; the old one is closed. */
  listen(): void {
    if (this.closed) return;
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    const old = this.listening;
    this.listening = undefined;
    void old?.close();
    const filter = this.filter();
    if (!filter) return;
    const opening = ++this.opening;
    this.client.listen(filter).then(
      (subscription) => {
        if (this.closed || opening !== this.opening) {
          void subscription.close();
          return;
        }
        this.listening = subscription;
        this.attempt = 0;
        void subscription.closed.then((how) => {
          if (how !== 'local' && this.listening === subscription) this.reopenLater();
        });
      },
      (error: Error) => {
        if (this.closed || opening !== this.opening) return;
        this.lost(error);
        this.reopenLater();
      },
    );
  }

  /** The stream ended or could not open: opened again, later each time. */
  private reopenLater(): void {
    if (this.closed) return;
    this.listening = undefined;
    const delay = backoffDelay(this.attempt++, LISTEN_BACKOFF);
    this.timer = this.clock.setTimeout(() => this.listen(), delay);
  }

  close(): void {
    this.closed = true;
    this.clock.clearTimeout(this.timer);
    void this.listening?.close();
    this.listening = undefined;
  }
}
