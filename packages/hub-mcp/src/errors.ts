/** What went wrong in the hub's MCP server. */
export type HubErrorCode = 'UNKNOWN_INSTANCE' | 'AMBIGUOUS_INSTANCE';

/** The one error class of `@mcp-beacon/hub-mcp`. */
export class HubError extends Error {
  override readonly name = 'HubError';
  readonly code: HubErrorCode;

  constructor(code: HubErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
