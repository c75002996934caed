/** What went wrong in beacon-instance. */
export type InstanceErrorCode =
  | 'USAGE'
  | 'PORT_IN_USE'
  | 'LISTEN_FAILED'
  | 'UNKNOWN_SCRIPT'
  | 'UNKNOWN_RUN'
  | 'INVALID_INPUT'
  | 'BUDGET_EXCEEDED'
  | 'UNREACHABLE'
  /** The package manager a script needs is not on PATH (relative PATH entries are ignored). */
  | 'PROGRAM_NOT_FOUND';

/** The one error class of beacon-instance; tool handlers turn it into an MCP tool error. */
export class InstanceError extends Error {
  override readonly name = 'InstanceError';
  readonly code: InstanceErrorCode;

  constructor(code: InstanceErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
