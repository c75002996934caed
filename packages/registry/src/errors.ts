/**
 * Why a record file was rejected, or an operation failed. Reading codes are stable: the watcher
 * reports them as the `reason` of `invalid` events.
 */
export type RegistryErrorCode =
  | 'NOT_FOUND'
  | 'BAD_NAME'
  | 'SYMLINK'
  | 'NOT_A_FILE'
  | 'TOO_LARGE'
  | 'FOREIGN_OWNER'
  | 'UNSAFE_MODE'
  | 'UNTRUSTED_FOLDER'
  | 'INVALID_JSON'
  | 'INVALID_RECORD'
  | 'ID_MISMATCH'
  | 'READ_FAILED'
  | 'WRITE_FAILED'
  | 'REMOVE_FAILED'
  /** A tool schema that is not an object (see `portableSchema`). */
  | 'INVALID_SCHEMA';

/** The one error class of `@mcp-beacon/registry`. `file` names the record file when known. */
export class RegistryError extends Error {
  override readonly name = 'RegistryError';
  readonly code: RegistryErrorCode;
  readonly file: string | undefined;

  constructor(
    code: RegistryErrorCode,
    message: string,
    options: { file?: string; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.file = options.file;
  }
}
