// The table of direct calls in flight (requests sent outside the SDK client's bookkeeping):
// how each settles, and one shared timer for all their deadlines.

import type { Clock } from '@mcp-beacon/runtime';
import type { JSONRPCErrorResponse, JSONRPCResultResponse } from '@modelcontextprotocol/client';
import { ConnectionError } from './errors.js';

/** The answer to a direct call: a result or an error, as the server wrote it. */
export type DirectAnswer = JSONRPCResultResponse | JSONRPCErrorResponse;

/** A direct call in flight: how to settle it, and when it times out (`clock.now()` ms). */
export interface DirectCall {
  settle: (answer: DirectAnswer) => void;
  fail: (error: Error) => void;
  deadline: number;
  expire: () => void;
}

/**
 * Direct calls by request id. Their timeouts share one timer instead of one per call (a timer
 * per call was a measurable share of the hub's time per call): it is due at the earliest
 * deadline and, when it fires, expires what is due and re-arms for the next.
 */
export class DirectCalls {
  private readonly calls = new Map<string, DirectCall>();
  private ids = 0;
  private sweep: unknown;
  private sweepAt = Number.POSITIVE_INFINITY;
  private closed = false;

  constructor(private readonly clock: Clock) {}

  /** A fresh request id, never one the SDK client uses (its ids are numbers). */
  private nextId(): string {
    return `direct-${++this.ids}`;
  }

  /**
   * Makes one direct call: `post` sends the request with its new id; the call settles with its
   * answer. Aborting `signal` (the one way to cancel) takes the call out of the table, rejects
   * with the signal's reason and has `cancelled` tell the server; after `timeoutMs` the same
   * happens with a `TIMEOUT` error. A failed `post` rejects the call.
   */
  call(options: {
    signal?: AbortSignal | undefined;
    timeoutMs?: number | undefined;
    post: (id: string) => Promise<void>;
    cancelled: (id: string, reason: string) => void;
  }): Promise<DirectAnswer> {
    const { signal, timeoutMs } = options;
    const id = this.nextId();
    return new Promise<DirectAnswer>((resolve, reject) => {
      const done = () => signal?.removeEventListener('abort', onAbort);
      const cancel = (error: unknown, reason: string) => {
        if (!this.take(id)) return;
        done();
        reject(error);
        options.cancelled(id, reason);
      };
      const onAbort = () =>
        cancel(signal?.reason ?? new Error('aborted'), String(signal?.reason ?? 'cancelled'));
      if (signal?.aborted) return reject(signal.reason ?? new Error('aborted'));
      signal?.addEventListener('abort', onAbort, { once: true });
      const expired = `no answer within ${timeoutMs} ms`;
      this.add(id, {
        settle: (answer) => {
          done();
          resolve(answer);
        },
        fail: (error) => {
          done();
          reject(error);
        },
        deadline: timeoutMs === undefined ? Number.POSITIVE_INFINITY : this.clock.now() + timeoutMs,
        expire: () => cancel(new ConnectionError('TIMEOUT', expired), expired),
      });
      options.post(id).catch((error: unknown) => {
        if (!this.take(id)) return;
        done();
        reject(error);
      });
    });
  }

  private add(id: string, call: DirectCall): void {
    this.calls.set(id, call);
    if (call.deadline < this.sweepAt) this.arm(call.deadline);
  }

  has(id: unknown): id is string {
    return typeof id === 'string' && this.calls.has(id);
  }

  /** Removes the call and returns it (undefined when it already settled). */
  take(id: string): DirectCall | undefined {
    const call = this.calls.get(id);
    this.calls.delete(id);
    return call;
  }

  /**
   * Fails the direct call `id` whose answer stream ended without it (`cut`: why it was cut).
   * @returns false when `id` is no direct call in flight.
   */
  unanswered(id: unknown, cut: string | undefined): boolean {
    if (!this.has(id)) return false;
    this.take(id)?.fail(
      cut === undefined
        ? new ConnectionError('CLOSED', 'the instance closed the stream before answering')
        : new ConnectionError('TOO_LARGE', cut),
    );
    return true;
  }

  /** Fails every call in flight and stops the timer; later calls are not timed. */
  close(error: Error): void {
    this.closed = true;
    if (this.sweep !== undefined) this.clock.clearTimeout(this.sweep);
    const pending = [...this.calls.values()];
    this.calls.clear();
    for (const { fail } of pending) fail(error);
  }

  private arm(at: number): void {
    if (this.closed) return;
    if (this.sweep !== undefined) this.clock.clearTimeout(this.sweep);
    this.sweepAt = at;
    this.sweep = this.clock.setTimeout(
      () => this.expire(),
      Math.max(1, Math.ceil(at - this.clock.now())),
    );
  }

  private expire(): void {
    this.sweep = undefined;
    this.sweepAt = Number.POSITIVE_INFINITY;
    const now = this.clock.now();
    let next = Number.POSITIVE_INFINITY;
    for (const call of [...this.calls.values()]) {
      if (call.deadline <= now) call.expire();
      else if (call.deadline < next) next = call.deadline;
    }
    if (next !== Number.POSITIVE_INFINITY) this.arm(next);
  }
}
