import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { ensureDir } from '@mcp-beacon/paths';
import {
  type Clock,
  type InstanceRecord,
  type ReadOptions,
  safeReadInstanceSync,
  systemClock,
} from '@mcp-beacon/registry';
import { diffState, type FileState, type InstanceEvent } from './_state.js';
import {
  type BackendSubscription,
  nodeBackend,
  parcelBackend,
  type WatchBackend,
} from './backends.js';
import { WatcherError } from './errors.js';

/** Options of {@link watchInstances}. */
export interface WatchOptions {
  /** The instances directory; created (0700) when missing. */
  dir: string;
  /** Aborting it closes the watcher. */
  signal?: AbortSignal;
  /**
   * Notification sources. Default: Node's `fs.watch` for latency plus @parcel/watcher for
   * robustness; every notification only schedules a re-read, so overlaps cost nothing visible.
   */
  backends?: readonly WatchBackend[];
  /**
   * Period in ms of the check that the directory still exists and that no file was missed by
   * the notification back-ends (default 1 000; 0 = off).
   */
  livenessMs?: number;
  /**
   * Whether each liveness tick also lists the directory to find files the back-ends missed
   * (default true). Off, only the back-ends report changes: for testing a back-end on its own.
   */
  reconcile?: boolean;
  /** Files read per turn of the event loop (default 256). */
  batchSize?: number;
  /** Passed to the record reader (e.g. the expected owner uid). */
  readOptions?: ReadOptions;
  /** Timers of the liveness check (default: the real clock). */
  clock?: Clock;
  /** Problems the watcher recovered from (re-subscriptions, failed scans); default: ignored. */
  onError?: (error: WatcherError) => void;
}

/** A live view of the instances directory. */
export interface InstanceWatcher extends AsyncIterable<InstanceEvent> {
  /** Resolves once subscribed and the initial scan has been processed. */
  readonly ready: Promise<void>;
  /** The valid records known now, by id. */
  records(): ReadonlyMap<string, InstanceRecord>;
  /** Calls `listener` for every event from now on; returns the unsubscribe function. */
  on(listener: (event: InstanceEvent) => void): () => void;
  /**
   * An event stream that first replays the current state as `added` events. Events are
   * coalesced per file while the consumer is busy, so the buffer is bounded by the number of
   * files and the final state of each file is always delivered.
   */
  [Symbol.asyncIterator](): AsyncIterator<InstanceEvent>;
  /** Resolves when every change notified so far has been read and reported. */
  settled(): Promise<void>;
  /** Stops watching; idempotent. Open iterators finish. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

const isCandidate = (name: string) => name.endsWith('.json');

/**
 * Watches the instances directory and reports records as they are added, updated, removed
 * or rejected. It subscribes first and scans second, so no file falls in the gap; each file is
 * read once its atomic rename lands, never after a fixed delay. A deleted directory is
 * recreated and watched again.
 */
export function watchInstances(options: WatchOptions): InstanceWatcher {
  const dir = path.resolve(options.dir);
  const backends = options.backends ?? [nodeBackend, parcelBackend];
  const batchSize = options.batchSize ?? 256;
  const states = new Map<string, FileState>();
  const pending = new Set<string>();
  const listeners = new Set<(event: InstanceEvent) => void>();
  const cursors = new Set<Cursor>();
  let idleWaiters: Array<() => void> = [];
  let subscriptions: BackendSubscription[] = [];
  let dirIdentity: string | undefined;
  let closed = false;
  let recovering: Promise<void> | undefined;
  let livenessTimer: unknown;
  const clock = options.clock ?? systemClock;
  let drainScheduled: NodeJS.Immediate | undefined;

  const report = (error: WatcherError) => options.onError?.(error);

  const setState = (name: string, next: FileState | undefined) => {
    const file = path.join(dir, name);
    const before = states.get(name);
    if (next === undefined) states.delete(name);
    else states.set(name, next);
    const events = diffState(file, before, next);
    for (const event of events) {
      for (const listener of listeners) {
        try {
          listener(event);
        } catch {
          // A throwing listener must not stop the others or the watcher.
        }
      }
    }
    if (events.length > 0 || before !== next) for (const cursor of cursors) cursor.touch(name);
  };

  const readOne = (name: string) => {
    const result = safeReadInstanceSync(path.join(dir, name), options.readOptions);
    if (result.ok) {
      setState(name, { kind: 'valid', record: result.value, json: JSON.stringify(result.value) });
    } else if (result.reason === 'NOT_FOUND') {
      setState(name, undefined);
    } else {
      setState(name, { kind: 'invalid', reason: result.reason, message: result.message });
    }
  };

  // Reads run in batches on their own turn of the event loop: a burst of 10,000 files never
  // blocks for long, and a file notified again before its turn is read once, in its final state.
  const drain = () => {
    drainScheduled = undefined;
    let budget = batchSize;
    for (const name of pending) {
      if (closed || budget-- === 0) break;
      pending.delete(name);
      readOne(name);
    }
    if (closed) return;
    if (pending.size > 0) {
      drainScheduled = setImmediate(drain);
      return;
    }
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const resolve of waiters) resolve();
  };

