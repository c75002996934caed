/** What went wrong with an instance connection. */
export type ConnectionErrorCode =
  | 'UNKNOWN_INSTANCE'
  | 'NOT_CONNECTED'
  | 'BAD_URL'
  | 'HTTP_STATUS'
  | 'NOT_MCP'
  | 'CLOSED'
  /**
   * The connection was reset or closed after a request was written and before its answer: the
   * request may or may not have run, so it is not sent again.
   */
  | 'RESET'
  /** A direct call got no answer within its timeout. */
  | 'TIMEOUT';

/** The one error class of `@mcp-beacon/connection-manager`. */
export class ConnectionError extends Error {
  override readonly name = 'ConnectionError';
  readonly code: ConnectionErrorCode;
  /** The HTTP status, for `HTTP_STATUS`. */
  readonly status: number | undefined;

  constructor(
    code: ConnectionErrorCode,
    message: string,
    options?: { cause?: unknown; status?: number },
  ) {
    super(message, options);
    this.code = code;
    this.status = options?.status;
  }
}
