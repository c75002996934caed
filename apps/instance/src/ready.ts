import { type Clock, systemClock } from '@mcp-beacon/runtime';
import type { LineMatcher } from './grep.js';
import type { LogLine } from './ring.js';
import type { ScriptRunner } from './scripts.js';
import { findUrls } from './urls.js';

/** Why a ready-wait ended. */
export type WaitOutcome = 'pattern' | 'url' | 'exit' | 'timeout' | 'cancelled';

/** What {@link waitUntilReady} waits for; the first to happen ends the wait. */
export interface ReadyCondition {
  /** A new output line matches. */
  pattern?: LineMatcher;
  /** The run prints a loopback URL (one printed before the wait counts too). */
  url?: boolean;
  /** Give up after this many ms. */
  timeoutMs: number;
  /** Ends the wait (not the run) with `cancelled`. */
  signal?: AbortSignal;
  /** Called every `progressMs` while waiting, with the time waited and the lines seen. */
  onProgress?: (elapsedMs: number, lines: number) => void;
  /** Period of `onProgress` in ms (default 1 000). */
  progressMs?: number;
  /**
   * Also check the lines the run printed before the wait (a run started just now); otherwise
   * only new lines match the pattern, and a URL printed earlier ends the wait at once.
   */
  includeEarlierLines?: boolean;
  clock?: Clock;
}

/** How a ready-wait ended. */
export interface WaitResult {
  waited: WaitOutcome;
  /** The line that matched the pattern or carried the URL; null otherwise. */
  line: LogLine | null;
}

/**
 * Waits until run `id` prints a line matching `pattern`, prints a URL (`url`), ends, or the
 * timeout passes; see {@link ReadyCondition.includeEarlierLines} for the lines printed before.
 * @throws {InstanceError} `UNKNOWN_RUN`.
 */
export function waitUntilReady(
  runner: ScriptRunner,
  id: string,
  condition: ReadyCondition,
): Promise<WaitResult> {
  const fromStart = condition.includeEarlierLines === true;
  const clock = condition.clock ?? systemClock;
  const { run, ended } = runner.watch(id);
  const matches = (line: LogLine, newUrls: readonly string[]): WaitResult | undefined => {
    if (condition.pattern?.test(line.text)) return { waited: 'pattern', line };
    if (condition.url && newUrls.length > 0) return { waited: 'url', line };
    return undefined;
  };

  if (condition.url && run.urls.length > 0 && !fromStart)
    return Promise.resolve({ waited: 'url', line: null });
  if (fromStart) {
    for (const line of runner.logs({ run: id }).lines) {
      const hit = matches(line, condition.url ? findUrls(line.text) : []);
      if (hit) return Promise.resolve(hit);
    }
  }
  if (run.state !== 'running') return Promise.resolve({ waited: 'exit', line: null });

  return new Promise<WaitResult>((resolve) => {
    const startedAt = clock.now();
    let lines = 0;
    const finish = (result: WaitResult) => {
      off();
      clock.clearTimeout(timer);
      if (ticker !== undefined) clock.clearTimeout(ticker);
      condition.signal?.removeEventListener('abort', onAbort);
      resolve(result);
    };
    const off = runner.onLine((event) => {
      if (event.run !== id) return;
      lines++;
      const hit = matches(event.line, event.newUrls);
      if (hit) finish(hit);
    });
    const timer = clock.setTimeout(
      () => finish({ waited: 'timeout', line: null }),
      condition.timeoutMs,
    );
    let ticker: unknown;
    const tick = () => {
      condition.onProgress?.(clock.now() - startedAt, lines);
      ticker = clock.setTimeout(tick, condition.progressMs ?? 1_000);
    };
    if (condition.onProgress) ticker = clock.setTimeout(tick, condition.progressMs ?? 1_000);
    const onAbort = () => finish({ waited: 'cancelled', line: null });
    condition.signal?.addEventListener('abort', onAbort, { once: true });
    if (condition.signal?.aborted) onAbort();
    void ended.then(() => finish({ waited: 'exit', line: null }));
  });
}
