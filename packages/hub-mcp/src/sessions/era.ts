// The protocol era as one type: what differs between a 2025 request and a 2026-07-28 one is
// read once, where the request arrives (the SDK's handler context on the slow path, the raw
// `_meta` on the fast path), and carried with it; the instance call is run on the request's
// account in one place.

import {
  type CallToolResult,
  CLIENT_CAPABILITIES_META_KEY,
  CLIENT_INFO_META_KEY,
  type InputRequiredResult,
  LOG_LEVEL_META_KEY,
  type LoggingLevel,
  type LoggingMessageNotification,
  PROTOCOL_VERSION_META_KEY,
  SERVER_INFO_META_KEY,
  type ServerContext,
} from '@modelcontextprotocol/server';
import { isRecord } from '../_values.js';
import { LOG_LEVELS } from './subscriptions.js';

/** The two protocol families: `legacy` (an `initialize` handshake, up to 2025-11-25), `modern` (2026-07-28, no handshake). */
export type ProtocolEra = 'legacy' | 'modern';

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

/** What one request's era decides. */
export type RequestEra =
  | { readonly kind: 'legacy' }
  | {
      readonly kind: 'modern';
      /** What the client says it can answer within this request (sampling, elicitation, roots). */
      readonly capabilities: Record<string, unknown> | undefined;
      /** Where the log messages it asked for go; undefined when it asked for none. */
      readonly log: LogSink | undefined;
      /** The `requestState` it echoes: it answers what an instance asked during its call. */
      readonly state: string | undefined;
    };

/** A 2025 request: the client is asked within the session, results carry no era fields. */
export const LEGACY: RequestEra = { kind: 'legacy' };

/** The client capabilities a 2026-07-28 `_meta` envelope carries, if it carries them. */
function capabilitiesIn(meta: unknown): Record<string, unknown> | undefined {
  const capabilities = isRecord(meta) ? meta[ENVELOPE.capabilities] : undefined;
  return isRecord(capabilities) ? capabilities : undefined;
}

/** True for a request of the 2026-07-28 era (the SDK hands it the per-request envelope). */
export const isModernRequest = (ctx: ServerContext): boolean =>
  'envelope' in ctx.mcpReq && ctx.mcpReq.envelope !== undefined;

/** The era of a request the SDK server dispatched. */
export function requestEraOf(ctx: ServerContext): RequestEra {
  if (!isModernRequest(ctx)) return LEGACY;
  const envelope = (ctx.mcpReq as { envelope?: unknown }).envelope;
  const read = (ctx.mcpReq as { requestState?: () => unknown }).requestState;
  const state = typeof read === 'function' ? read() : undefined;
  const asked = isRecord(envelope) ? envelope[ENVELOPE.logLevel] : undefined;
  const threshold = LOG_LEVELS.indexOf(asked as LoggingLevel);
  return {
    kind: 'modern',
    capabilities: capabilitiesIn(envelope),
    log:
      threshold < 0
        ? undefined
        : {
            wants: (level) => LOG_LEVELS.indexOf(level) >= threshold,
            send: (params) => ctx.mcpReq.notify({ method: 'notifications/message', params }),
          },
    state: typeof state === 'string' ? state : undefined,
  };
}

/**
 * The era a raw request's `_meta` claims, for a request taken before the SDK sees it: `legacy`
 * for no envelope, `modern` for a well-formed 2026-07-28 one, undefined for anything else (left
 * to the SDK to refuse).
 */
export function metaEraOf(meta: unknown): RequestEra | undefined {
  if (!isRecord(meta) || !(ENVELOPE.version in meta)) return LEGACY;
  const capabilities = capabilitiesIn(meta);
  return meta[ENVELOPE.version] === MODERN_REVISION &&
    capabilities !== undefined &&
    isRecord(meta[ENVELOPE.clientInfo])
    ? { kind: 'modern', capabilities, log: undefined, state: undefined }
    : undefined;
}

/** What runs a 2026-07-28 call so that an instance's questions reach its client (`InputRelay`). */
export interface CallRelay {
  run(
    instance: string,
    start: (signal: AbortSignal) => Promise<CallToolResult>,
    signal: AbortSignal,
    capabilities: Record<string, unknown> | undefined,
    log?: LogSink,
  ): Promise<CallToolResult | InputRequiredResult>;
}

/**
 * Runs an instance tool call on a request's account: a 2026-07-28 call through the relay (what
 * the instance asks comes back as `input_required`), a 2025 call as it is (the instance's
 * questions go to the client within the session).
 */
export function runInstanceCall(
  era: RequestEra,
  relay: CallRelay,
  instance: string,
  start: (signal: AbortSignal) => Promise<CallToolResult>,
  signal: AbortSignal,
): Promise<CallToolResult | InputRequiredResult> {
  return era.kind === 'modern'
    ? relay.run(instance, start, signal, era.capabilities, era.log)
    : start(signal);
}

/**
 * A result as the request's era shapes it on the wire, for a result the SDK server does not
 * shape itself (the fast path): a 2026-07-28 result says its `resultType` and who answered.
 */
export function shapeResult(
  era: RequestEra,
  result: CallToolResult | InputRequiredResult,
  serverInfo: { name: string; version: string },
): CallToolResult | InputRequiredResult {
  return era.kind === 'legacy'
    ? result
    : ({
        ...result,
        resultType: (result as { resultType?: unknown }).resultType ?? 'complete',
        _meta: { ...result._meta, [SERVER_INFO_META_KEY]: serverInfo },
      } as CallToolResult);
}
