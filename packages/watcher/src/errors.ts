/** What went wrong in the watcher. */
export type WatcherErrorCode = 'SUBSCRIBE_FAILED' | 'SCAN_FAILED' | 'DIRECTORY_LOST' | 'CLOSED';

/** The one error class of `@mcp-beacon/watcher`. */
export class WatcherError extends Error {
  override readonly name = 'WatcherError';
  readonly code: WatcherErrorCode;

  constructor(code: WatcherErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