  const schedule = (names: Iterable<string>) => {
    if (closed) return;
    for (const name of names) if (isCandidate(name)) pending.add(name);
    if (pending.size > 0) drainScheduled ??= setImmediate(drain);
  };

  const scan = async () => {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (cause) {
      report(
        new WatcherError('SCAN_FAILED', `cannot list ${dir}: ${(cause as Error).message}`, {
          cause,
        }),
      );
      return;
    }
    // Known files missing from the listing are re-read too, so they turn into `removed`.
    schedule([...names, ...states.keys()]);
  };

  const unsubscribeAll = async () => {
    const current = subscriptions;
    subscriptions = [];
    await Promise.allSettled(current.map((s) => s.close()));
  };

  const subscribe = async () => {
    await ensureDir(dir);
    dirIdentity = await identify();
    for (const backend of backends) {
      try {
        subscriptions.push(
          await backend.subscribe(dir, {
            onChange: (names) => (names === null ? void scan() : schedule(names)),
            onDirectoryGone: () => void recover('directory deleted'),
            onError: (error) => void recover(`${backend.name} back-end failed: ${error.message}`),
          }),
        );
      } catch (cause) {
        throw new WatcherError(
          'SUBSCRIBE_FAILED',
          `cannot watch ${dir} with ${backend.name}: ${(cause as Error).message}`,
          {
            cause,
          },
        );
      }
    }
  };

  const start = async () => {
    await subscribe();
    await scan();
    await settled();
  };

  const recover = (why: string): Promise<void> => {
    if (closed) return Promise.resolve();
    recovering ??= (async () => {
      report(new WatcherError('DIRECTORY_LOST', `re-watching ${dir}: ${why}`));
      try {
        await unsubscribeAll();
        if (closed) return;
        await subscribe();
        if (closed) {
          await unsubscribeAll();
          return;
        }
        await scan();
      } catch (cause) {
        report(
          cause instanceof WatcherError
            ? cause
            : new WatcherError('SUBSCRIBE_FAILED', String(cause), { cause }),
        );
        // Every known record is gone with the directory; the liveness check retries later.
        schedule([...states.keys()]);
      } finally {
        recovering = undefined;
      }
    })();
    return recovering;
  };

  // Inode numbers are reused at once by a recreated directory; the birth time tells them apart.
  const identify = () =>
    stat(dir).then(
      (s) => `${s.dev}:${s.ino}:${s.birthtimeMs}`,
      () => undefined,
    );

