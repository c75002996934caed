/** What went wrong in the hub's MCP server. */
export type HubErrorCode =
  | 'UNKNOWN_INSTANCE'
  | 'AMBIGUOUS_INSTANCE'
  /** `instances_start` was given a folder that is missing or holds no package.json. */
  | 'NOT_A_PROJECT'
  /** `instances_start` launched beacon-instance but it did not become active. */
  | 'START_FAILED'
  /** An option of the hub server is out of range. */
  | 'BAD_OPTION'
  /** A remote's name or command, or the remotes file, cannot be used (beacon-hub remotes). */
  | 'BAD_REMOTE'
  /** The hub already serves its most client sessions. */
  | 'TOO_MANY_SESSIONS'
  /** The hub server is closed. */
  | 'CLOSED';

/** The one error class of `@mcp-beacon/hub-mcp`. */
export class HubError extends Error {
  override readonly name = 'HubError';
  readonly code: HubErrorCode;

  constructor(code: HubErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
