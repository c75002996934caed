import { readdir, realpath, stat } from 'node:fs/promises';
import { ensureDir } from '@mcp-beacon/paths';
import type { Clock } from '@mcp-beacon/runtime';
import { isCandidate, type RecordReader } from './_reader.js';
import type { BackendFailure, BackendSubscription, WatchBackend } from './backends.js';
import { WatcherError } from './errors.js';

/** What {@link DirectoryWatch} needs. */
export interface DirectoryWatchOptions {
  dir: string;
  backends: readonly WatchBackend[];
  reader: RecordReader;
  clock: Clock;
  /** Period of the liveness check in ms; 0 = none. */
  livenessMs: number;
  /** Whether the liveness check also lists the directory to find missed files. */
  reconcile: boolean;
  report: (error: WatcherError) => void;
  /** Called when the set of back-ends that cannot watch changes (empty: all watch again). */
  degraded: (failures: readonly BackendFailure[]) => void;
}

/** How often a back-end that could not subscribe is tried again, in ms. */
export const BACKEND_RETRY_MS = 30_000;

/**
 * Keeps the notification back-ends subscribed to the directory, and tells the reader which
 * names to read: all of them after a subscription (the initial scan), the notified ones
 * after that. It subscribes first and scans second, so no file falls in the gap. A deleted or
 * replaced directory is recreated and watched again; a periodic liveness check notices a
 * directory lost silently and, with `reconcile`, files the back-ends missed.
 *
 * Back-ends watch the directory's real path (FSEvents names `/var/...` files as
 * `/private/var/...`); they report bare names, read under the directory as given. A back-end
 * that cannot subscribe leaves the watch degraded, not dead: the others and the liveness
 * check keep discovering, and it is tried again every {@link BACKEND_RETRY_MS}.
 */
export class DirectoryWatch {
  private subscriptions: BackendSubscription[] = [];
  /** Back-ends that could not subscribe, with why, in the order of `backends`. */
  private failed = new Map<WatchBackend, string>();
  /** The names of the failed back-ends last reported to `degraded`. */
  private reported = '';
  private lastAttempt = 0;
  /** Bumped by every unsubscribe, so a retry that lands after one closes what it opened. */
  private generation = 0;
  private identity: string | undefined;
  private recovering: Promise<void> | undefined;
  private livenessTimer: unknown;
  private checking: Promise<void> | undefined;
  private closed = false;

  constructor(private readonly options: DirectoryWatchOptions) {}

  /** Subscribes, scans, waits for the scan's reads, then starts the liveness check. */
  async start(): Promise<void> {
    await this.subscribe();
    if (this.closed) return this.unsubscribeAll(); // closed while subscribing
    await this.scan();
    await this.options.reader.caughtUp();
    if (this.options.livenessMs > 0 && !this.closed) this.tick();
  }

  /** The back-ends that cannot watch now, with why; empty when every one is watching. */
  failures(): BackendFailure[] {
    return [...this.failed].map(([backend, reason]) => ({ backend: backend.name, reason }));
  }

  /** Stops the liveness check and closes every back-end; waits for a recovery under way. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.livenessTimer !== undefined) this.options.clock.clearTimeout(this.livenessTimer);
    await this.checking;
    await this.recovering?.catch(() => undefined);
    await this.unsubscribeAll();
  }

  private tick(): void {
    this.livenessTimer = this.options.clock.setTimeout(() => {
      this.checking = this.checkLiveness()
        .catch(() => undefined)
        .finally(() => {
          this.checking = undefined;
          if (!this.closed) this.tick();
        });
    }, this.options.livenessMs);
  }

  private async scan(): Promise<void> {
    const { dir, reader } = this.options;
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (cause) {
      this.options.report(
        new WatcherError('SCAN_FAILED', `cannot list ${dir}: ${(cause as Error).message}`, {
          cause,
        }),
      );
      return;
    }
    // Known files missing from the listing are re-read too, so they turn into `removed`.
    reader.schedule([...names, ...reader.states.keys()]);
  }

  private async subscribe(): Promise<void> {
    const { dir, backends } = this.options;
    await ensureDir(dir);
    this.identity = await this.identify();
    const real = await this.realDir();
    this.failed.clear();
    for (const backend of backends) await this.subscribeOne(backend, real);
    this.lastAttempt = this.options.clock.now();
    this.sayIfDegradationChanged();
    // With no back-end and no listing on the liveness tick, nothing would ever notice a change.
    const polled = this.options.livenessMs > 0 && this.options.reconcile;
    if (backends.length > 0 && this.failed.size === backends.length && !polled)
      throw new WatcherError(
        'SUBSCRIBE_FAILED',
        `cannot watch ${dir}: ${this.failures()
          .map((f) => `${f.backend}: ${f.reason}`)
          .join('; ')}`,
      );
  }

  /** Subscribes one back-end to `real`; a refusal is recorded in `failed`, never thrown. */
  private async subscribeOne(backend: WatchBackend, real: string): Promise<void> {
    const { reader } = this.options;
    const generation = this.generation;
    let subscription: BackendSubscription;
    try {
      subscription = await backend.subscribe(real, {
        onChange: (names) => (names === null ? void this.scan() : reader.schedule(names)),
        onDirectoryGone: () => void this.recover('directory deleted'),
        onError: (error) => void this.recover(`${backend.name} back-end failed: ${error.message}`),
      });
    } catch (cause) {
      this.failed.set(backend, (cause as Error)?.message ?? String(cause));
      return;
    }
    if (generation !== this.generation) {
      await subscription.close().catch(() => undefined); // unsubscribed meanwhile
      return;
    }
    this.failed.delete(backend);
    this.subscriptions.push(subscription);
  }

