import type { ConnectionInfo, ConnectionManager } from '@mcp-beacon/connection-manager';
import type { Clock } from '@mcp-beacon/runtime';

/**
 * Resolves with connection `id` once it is active; rejects when it turns dead or removed,
 * after `timeoutMs`, or when `signal` aborts.
 */
export function waitActive(
  manager: ConnectionManager,
  id: string,
  options: { timeoutMs: number; clock: Clock; signal?: AbortSignal },
): Promise<ConnectionInfo> {
  const { clock, signal, timeoutMs } = options;
  return new Promise((resolve, reject) => {
    const now = manager.get(id);
    if (now?.state === 'active') return resolve(now);
    const done = (outcome: ConnectionInfo | Error) => {
      off();
      clock.clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (outcome instanceof Error) reject(outcome);
      else resolve(outcome);
    };
    const off = manager.onTransition((event) => {
      if (event.id !== id) return;
      if (event.to === 'active') done(event.info);
      else if (event.to === 'dead' || event.to === 'removed')
        done(new Error(`${event.info.record.name} is ${event.to}: ${event.reason ?? ''}`));
    });
    const timer = clock.setTimeout(
      () => done(new Error(`the remote instance did not become active within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const onAbort = () => done(new Error('cancelled'));
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) onAbort();
  });
}
