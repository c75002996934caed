import { readdir, stat } from 'node:fs/promises';
import { ensureDir } from '@mcp-beacon/paths';
import type { Clock } from '@mcp-beacon/registry';
import { isCandidate, type RecordReader } from './_reader.js';
import type { BackendSubscription, WatchBackend } from './backends.js';
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
}

/**
 * Keeps the notification back-ends subscribed to the directory, and tells the reader which
 * names to read: all of them after a subscription (the initial scan), the notified ones
 * after that. It subscribes first and scans second, so no file falls in the gap. A deleted or
 * replaced directory is recreated and watched again; a periodic liveness check notices a
 * directory lost silently and, with `reconcile`, files the back-ends missed.
 */
export class DirectoryWatch {
  private subscriptions: BackendSubscription[] = [];
  private identity: string | undefined;
  private recovering: Promise<void> | undefined;
  private livenessTimer: unknown;
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

  /** Stops the liveness check and closes every back-end; waits for a recovery under way. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.livenessTimer !== undefined) this.options.clock.clearTimeout(this.livenessTimer);
    await this.recovering?.catch(() => undefined);
    await this.unsubscribeAll();
  }

  private tick(): void {
    this.livenessTimer = this.options.clock.setTimeout(() => {
      void this.checkLiveness().finally(() => {
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
    const { dir, reader } = this.options;
    await ensureDir(dir);
    this.identity = await this.identify();
    for (const backend of this.options.backends) {
      try {
        this.subscriptions.push(
          await backend.subscribe(dir, {
            onChange: (names) => (names === null ? void this.scan() : reader.schedule(names)),
            onDirectoryGone: () => void this.recover('directory deleted'),
            onError: (error) =>
              void this.recover(`${backend.name} back-end failed: ${error.message}`),
          }),
        );
      } catch (cause) {
        throw new WatcherError(
          'SUBSCRIBE_FAILED',
          `cannot watch ${dir} with ${backend.name}: ${(cause as Error).message}`,
          { cause },
        );
      }
    }
  }

  private async unsubscribeAll(): Promise<void> {
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
    else if (this.options.reconcile) await this.reconcile();
  }
}
