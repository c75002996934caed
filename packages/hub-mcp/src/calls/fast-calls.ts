import {
  type CallToolResult,
  type InputRequiredResult,
  type JSONRPCMessage,
  ProtocolErrorCode,
  type RequestId,
  type Transport,
} from '@modelcontextprotocol/server';
import { isRecord } from '../_values.js';
import {
  ENVELOPE,
  metaEraOf,
  type ProtocolEra,
  type RequestEra,
  shapeResult,
} from '../sessions/era.js';
import { wrapTransport } from '../sessions/wrap.js';

/** Where an instance tool call goes: the instance, its own tool name, the arguments to send. */
export interface ToolCall {
  id: string;
  name: string;
  args: Record<string, unknown> | undefined;
}

/** What the fast path needs from the hub server. */
export interface FastCallOptions {
  /**
   * The instance tool a call of a hub tool name means, for a request of `era`; undefined sends
   * it the ordinary way (as it must when the connection serves another era).
   */
  route(
    name: string,
    args: Record<string, unknown> | undefined,
    era: ProtocolEra,
  ): ToolCall | undefined;
  /**
   * The call, cancelled by `signal`, on the account of a request of `era` (a 2026-07-28 call may
   * come back as `input_required`).
   */
  call(
    call: ToolCall,
    signal: AbortSignal,
    era: RequestEra,
  ): Promise<CallToolResult | InputRequiredResult>;
  /** The hub's name and version, which a 2026-07-28 result carries in its `_meta`. */
  serverInfo: { name: string; version: string };
  log: (message: string) => void;
}

/**
 * Wraps the client's transport so that `tools/call` requests for instance tools are answered
 * here, ahead of the SDK server's dispatch (request re-validation, handler bookkeeping), with
 * their `notifications/cancelled` routed here too. Calls with a progress token, hub tools,
 * unknown names and every other message go to the server as before. Pass the wrapper to
 * `server.connect`: it is a transport like any other, so nothing of the SDK is patched.
 */
export function withFastToolCalls(inner: Transport, options: FastCallOptions): Transport {
  /** Calls answered here, by request id: how to cancel each. */
  const inFlight = new Map<RequestId, (reason: string) => void>();

  const answer = (id: RequestId, call: ToolCall, era: RequestEra) => {
    // One cancellation path: the client's notifications/cancelled aborts this signal.
    const controller = new AbortController();
    const { signal } = controller;
    const pending = options.call(call, signal, era);
    const cancel = (reason: string) => controller.abort(reason);
    inFlight.set(id, cancel);
    // A cancelled request gets no answer, as the SDK does it.
    const send = (message: JSONRPCMessage) => (signal.aborted ? undefined : inner.send(message));
    pending
      .then(
        (result) =>
          send({ jsonrpc: '2.0', id, result: shapeResult(era, result, options.serverInfo) }),
        (error: { code?: unknown; message?: string; data?: unknown }) =>
          send({
            jsonrpc: '2.0',
            id,
            error: {
              code: Number.isSafeInteger(error.code)
                ? (error.code as number)
                : ProtocolErrorCode.InternalError,
              message: error.message ?? String(error),
              ...(error.data === undefined ? {} : { data: error.data }),
            },
          }),
      )
      .catch((error: Error) => options.log(`cannot send a tool result: ${error.message}`))
      .finally(() => inFlight.delete(id));
  };

  /** True when the message was taken here. */
  const take = (message: JSONRPCMessage): boolean => {
    if (!('method' in message)) return false;
    const params = message.params as Record<string, unknown> | undefined;
    if ('id' in message && message.method === 'tools/call' && isRecord(params)) {
      const meta = params._meta;
      const args = params.arguments;
      const era = metaEraOf(meta);
      const call =
        era !== undefined &&
        // A call answering what an instance asked carries on where it waits, and one that asks
        // for log messages gets them as its own notifications: the slow path.
        params.requestState === undefined &&
        params.inputResponses === undefined &&
        !(isRecord(meta) && meta[ENVELOPE.logLevel] !== undefined) &&
        typeof params.name === 'string' &&
        !(isRecord(meta) && meta.progressToken !== undefined) &&
        (args === undefined || isRecord(args))
          ? options.route(params.name, args as Record<string, unknown> | undefined, era.kind)
          : undefined;
      if (!call) return false;
      answer(message.id, call, era as RequestEra);
      return true;
    }
    if (message.method === 'notifications/cancelled' && isRecord(params)) {
      const cancel = inFlight.get(params.requestId as RequestId);
      if (!cancel) return false;
      cancel(String(params.reason ?? 'cancelled'));
      return true;
    }
    return false;
  };

  return wrapTransport(inner, {
    receive(message, extra, deliver) {
      if (!take(message)) deliver(message, extra);
    },
    closed() {
      for (const cancel of inFlight.values()) cancel('connection closed');
      inFlight.clear();
    },
  });
}
