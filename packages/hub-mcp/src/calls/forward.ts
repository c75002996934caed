import { ConnectionError, type ConnectionManager } from '@mcp-beacon/connection-manager';
import {
  type CallToolResult,
  type Progress,
  type ProtocolError,
  ProtocolErrorCode,
  type Result,
} from '@modelcontextprotocol/client';
import { toolError } from '../_values.js';

/** The request context the SDK hands to handlers (the parts the hub uses). */
export interface ToolExtra {
  signal: AbortSignal;
  _meta?: { progressToken?: string | number | undefined } | undefined;
  sendNotification: (n: {
    method: 'notifications/progress';
    params: Progress & { progressToken: string | number };
  }) => Promise<void>;
}

/** An error thrown by a hub handler that the SDK sends as it is: code, message, data. */
export type WireError = Error & { code: number; data?: unknown };

/** An error the SDK puts on the wire as `{ code, message }`, with no prefix added. */
export const wireError = (code: number, message: string): WireError =>
  Object.assign(new Error(message), { code });

/**
 * An upstream JSON-RPC error as the peer sent it: code, message and data. (The SDK's
 * `ProtocolError` keeps the peer's message as it was; nothing is added on any hop.)
 */
export function upstreamError(error: Pick<ProtocolError, 'code' | 'message' | 'data'>): WireError {
  const wire = wireError(error.code, error.message);
  if (error.data !== undefined) wire.data = error.data;
  return wire;
}

/** Sends requests to instances on behalf of the hub's client. */
export interface Forwarder {
  /** `tools/call`; an unreachable or hung instance is a tool error, a protocol error passes through. */
  callTool(
    id: string,
    name: string,
    args: Record<string, unknown> | undefined,
    extra: ToolExtra,
  ): Promise<CallToolResult>;
  /**
   * Any other request; an instance not connected is an `InvalidRequest` error, a hung or lost
   * one an `InternalError`, each naming it.
   */
  request(
    id: string,
    method: string,
    params: Record<string, unknown>,
    extra: ToolExtra,
  ): Promise<Result>;
}

/**
 * Creates the forwarder on the manager's one call path (`manager.call`). Results are passed on
 * without validating them against their full schema (the instance's SDK did that; the hub's
 * client does it again), progress notifications are relayed with the caller's token and written
 * before the result, and the caller's cancellation reaches the instance.
 */
export function createForwarder(manager: ConnectionManager, callTimeoutMs: number): Forwarder {
  /** The caller's progress, relayed with its token; `drain` settles once all of it is written. */
  const progressOf = (extra: ToolExtra) => {
    const token = extra._meta?.progressToken;
    let sent = Promise.resolve();
    const onprogress =
      token === undefined
        ? undefined
        : (progress: Progress) => {
            sent = sent
              .then(() =>
                extra.sendNotification({
                  method: 'notifications/progress',
                  params: { ...progress, progressToken: token },
                }),
              )
              .catch(() => undefined);
          };
    // Awaited before the result is returned, so the client sees the instance's notifications
    // and result in the order the instance sent them.
    return { onprogress, drain: () => sent };
  };

  /**
   * The request's result, or why it failed: the one place a failure is shaped. The instance's
   * own JSON-RPC error passes through as it was sent; a cancelled call rethrows.
   */
  const send = async (
    id: string,
    method: string,
    params: Record<string, unknown>,
    extra: ToolExtra,
  ): Promise<{ ok: true; result: Result } | { ok: false; code: number; message: string }> => {
    const { onprogress, drain } = progressOf(extra);
    try {
      const result = await manager.call(
        id,
        { method, params },
        { signal: extra.signal, timeoutMs: callTimeoutMs, onprogress },
      );
      await drain();
      return { ok: true, result };
    } catch (error) {
      if (extra.signal.aborted) throw error;
      if (!(error instanceof ConnectionError))
        return { ok: false, code: ProtocolErrorCode.InternalError, message: String(error) };
      if (error.code === 'INSTANCE_ERROR' && error.rpc) throw upstreamError(error.rpc);
      const unreachable = error.code === 'NOT_CONNECTED' || error.code === 'UNKNOWN_INSTANCE';
      return {
        ok: false,
        code: unreachable ? ProtocolErrorCode.InvalidRequest : ProtocolErrorCode.InternalError,
        message: error.message,
      };
    }
  };

  return {
    async callTool(id, name, args, extra) {
      const params = { name, ...(args === undefined ? {} : { arguments: args }) };
      const outcome = await send(id, 'tools/call', params, extra);
      if (outcome.ok) return outcome.result as CallToolResult;
      return toolError(outcome.message);
    },
    async request(id, method, params, extra) {
      const outcome = await send(id, method, params, extra);
      if (outcome.ok) return outcome.result;
      throw wireError(outcome.code, outcome.message);
    },
  };
}