  /** Tries the back-ends that could not subscribe again; rescans if one now watches. */
  private async retryFailed(): Promise<void> {
    this.lastAttempt = this.options.clock.now();
    const before = this.failed.size;
    const real = await this.realDir();
    for (const backend of [...this.failed.keys()]) {
      if (this.closed || this.recovering) return;
      await this.subscribeOne(backend, real);
    }
    if (this.closed || this.recovering) return;
    this.sayIfDegradationChanged();
    // What happened while it was not watching is read once now.
    if (this.failed.size < before) await this.scan();
  }

  private sayIfDegradationChanged(): void {
    const names = [...this.failed.keys()].map((b) => b.name).join('\n');
    if (names === this.reported) return;
    this.reported = names;
    this.options.degraded(this.failures());
  }

  /** The directory's real path, for the back-ends; as given when it cannot be resolved. */
  private realDir(): Promise<string> {
    return realpath(this.options.dir).catch(() => this.options.dir);
  }

  private async unsubscribeAll(): Promise<void> {
    this.generation++;
    const current = this.subscriptions;
    this.subscriptions = [];
    await Promise.allSettled(current.map((s) => s.close()));
  }

  private recover(why: string): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.recovering ??= (async () => {
      this.options.report(
        new WatcherError('DIRECTORY_LOST', `re-watching ${this.options.dir}: ${why}`),
      );
      try {
        await this.unsubscribeAll();
        if (this.closed) return;
        await this.subscribe();
        if (this.closed) {
          await this.unsubscribeAll();
          return;
        }
        await this.scan();
      } catch (cause) {
        this.options.report(
          cause instanceof WatcherError
            ? cause
            : new WatcherError('SUBSCRIBE_FAILED', String(cause), { cause }),
        );
        // Every known record is gone with the directory; the liveness check retries later.
        this.options.reader.schedule([...this.options.reader.states.keys()]);
      } finally {
        this.recovering = undefined;
      }
    })();
    return this.recovering;
  }

  // Inode numbers are reused at once by a recreated directory; the birth time tells them apart.
  private identify(): Promise<string | undefined> {
    return stat(this.options.dir).then(
      (s) => `${s.dev}:${s.ino}:${s.birthtimeMs}`,
      () => undefined,
    );
  }

  // Notification back-ends can drop events under a burst (@parcel/watcher#183, inotify queue
  // overflow): each liveness tick also lists the directory and re-reads any file whose
  // presence disagrees with what is known. One readdir, no reads when nothing was lost.
  private async reconcile(): Promise<void> {
    const { reader } = this.options;
    let names: string[];
    try {
      names = await readdir(this.options.dir);
    } catch {
      return; // the next liveness check sees the directory's fate
    }
    if (this.closed || this.recovering) return;
    const listed = new Set(names.filter(isCandidate));
    const lost = [...listed].filter(
      (name) => !reader.states.has(name) && !reader.pending.has(name),
    );
    for (const name of reader.states.keys()) if (!listed.has(name)) lost.push(name);
    if (lost.length > 0) reader.schedule(lost);
  }

  private async checkLiveness(): Promise<void> {
    if (this.closed || this.recovering) return;
    const identity = await this.identify();
    if (identity !== this.identity)
      await this.recover(identity === undefined ? 'directory missing' : 'directory replaced');
    else {
      if (this.failed.size > 0 && this.options.clock.now() - this.lastAttempt >= BACKEND_RETRY_MS)
        await this.retryFailed();
      if (this.options.reconcile) await this.reconcile();
    }
  }
}
