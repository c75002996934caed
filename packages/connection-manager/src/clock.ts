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