  // Notification back-ends can drop events under a burst (@parcel/watcher#183, inotify queue
  // overflow): each liveness tick also lists the directory and re-reads any file whose
  // presence disagrees with what is known. One readdir, no reads when nothing was lost.
  const reconcile = async () => {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      return; // the next liveness check sees the directory's fate
    }
    if (closed || recovering) return;
    const listed = new Set(names.filter(isCandidate));
    const lost = [...listed].filter((name) => !states.has(name) && !pending.has(name));
    for (const name of states.keys()) if (!listed.has(name)) lost.push(name);
    if (lost.length > 0) schedule(lost);
  };

  const checkLiveness = async () => {
    if (closed || recovering) return;
    const identity = await identify();
    if (identity !== dirIdentity)
      await recover(identity === undefined ? 'directory missing' : 'directory replaced');
    else if (options.reconcile !== false) await reconcile();
  };

  const settled = () =>
    new Promise<void>((resolve) => {
      if (closed || (pending.size === 0 && drainScheduled === undefined)) resolve();
      else idleWaiters.push(resolve);
    });

  // Memoised: every caller, the second one too, resolves only once the back-ends are closed.
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= shutdown();
    return closing;
  };
  const shutdown = async () => {
    closed = true;
    if (livenessTimer !== undefined) clock.clearTimeout(livenessTimer);
    options.signal?.removeEventListener('abort', onAbort);
    pending.clear();
    if (drainScheduled) clearImmediate(drainScheduled);
    for (const cursor of cursors) cursor.end();
    cursors.clear();
    listeners.clear();
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const resolve of waiters) resolve();
    await recovering?.catch(() => undefined);
    await unsubscribeAll();
  };
  const onAbort = () => void close();

  class Cursor implements AsyncIterator<InstanceEvent> {
    private seen = new Map<string, FileState>();
    private dirty = new Set<string>(states.keys());
    private buffered: InstanceEvent[] = [];
    private wake: (() => void) | undefined;
    private done = false;

    touch(name: string) {
      this.dirty.add(name);
      this.wake?.();
    }

    end() {
      this.done = true;
      this.wake?.();
    }

    async next(): Promise<IteratorResult<InstanceEvent>> {
      for (;;) {
        const event = this.buffered.shift();
        if (event) return { value: event, done: false };
        if (this.done) return { value: undefined, done: true };
        const name = this.dirty.values().next();
        if (!name.done) {
          this.dirty.delete(name.value);
          const after = states.get(name.value);
          this.buffered = diffState(path.join(dir, name.value), this.seen.get(name.value), after);
          if (after === undefined) this.seen.delete(name.value);
          else this.seen.set(name.value, after);
          continue;
        }
        await new Promise<void>((resolve) => {
          this.wake = resolve;
        });
        this.wake = undefined;
      }
    }

    async return(): Promise<IteratorResult<InstanceEvent>> {
      this.done = true;
      cursors.delete(this);
      return { value: undefined, done: true };
    }
  }

  if (options.signal?.aborted) {
    closed = true;
  } else {
    options.signal?.addEventListener('abort', onAbort, { once: true });
  }
  const ready = closed
    ? Promise.reject(new WatcherError('CLOSED', 'the signal was already aborted'))
    : start().then(() => {
        const every = options.livenessMs ?? 1_000;
        const tick = () => {
          livenessTimer = clock.setTimeout(() => {
            void checkLiveness().finally(() => {
              if (!closed) tick();
            });
          }, every);
        };
        if (every > 0 && !closed) tick();
      });
  ready.catch(() => undefined); // surfaced to whoever awaits `ready`

  return {
    ready,
    records() {
      const out = new Map<string, InstanceRecord>();
      for (const state of states.values())
        if (state.kind === 'valid') out.set(state.record.id, state.record);
      return out;
    },
    on(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    [Symbol.asyncIterator]() {
      const cursor = new Cursor();
      if (closed) cursor.end();
      else cursors.add(cursor);
      return cursor;
    },
    settled,
    close,
    [Symbol.asyncDispose]: close,
  };
}
