/** What went wrong with an instance connection. */
export type ConnectionErrorCode = 'UNKNOWN_INSTANCE' | 'NOT_CONNECTED';

/** The one error class of `@mcp-beacon/connection-manager`. */
export class ConnectionError extends Error {
  override readonly name = 'ConnectionError';
  readonly code: ConnectionErrorCode;

  constructor(code: ConnectionErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
