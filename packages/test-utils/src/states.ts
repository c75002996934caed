/** The parts of a connection manager that {@link waitForState} needs. */
export interface StateSource<S extends string> {
  get(id: string): { state: S } | undefined;
  onTransition(listener: (event: { id: string; to: S }) => void): () => void;
}

/**
 * Resolves once connection `id` is in `state`: at once if it already is, else on the
 * transition that takes it there (no polling). Rejects after `timeoutMs` (default 10 000)
 * with the state it is in.
 */
export function waitForState<S extends string>(
  manager: StateSource<S>,
  id: string,
  state: S,
  timeoutMs = 10_000,
): Promise<void> {
  if (manager.get(id)?.state === state) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const off = manager.onTransition((event) => {
      if (event.id !== id || event.to !== state) return;
      clearTimeout(timer);
      off();
      resolve();
    });
    const timer = setTimeout(() => {
      off();
      reject(
        new Error(
          `${id} did not reach ${state} within ${timeoutMs} ms (it is ${manager.get(id)?.state ?? 'unknown'})`,
        ),
      );
    }, timeoutMs);
  });
}
