// The server's own event stream (the GET of streamable HTTP): opened once the session is
// initialized, reopened after a loss with `Last-Event-ID` and backoff for as long as its
// transport lives, its state reported (the connection shows a lost one as degraded).

import { AsyncResource } from 'node:async_hooks';
import type { Clock } from '@mcp-beacon/runtime';
import { readEventStream } from './_sse.js';
import type { HttpResponse } from './_undici.js';
import { ConnectionError } from './errors.js';

/** The async context of no request, in which the event stream runs. */
const DETACHED = new AsyncResource('beacon-event-stream');

/** The server's own event stream, as last seen. */
export type EventStreamStatus =
  /** Being opened (the first time, or after a drop). */
  | { state: 'opening' }
  /** Open; `resumed` when it was lost before, so notifications may have been missed. */
  | { state: 'open'; resumed: boolean }
  /** The server offers none (405). */
  | { state: 'none' }
  /** Lost: `failures` consecutive opens failed since (0 right after a drop), reopen scheduled. */
  | { state: 'lost'; reason: string; failures: number };

/** What an {@link EventStream} needs of its transport. */
export interface EventStreamHost {
  /** Makes the GET exchange. */
  get(lastEventId: string | undefined): Promise<HttpResponse>;
  /** The session the stream belongs to. */
  session(): string | undefined;
  /** The server does not know `session` (404): renew it; the renewal opens the new stream. */
  renew(session: string): void;
  /** The renewal under way, if any. */
  renewing(): Promise<void> | undefined;
  /** Sessions renewed so far (a stream after a renewal may have missed notifications). */
  renewals(): number;
  /** One event's data. */
  message(data: string): void;
  error(error: Error): void;
  status(status: EventStreamStatus): void;
  closed(): boolean;
}

type Lost = Extract<EventStreamStatus, { state: 'lost' }>;

/** One transport's GET stream; see the file comment. */
export class EventStream {
  private current: EventStreamStatus | undefined;
  private reopenTimer: unknown;
  private lastEventId: string | undefined;
  private serverRetryMs = 0;

  constructor(
    private readonly host: EventStreamHost,
    private readonly options: {
      clock: Clock;
      /** Delays before a reopen, per consecutive failure; the last repeats, in ms. */
      delaysMs: readonly number[];
      /** Longest event, in characters. */
      maxLength: number;
      /** The server's URL, for messages. */
      url: string;
    },
  ) {}

  /** As last seen (undefined before the first open). */
  get status(): EventStreamStatus | undefined {
    return this.current;
  }

  /**
   * Opens the stream, or reopens it now; does nothing while it is open or opening. It runs in
   * the async context the module was loaded in, whatever request's context asks for it: what
   * arrives on it belongs to no request.
   */
  open(): void {
    DETACHED.runInAsyncScope(() => this.openNow());
  }

  private openNow(): void {
    if (this.host.closed() || this.current?.state === 'opening' || this.current?.state === 'open')
      return;
    this.stop();
    const lost = this.current?.state === 'lost' ? this.current : undefined;
    const session = this.host.session();
    this.set({ state: 'opening' });
    this.host.get(this.lastEventId).then(
      async (response) => {
        const status = response.status;
        if (status === 405) {
          response.discard();
          this.set({ state: 'none' }); // the server offers no standalone stream
          return;
        }
        if (status === 404 && session !== undefined) {
          response.discard();
          this.lost(lost, httpError(status, `${this.options.url} does not know the session`));
          this.host.renew(session);
          return;
        }
        if (status !== 200) {
          response.discard();
          this.lost(lost, httpError(status, `${this.options.url} refused the event stream`));
          return;
        }
        this.set({ state: 'open', resumed: lost !== undefined || this.host.renewals() > 0 });
        const cut = await readEventStream(
          response,
          { maxLength: this.options.maxLength },
          {
            onData: (data) => this.host.message(data),
            onId: (id) => {
              this.lastEventId = id;
            },
            onRetry: (ms) => {
              this.serverRetryMs = Math.min(ms, 60_000);
            },
          },
        );
        this.lost(undefined, new Error(cut ?? 'event stream closed'));
      },
      (error: Error) => this.lost(lost, error),
    );
  }

  /** Cancels a scheduled reopen. */
  stop(): void {
    if (this.reopenTimer !== undefined) this.options.clock.clearTimeout(this.reopenTimer);
    this.reopenTimer = undefined;
  }

  private set(status: EventStreamStatus): void {
    this.current = status;
    try {
      this.host.status(status);
    } catch {
      // A listener's failure is its own.
    }
  }

  /**
   * The stream dropped (`before` undefined) or an open failed (`before` the loss it followed):
   * reported, and a reopen scheduled with backoff.
   */
  private lost(before: Lost | undefined, error: Error): void {
    if (this.host.closed()) return;
    this.host.error(error);
    const failures = before === undefined ? 0 : before.failures + 1;
    const status = error instanceof ConnectionError ? error.status : undefined;
    const reason = status === undefined ? error.message : `${error.message} (HTTP ${status})`;
    this.set({ state: 'lost', reason, failures });
    const { delaysMs } = this.options;
    const delay = Math.max(
      delaysMs[Math.min(failures, delaysMs.length - 1)] ?? 1_000,
      this.serverRetryMs,
    );
    this.reopenTimer = this.options.clock.setTimeout(() => {
      this.reopenTimer = undefined;
      // A renewal under way opens the stream of its new session; if it fails, this one retries.
      void (this.host.renewing() ?? Promise.resolve())
        .catch(() => undefined)
        .then(() => this.open());
    }, delay);
  }
}

const httpError = (status: number, message: string) =>
  new ConnectionError('HTTP_STATUS', message, { status });
