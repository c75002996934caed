/** What went wrong while resolving or creating Beacon's directories. */
export type PathsErrorCode =
  | 'INVALID_HOME'
  | 'CREATE_FAILED'
  | 'NOT_A_DIRECTORY'
  /** The folder belongs to another user: another user could plant or read records in it. */
  | 'UNTRUSTED';

/** The one error class of `@mcp-beacon/paths`; `path` names the directory involved. */
export class PathsError extends Error {
  override readonly name = 'PathsError';
  readonly code: PathsErrorCode;
  readonly path: string;

  constructor(code: PathsErrorCode, path: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.path = path;
  }
}
