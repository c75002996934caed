// The retry policy of a failing connection: how long to wait before each retry, and when to
// stop calling it retrying and call it dead (the give-up bound itself is applied in _machine.ts).

/** Retry schedule: exponential with full jitter, capped, and a bound on the whole retry time. */
export interface BackoffOptions {
  /** First delay in ms (default 250). */
  initialMs?: number;
  /** Largest delay in ms (default 10 000). */
  maxMs?: number;
  /** Growth per attempt (default 2). */
  factor?: number;
  /** After this many ms of failures the connection is declared `dead` (default 60 000). */
  giveUpAfterMs?: number;
}

/**
 * Delay in ms before retry number `attempt` (0-based): a random point in the upper half of
 * `min(maxMs, initialMs * factor^attempt)`, so many hubs never retry in lockstep.
 */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions = {},
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(
    options.maxMs ?? 10_000,
    (options.initialMs ?? 250) * (options.factor ?? 2) ** attempt,
  );
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/**
 * When to try a failed connection again, in ms: on the backoff schedule while it is
 * `retrying` (`attempt` failures so far), and every `maxMs` once it is `dead`, so an instance
 * that comes back is still picked up.
 */
export function retryDelay(
  failure: { state: 'retrying' | 'dead'; attempt: number },
  options: BackoffOptions = {},
  random: () => number = Math.random,
): number {
  if (failure.state === 'dead') return options.maxMs ?? 10_000;
  return backoffDelay(Math.max(0, failure.attempt - 1), options, random);
}
