import { cleanText } from './text.js';

/** Log levels, least to most verbose. */
export const LOG_LEVELS = ['silent', 'error', 'warn', 'info', 'debug'] as const;
/** One of {@link LOG_LEVELS}. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** A leveled, human-readable logger. */
export interface Logger {
  error(message: string): void;
  warn(message: string): void;
  info(message: string): void;
  debug(message: string): void;
}

/** True when `value` names a log level. */
export function isLogLevel(value: string): value is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(value);
}

/**
 * A logger that writes `<time> <level> <message>` lines to stderr (never stdout), dropping
 * messages more verbose than `level`. Control characters in messages (which may quote
 * untrusted names and output) are escaped line by line, so nothing reaches a terminal raw.
 */
export function createLogger(
  level: LogLevel,
  write: (line: string) => void = (l) => process.stderr.write(l),
): Logger {
  const rank = LOG_LEVELS.indexOf(level);
  const at = (lvl: Exclude<LogLevel, 'silent'>) => (message: string) => {
    if (LOG_LEVELS.indexOf(lvl) <= rank)
      write(
        `${new Date().toISOString()} ${lvl.padEnd(5)} ${cleanText(message, { newlines: true })}\n`,
      );
  };
  return { error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') };
}
