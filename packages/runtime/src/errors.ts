/** What went wrong in a runtime helper. */
export type RuntimeErrorCode =
  /** A command line that does not parse (see `parseCommandLine`). */
  'USAGE';

/** The one error class of `@mcp-beacon/runtime`. */
export class RuntimeError extends Error {
  override readonly name = 'RuntimeError';
  readonly code: RuntimeErrorCode;

  constructor(code: RuntimeErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
  }
}
