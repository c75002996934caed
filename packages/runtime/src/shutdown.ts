import type { Logger } from './logger.js';

/** Options of {@link onShutdown}. */
export interface ShutdownOptions {
  logger: Logger;
  /** Also stop when stdin ends (for supervisors that hold a pipe); default false. */
  stdinEnd?: boolean;
  /** The process exits after this many ms even if the cleanup hangs (default 5 000). */
  forceAfterMs?: number;
}

/**
 * The one lifecycle policy of Beacon's programs. `cleanup` (remove the record, stop what the
 * program started, close connections) runs once, then the process exits:
 * - SIGINT, SIGTERM, SIGHUP, and stdin's end when asked: exit code 0;
 * - an uncaught exception or unhandled rejection: logged with its stack, exit code 1, since
 *   a program in an unknown state must not keep answering for a project.
 * Returns a function that starts the same shutdown from elsewhere (a closed transport, say).
 */
export function onShutdown(
  cleanup: () => Promise<void>,
  options: ShutdownOptions,
): (why: string, code?: number) => void {
  const { logger } = options;
  let stopping = false;
  const stop = (why: string, code = 0) => {
    if (stopping) return;
    stopping = true;
    logger.info(`shutting down (${why})`);
    setTimeout(() => {
      logger.error(`shutdown took over ${options.forceAfterMs ?? 5_000} ms; exiting anyway`);
      process.exit(code || 1);
    }, options.forceAfterMs ?? 5_000).unref();
    cleanup().then(
      () => process.exit(code),
      (error: Error) => {
        logger.error(`shutdown failed: ${error.message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGHUP', () => stop('SIGHUP'));
  process.on('uncaughtException', (error) => {
    logger.error(`unexpected error: ${error.stack ?? error.message}`);
    stop('unexpected error', 1);
  });
  process.on('unhandledRejection', (reason) => {
    logger.error(
      `unhandled rejection: ${reason instanceof Error ? (reason.stack ?? reason.message) : String(reason)}`,
    );
    stop('unhandled rejection', 1);
  });
  if (options.stdinEnd) {
    process.stdin.on('end', () => stop('stdin closed'));
    process.stdin.on('error', () => stop('stdin error'));
    process.stdin.resume();
  }
  return stop;
}
