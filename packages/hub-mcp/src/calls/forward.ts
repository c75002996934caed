import {
  ConnectionError,
  type ConnectionManager,
  type DirectAnswer,
  HttpClientTransport,
} from '@mcp-beacon/connection-manager';
import {
  type CallToolResult,
  type Client,
  type Progress,
  ProtocolError,
  ProtocolErrorCode,
  type RequestOptions,
  type Result,
  SdkError,
  SdkErrorCode,
  specTypeSchemas,
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
 * JSON-RPC codes that are not an instance's own answer: a lost connection (which the instance's
 * HTTP transport reports for a stream that closed before its answer) and a timeout.
 */
const CONNECTION_CLOSED = -32000;
const REQUEST_TIMEOUT = -32001;

/**
 * An upstream JSON-RPC error as the peer sent it: code, message and data. (The SDK's
 * `ProtocolError` keeps the peer's message as it was; nothing is added on any hop.)
 */
export function upstreamError(error: ProtocolError): WireError {
  const wire = wireError(error.code, error.message);
  if (error.data !== undefined) wire.data = error.data;
  return wire;
}

/** True for errors the peer itself answered with (not a timeout or a lost connection). */
function isPeerError(error: unknown): error is ProtocolError {
  return (
    error instanceof ProtocolError &&
    error.code !== REQUEST_TIMEOUT &&
    error.code !== CONNECTION_CLOSED
  );
}

/** Whether the SDK gave up waiting for the answer. */
const timedOut = (error: unknown): boolean =>
  error instanceof SdkError && error.code === SdkErrorCode.RequestTimeout;

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
 * Creates the forwarder. Results are passed on without validating them against their full
 * schema (the instance's SDK did that; the hub's client does it again), progress notifications
 * are relayed with the caller's token and written before the result, and the caller's
 * cancellation reaches the instance.
 */
export function createForwarder(manager: ConnectionManager, callTimeoutMs: number): Forwarder {
  const clientFor = (id: string): Client => manager.client(id);

  const requestOptions = (extra: ToolExtra) => {
    const token = extra._meta?.progressToken;
    let sent = Promise.resolve();
    const options: RequestOptions = {
      signal: extra.signal,
      timeout: callTimeoutMs,
      resetTimeoutOnProgress: true,
      ...(token === undefined
        ? {}
        : {
            onprogress: (progress: Progress) => {
              sent = sent
                .then(() =>
                  extra.sendNotification({
                    method: 'notifications/progress',
                    params: { ...progress, progressToken: token },
                  }),
                )
                .catch(() => undefined);
            },
          }),
    };
    // Awaited before the result is returned, so the client sees the instance's notifications
    // and result in the order the instance sent them.
    return { options, drain: () => sent };
  };

  const describeFailure = (name: string, error: unknown): string => {
    if (timedOut(error)) return `instance ${name} did not answer within ${callTimeoutMs} ms`;
    const message =
      error instanceof ProtocolError ? upstreamError(error).message : (error as Error).message;
    return `instance ${name} failed: ${message}`;
  };

  const send = async (
    id: string,
    method: string,
    params: Record<string, unknown>,
    extra: ToolExtra,
  ): Promise<{ ok: true; result: Result } | { ok: false; code: number; message: string }> => {
    let client: Client;
    try {
      client = clientFor(id);
    } catch (error) {
      return {
        ok: false,
        code: ProtocolErrorCode.InvalidRequest,
        message: (error as Error).message,
      };
    }
    // Taken now: the instance may be gone by the time the call fails.
    const name = manager.get(id)?.record.name ?? id;
    const { options, drain } = requestOptions(extra);
    try {
      const result = await client.request({ method, params }, specTypeSchemas.Result, options);
      await drain();
      return { ok: true, result };
    } catch (error) {
      if (extra.signal.aborted) throw error;
      if (isPeerError(error)) throw upstreamError(error);
      return {
        ok: false,
        code: ProtocolErrorCode.InternalError,
        message: describeFailure(name, error),
      };
    }
  };

  // Tool calls without a progress token go straight through the instance's HTTP transport:
  // no second JSON-RPC bookkeeping, no timers of the SDK client, the answer passed on as the
  // instance wrote it. Progress needs the client's token mapping, so it takes the SDK path.
  const callDirect = async (
    transport: HttpClientTransport,
    id: string,
    params: Record<string, unknown>,
    signal: AbortSignal,
  ): Promise<CallToolResult> => {
    const instance = manager.get(id)?.record.name ?? id;
    let answer: DirectAnswer;
    try {
      answer = await transport.call('tools/call', params, {
        signal,
        timeoutMs: callTimeoutMs,
      });
    } catch (error) {
      if (signal.aborted) throw error;
      return toolError(
        error instanceof ConnectionError && error.code === 'TIMEOUT'
          ? `instance ${instance} did not answer within ${callTimeoutMs} ms`
          : `instance ${instance} failed: ${(error as Error).message}`,
      );
    }
    if ('result' in answer) return answer.result as CallToolResult;
    const { code, message, data } = answer.error;
    // As on the SDK path: a lost stream or a timeout is the hub's to report, not the peer's.
    if (code === CONNECTION_CLOSED || code === REQUEST_TIMEOUT)
      return toolError(`instance ${instance} failed: ${message}`);
    const wire = wireError(code, message);
    if (data !== undefined) wire.data = data;
    throw wire;
  };

  const httpTransport = (id: string): HttpClientTransport | undefined => {
    try {
      const transport = clientFor(id).transport;
      return transport instanceof HttpClientTransport ? transport : undefined;
    } catch {
      return undefined;
    }
  };
  const toolParams = (name: string, args: Record<string, unknown> | undefined) => ({
    name,
    ...(args === undefined ? {} : { arguments: args }),
  });

  return {
    async callTool(id, name, args, extra) {
      const params = toolParams(name, args);
      const transport = httpTransport(id);
      if (transport && extra._meta?.progressToken === undefined)
        return callDirect(transport, id, params, extra.signal);
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
