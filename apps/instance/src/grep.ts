import { RE2JS } from 're2js';
import { InstanceError } from './errors.js';

/** A compiled line matcher with linear-time matching (no backtracking). */
export interface LineMatcher {
  /** The pattern as given. */
  readonly source: string;
  test(text: string): boolean;
}

/** Options of {@link filterLines}. */
export interface FilterOptions {
  /** Total time the filter may take, in ms (default 1 000); past it the call fails. */
  budgetMs?: number;
  /** Longest stretch without yielding to the event loop, in ms (default 2). */
  sliceMs?: number;
  /** Keep only the newest `limit` matches (the scan stops once it has them). */
  limit?: number;
  /** Monotonic clock in ms (default `performance.now`). */
  now?: () => number;
}

const META = /[\\^$.|?*+()[\]{}]/;

/**
 * Compiles a case-insensitive pattern in RE2 syntax (no backreferences or lookaround), so any
 * pattern over any line takes time linear in the line's length. A pattern with no regular
 * expression syntax is matched as a plain substring.
 * @throws {InstanceError} `INVALID_INPUT` with the syntax error.
 */
export function compileGrep(pattern: string): LineMatcher {
  if (!META.test(pattern)) {
    const needle = pattern.toLowerCase();
    return { source: pattern, test: (text) => text.toLowerCase().includes(needle) };
  }
  let compiled: RE2JS;
  try {
    compiled = RE2JS.compile(pattern, RE2JS.CASE_INSENSITIVE);
  } catch (error) {
    throw new InstanceError(
      'INVALID_INPUT',
      `grep is not a valid RE2 regular expression (no backreferences or lookaround): ${(error as Error).message}`,
    );
  }
  return { source: pattern, test: (text) => compiled.matcher(text).find() };
}

/**
 * Longest run of a scan between two turns of the event loop, in ms. Short, because another
 * session's request needs several turns (its body, its handler's file reads, its answer): at
 * 2 ms a `project_info` beside a worst-case scan answers in 20-35 ms (it was 200-290 ms at 20).
 */
export const SLICE_MS = 2;

const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * The items whose text matches, oldest first, scanning from the newest so a `limit` ends the
 * scan early. Yields to the event loop every `sliceMs`, so other requests keep being served.
 * @throws {InstanceError} `BUDGET_EXCEEDED` when the scan outlasts `budgetMs`.
 */
export async function filterLines<T>(
  items: readonly T[],
  text: (item: T) => string,
  matcher: LineMatcher,
  options: FilterOptions = {},
): Promise<T[]> {
  const now = options.now ?? (() => performance.now());
  const budget = options.budgetMs ?? 1_000;
  const slice = options.sliceMs ?? SLICE_MS;
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  const start = now();
  let sliceStart = start;
  const found: T[] = [];
  for (let i = items.length - 1; i >= 0 && found.length < limit; i--) {
    const item = items[i] as T;
    if (matcher.test(text(item))) found.push(item);
    if ((i & 7) === 0 && now() - sliceStart >= slice) {
      if (now() - start >= budget)
        throw new InstanceError(
          'BUDGET_EXCEEDED',
          `grep ${JSON.stringify(matcher.source)} took over ${budget} ms on ${items.length} lines; use a simpler pattern or fewer lines`,
        );
      await yieldToLoop();
      sliceStart = now();
    }
  }
  return found.reverse();
}

/** One time budget shared by the steps of a call: it yields when a slice is used up. */
export interface TimeBudget {
  /**
   * Call between steps: resolves at once, or after yielding to the event loop once the current
   * slice is used up.
   * @throws {InstanceError} `BUDGET_EXCEEDED` once the whole budget is.
   */
  tick(): Promise<void> | undefined;
}

/**
 * A budget of `budgetMs` (1 000) in slices of `sliceMs` (2), for a call that scans several
 * things in turn: the slices and the total span all of them, not each one.
 */
export function createTimeBudget(
  what: string,
  options: Pick<FilterOptions, 'budgetMs' | 'sliceMs' | 'now'> = {},
): TimeBudget {
  const now = options.now ?? (() => performance.now());
  const budget = options.budgetMs ?? 1_000;
  const slice = options.sliceMs ?? SLICE_MS;
  const start = now();
  let sliceStart = start;
  return {
    tick() {
      const at = now();
      if (at - sliceStart < slice) return undefined;
      if (at - start >= budget)
        throw new InstanceError('BUDGET_EXCEEDED', `${what} took over ${budget} ms`);
      return yieldToLoop().then(() => {
        sliceStart = now();
      });
    },
  };
}
