import type { TransitionEvent } from '@mcp-beacon/connection-manager';
import { type Clock, type Logger, systemClock } from '@mcp-beacon/runtime';

/** Options of {@link createTransitionLog}. */
export interface TransitionLogOptions {
  /** Period of the summary of instances that keep failing, in ms (default 60 000; 0 = none). */
  summaryMs?: number;
  /** Timer of the summary (default: the real clock). */
  clock?: Clock;
}

/** Turns connection transitions into log lines; see {@link createTransitionLog}. */
export interface TransitionLog {
  record(event: TransitionEvent): void;
  /** Writes the summary of failures repeated since the last one (the timer calls it). */
  summarize(): void;
  close(): void;
}

interface Failing {
  label: string;
  state: string;
  reason: string;
  repeats: number;
}

const SUMMARY_NAMES = 5;
const clip = (text: string, max: number) =>
  text.length > max ? `${text.slice(0, max - 1)}…` : text;

/**
 * Logs connection transitions without flooding stderr (writes to a slow pipe block the hub):
 * a change is logged once at its level (failure starts at warn, recovery and removal at info,
 * routine steps at debug); the retries of a failure already reported go to debug, and one warn
 * line per period sums up the instances that kept failing (at most 5 named, each reason
 * clipped), however many there are.
 */
export function createTransitionLog(
  logger: Logger,
  options: TransitionLogOptions = {},
): TransitionLog {
  const failing = new Map<string, Failing>();
  const summaryMs = options.summaryMs ?? 60_000;

  const record = (event: TransitionEvent) => {
    const label = `${event.info.record.name} (${event.id.slice(0, 8)})`;
    const change = event.from === event.to ? event.to : `${event.from} -> ${event.to}`;
    const line = `${label}: ${change}${event.reason ? ` (${event.reason})` : ''}`;
    const failure = event.to === 'retrying' || event.to === 'dead';
    if (failure) {
      const known = failing.get(event.id);
      if (known) {
        known.repeats++;
        known.state = event.to;
        known.reason = event.reason ?? '';
        logger.debug(line);
      } else {
        failing.set(event.id, { label, state: event.to, reason: event.reason ?? '', repeats: 0 });
        logger.warn(line);
      }
      return;
    }
    if (
      event.to === 'active' ||
      event.to === 'removed' ||
      event.to === 'dead' ||
      event.to === 'disconnected'
    ) {
      const recovered = failing.delete(event.id) && event.to === 'active';
      logger.info(recovered ? `${line}; recovered` : line);
      return;
    }
    logger.debug(line); // discovered, connecting: routine steps
  };

  const summarize = () => {
    const repeated = [...failing.values()].filter((f) => f.repeats > 0);
    if (repeated.length === 0) return;
    const named = repeated
      .slice(0, SUMMARY_NAMES)
      .map((f) => `${f.label} ${f.state}: ${clip(f.reason, 80)}`)
      .join('; ');
    const more =
      repeated.length > SUMMARY_NAMES ? `; and ${repeated.length - SUMMARY_NAMES} more` : '';
    logger.warn(
      `${repeated.length} instance(s) still failing (retries at debug level): ${named}${more}`,
    );
    for (const f of repeated) f.repeats = 0;
  };

  const clock = options.clock ?? systemClock;
  let timer: unknown;
  let closed = false;
  const tick = () => {
    timer = clock.setTimeout(() => {
      summarize();
      if (!closed) tick();
    }, summaryMs);
  };
  if (summaryMs > 0) tick();
  return {
    record,
    summarize,
    close: () => {
      closed = true;
      if (timer !== undefined) clock.clearTimeout(timer);
    },
  };
}
