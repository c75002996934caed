import {
  CLIENT_CAPABILITIES_META_KEY,
  CLIENT_INFO_META_KEY,
  type ClientCapabilities,
  LOG_LEVEL_META_KEY,
  type LoggingLevel,
  type LoggingMessageNotification,
  PROTOCOL_VERSION_META_KEY,
  type Server,
  type ServerContext,
} from '@modelcontextprotocol/server';
import { isRecord } from '../_values.js';
import type { ToolExtra } from '../calls/forward.js';
import { LOG_LEVELS } from './subscriptions.js';

/** The two protocol families: `legacy` (an `initialize` handshake, up to 2025-11-25), `modern` (2026-07-28, no handshake). */
export type ProtocolEra = 'legacy' | 'modern';

/**
 * The hub's MCP client as the hub reaches it: the SDK server serving its connection, which
 * exists once the client's first message chose the connection's era.
 */
export interface ClientPeer {
  /** The server serving the connection now; undefined before the client's first message. */
  readonly server: Server | undefined;
  /** The era of {@link server}. */
  readonly era: ProtocolEra | undefined;
  /** True while a connection is being served (notifications have somewhere to go). */
  connected(): boolean;
  /**
   * What the client can answer when the hub asks it (sampling, elicitation, roots). A modern
   * client is never asked: 2026-07-28 has no requests from server to client outside a call.
   */
  askable(): ClientCapabilities | undefined;
  /** The connection's server is `server`, serving `era` (the latest built wins). */
  serve(server: Server, era: ProtocolEra): void;
}

/** Creates the peer slot; {@link ClientPeer.serve} fills it. */
export function createClientPeer(): ClientPeer {
  let server: Server | undefined;
  let era: ProtocolEra | undefined;
  return {
    get server() {
      return server;
    },
    get era() {
      return era;
    },
    connected: () => server?.transport !== undefined,
    askable: () => (era === 'legacy' ? server?.getClientCapabilities() : undefined),
    serve(next, nextEra) {
      server = next;
      era = nextEra;
    },
  };
}

/** What a forwarded request needs of the SDK's handler context: its signal, progress token and notify. */
export function extraOf(ctx: ServerContext): ToolExtra {
  const { signal, notify } = ctx.mcpReq;
  const meta = ctx.mcpReq._meta as ToolExtra['_meta'];
  return {
    signal,
    _meta: meta,
    sendNotification: (notification) => notify(notification),
  };
}

/** True for a request of the 2026-07-28 era (it carries the per-request envelope). */
export const isModernRequest = (ctx: ServerContext): boolean =>
  'envelope' in ctx.mcpReq && ctx.mcpReq.envelope !== undefined;

/** What a 2026-07-28 request says its client can answer (sampling, elicitation, roots). */
export function clientCapabilitiesOf(ctx: ServerContext): Record<string, unknown> | undefined {
  return capabilitiesIn((ctx.mcpReq as { envelope?: unknown }).envelope);
}

/** The client capabilities a 2026-07-28 `_meta` envelope carries, if it carries them. */
export function capabilitiesIn(meta: unknown): Record<string, unknown> | undefined {
  const capabilities = isRecord(meta) ? meta[ENVELOPE.capabilities] : undefined;
  return isRecord(capabilities) ? capabilities : undefined;
}

/** The revision of the 2026-07-28 era (the one the hub serves modern clients in). */
export const MODERN_REVISION = '2026-07-28';

/** The keys of a 2026-07-28 request's `_meta` envelope (the SDK's names for them). */
export const ENVELOPE = {
  version: PROTOCOL_VERSION_META_KEY,
  clientInfo: CLIENT_INFO_META_KEY,
  capabilities: CLIENT_CAPABILITIES_META_KEY,
  /** The least severe log level the request wants log messages at; absent, it wants none. */
  logLevel: LOG_LEVEL_META_KEY,
} as const;

/** Where the log messages a 2026-07-28 request asked for go: that request's own notifications. */
export interface LogSink {
  /** Whether the request wants a message at `level`. */
  wants(level: LoggingLevel): boolean;
  send(params: LoggingMessageNotification['params']): Promise<void>;
}

/**
 * The log sink of a 2026-07-28 request whose `_meta` names a log level; undefined for one that
 * names none (it gets no log messages at all).
 */
export function logSinkOf(ctx: ServerContext): LogSink | undefined {
  const envelope = (ctx.mcpReq as { envelope?: unknown }).envelope;
  const asked = isRecord(envelope) ? envelope[ENVELOPE.logLevel] : undefined;
  const threshold = LOG_LEVELS.indexOf(asked as LoggingLevel);
  if (threshold < 0) return undefined;
  return {
    wants: (level) => LOG_LEVELS.indexOf(level) >= threshold,
    send: (params) => ctx.mcpReq.notify({ method: 'notifications/message', params }),
  };
}

/** The `requestState` a 2026-07-28 request echoes, if any. */
export function requestStateOf(ctx: ServerContext): string | undefined {
  const read = (ctx.mcpReq as { requestState?: () => unknown }).requestState;
  const state = typeof read === 'function' ? read() : undefined;
  return typeof state === 'string' ? state : undefined;
}
