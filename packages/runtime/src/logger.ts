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

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** Where lines go (default: stderr, never stdout). */
  write?: (line: string) => void;
  /**
   * Holds back a line identical to one written less than this long ago, in ms (default 0:
   * none); the next copy written after that says how many were held back. `debug` lines are
   * never held back.
   */
  repeatMs?: number;
  /** Milliseconds since the epoch, for `repeatMs` (default `Date.now`). */
  now?: () => number;
}

/** Distinct lines remembered for `repeatMs`; the least recently written is forgotten first. */
const REPEAT_MEMORY = 256;

/**
 * A logger that writes `<time> <level> <message>` lines to stderr (never stdout), dropping
 * messages more verbose than `level`. Control characters in messages (which may quote
 * untrusted names and output) are escaped line by line, so nothing reaches a terminal raw.
 * With `repeatMs`, a line that repeats (a failing heartbeat, a client retrying against a full
 * session table) is written at most once per `repeatMs`.
 */
export function createLogger(level: LogLevel, options: LoggerOptions = {}): Logger {
  const write = options.write ?? ((line: string) => process.stderr.write(line));
  const rank = LOG_LEVELS.indexOf(level);
  const repeatMs = options.repeatMs ?? 0;
  const now = options.now ?? Date.now;
  /** By level and message: when it was last written, and how many copies were held back since. */
  const recent = new Map<string, { at: number; held: number }>();
  const at = (lvl: Exclude<LogLevel, 'silent'>) => (message: string) => {
    if (LOG_LEVELS.indexOf(lvl) > rank) return;
    let suffix = '';
    if (repeatMs > 0 && lvl !== 'debug') {
      const key = `${lvl} ${message}`;
      const t = now();
      const last = recent.get(key);
      if (last && t - last.at < repeatMs) {
        last.held++;
        return;
      }
      if (last && last.held > 0)
        suffix = ` (${last.held} more like it held back in the last ${Math.round((t - last.at) / 1000)} s)`;
      recent.delete(key);
      recent.set(key, { at: t, held: 0 });
      if (recent.size > REPEAT_MEMORY) recent.delete(recent.keys().next().value as string);
    }
    write(
      `${new Date().toISOString()} ${lvl.padEnd(5)} ${cleanText(message, { newlines: true })}${suffix}\n`,
    );
  };
  return { error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') };
}
