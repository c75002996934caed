/** Options of {@link waitFor}. */
export interface WaitForOptions {
  /** Give up after this many milliseconds (default 10 000). */
  timeoutMs?: number;
  /** Re-check period in milliseconds (default 10). */
  intervalMs?: number;
  /** Shown in the timeout error. */
  what?: string;
}

/**
 * Re-evaluates `check` until it returns a value other than `undefined`/`false`, for state
 * that emits no event (a file on disk, a process table entry).
 * @throws {Error} when `timeoutMs` passes first; the last error thrown by `check` is its cause.
 */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  options: WaitForOptions = {},
): Promise<Exclude<T, undefined | false>> {
  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value as Exclude<T, undefined | false>;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${options.what ?? 'condition'}`, { cause: last });
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 10));
  }
}
