/** What went wrong with an instance connection. */
export type ConnectionErrorCode =
  | 'UNKNOWN_INSTANCE'
  | 'NOT_CONNECTED'
  | 'BAD_URL'
  | 'HTTP_STATUS'
  /** An answer that is HTTP but not MCP (not JSON, not an event stream of JSON-RPC). */
  | 'NOT_MCP'
  /** A malformed HTTP answer: not HTTP/1, a head too large, bad framing, a protocol switch. */
  | 'BAD_RESPONSE'
  /** A body or event over `maxMessageLength`; the response was closed. */
  | 'TOO_LARGE'
  /** A header value from the server (the session id) holds a line break: not sent. */
  | 'BAD_HEADER'
  | 'CLOSED'
  /**
   * The connection was reset or closed after a request was written and before its answer: the
   * request may or may not have run, so it is not sent again.
   */
  | 'RESET'
  /** A direct call got no answer within its timeout. */
  | 'TIMEOUT'
  /** The server refused the 2025 handshake and speaks MCP 2026-07-28 only. */
  | 'MODERN_ONLY'
  /** The instance answered a request with a JSON-RPC error (`rpc` holds it as it was sent). */
  | 'INSTANCE_ERROR'
  /** A request or its answer was lost on the way (a closed stream, a refused request). */
  | 'REQUEST_FAILED';

/** A JSON-RPC error as an instance sent it. */
export interface RpcError {
  code: number;
  message: string;
  data?: unknown;
}

/** The one error class of `@mcp-beacon/connection-manager`. */
export class ConnectionError extends Error {
  override readonly name = 'ConnectionError';
  readonly code: ConnectionErrorCode;
  /** The HTTP status, for `HTTP_STATUS`. */
  readonly status: number | undefined;
  /** The instance's own error, for `INSTANCE_ERROR`. */
  readonly rpc: RpcError | undefined;

  constructor(
    code: ConnectionErrorCode,
    message: string,
    options?: { cause?: unknown; status?: number; rpc?: RpcError },
  ) {
    super(message, options);
    this.code = code;
    this.status = options?.status;
    this.rpc = options?.rpc;
  }
}

/** A one-line reason: the message plus the HTTP status or socket error code when known. */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if (error instanceof ConnectionError && error.status !== undefined)
    return `${error.message} (HTTP ${error.status})`;
  const { code, cause } = error as { code?: unknown; cause?: { code?: string } };
  // The SDK's StreamableHTTPError carries the HTTP status as a numeric `code`.
  if (typeof code === 'number' && code >= 100 && code < 600)
    return `${error.message.trim()} (HTTP ${code})`;
  return cause?.code ? `${error.message} (${cause.code})` : error.message;
}
