// How one request reaches an instance, and how its failures are told apart: the one seam the
// hub calls through. Without a progress callback, a request goes straight on the instance's
// HTTP transport (no second JSON-RPC bookkeeping, the answer as the instance wrote it); with one,
// or on any other transport, through the SDK client, which maps the progress token.
import {
  type Client,
  type Progress,
  ProtocolError,
  type Result,
  SdkError,
  SdkErrorCode,
  specTypeSchemas,
} from '@modelcontextprotocol/client';
import { ConnectionError } from './errors.js';
import { HttpClientTransport } from './http-transport.js';

/** Options of one request to an instance (`ConnectionManager.call`). */
export interface InstanceCallOptions {
  /** Aborting it cancels the request on the instance; the call rejects with its reason. */
  signal?: AbortSignal | undefined;
  /** No answer within this many ms fails the call with `TIMEOUT`; progress restarts the wait. */
  timeoutMs: number;
  /** The instance's progress notifications for this request, in order, before its answer. */
  onprogress?: ((progress: Progress) => void) | undefined;
}

/** A request as it is sent: its method and parameters. */
export interface InstanceRequest {
  method: string;
  params: Record<string, unknown>;
}

/**
 * JSON-RPC codes that are not an instance's own answer: a lost connection (which the HTTP
 * transport reports for a stream that closed before its answer) and a timeout.
 */
const CONNECTION_CLOSED = -32000;
const REQUEST_TIMEOUT = -32001;

/** The instance's own JSON-RPC error, as `INSTANCE_ERROR`; undefined for anything else. */
function instanceError(code: number, message: string, data: unknown): ConnectionError | undefined {
  if (code === CONNECTION_CLOSED || code === REQUEST_TIMEOUT) return undefined;
  return new ConnectionError('INSTANCE_ERROR', message, {
    rpc: { code, message, ...(data === undefined ? {} : { data }) },
  });
}

/**
 * Sends `request` on `client` to the instance called `name`, and resolves with its result.
 * @throws {ConnectionError} `INSTANCE_ERROR` (the instance answered with a JSON-RPC error, in
 *   `rpc`), `TIMEOUT`, or `REQUEST_FAILED` (the request or its answer was lost; the message says
 *   why); the signal's reason once it is aborted.
 */
export async function callInstance(
  client: Client,
  name: string,
  request: InstanceRequest,
  options: InstanceCallOptions,
): Promise<Result> {
  const { signal, timeoutMs } = options;
  try {
    const transport = client.transport;
    if (transport instanceof HttpClientTransport && options.onprogress === undefined) {
      const answer = await transport.call(request.method, request.params, { signal, timeoutMs });
      if ('result' in answer) return answer.result;
      const { code, message, data } = answer.error;
      throw (
        instanceError(code, message, data) ??
        new ConnectionError('REQUEST_FAILED', `instance ${name} failed: ${message}`)
      );
    }
    return await client.request(request, specTypeSchemas.Result, {
      ...(signal ? { signal } : {}),
      timeout: timeoutMs,
      resetTimeoutOnProgress: true,
      ...(options.onprogress ? { onprogress: options.onprogress } : {}),
    });
  } catch (error) {
    if (signal?.aborted) throw error;
    throw failure(error, name, timeoutMs);
  }
}

/** Any failure of a call as a {@link ConnectionError} that says what happened. */
function failure(error: unknown, name: string, timeoutMs: number): ConnectionError {
  if (error instanceof ConnectionError) {
    if (error.code === 'INSTANCE_ERROR' || error.code === 'REQUEST_FAILED') return error;
    if (error.code === 'TIMEOUT') return timedOut(name, timeoutMs);
  }
  if (error instanceof SdkError && error.code === SdkErrorCode.RequestTimeout)
    return timedOut(name, timeoutMs);
  if (error instanceof ProtocolError) {
    const own = instanceError(error.code, error.message, error.data);
    if (own) return own;
  }
  const message = error instanceof Error ? error.message : String(error);
  return new ConnectionError('REQUEST_FAILED', `instance ${name} failed: ${message}`, {
    cause: error,
  });
}

const timedOut = (name: string, timeoutMs: number) =>
  new ConnectionError('TIMEOUT', `instance ${name} did not answer within ${timeoutMs} ms`);
