import path from 'node:path';
import type { InstanceRecord, ReadOptions } from '@mcp-beacon/registry';
import { type Clock, systemClock } from '@mcp-beacon/runtime';
import { DirectoryWatch } from './_directory.js';
import { RecordReader } from './_reader.js';
import type { InstanceEvent } from './_state.js';
import { type BackendFailure, nodeBackend, parcelBackend, type WatchBackend } from './backends.js';
import { WatcherError } from './errors.js';

/** Options of {@link watchInstances}. */
export interface WatchOptions {
  /** The instances directory; created (0700) when missing. */
  dir: string;
  /** Aborting it closes the watcher. */
  signal?: AbortSignal;
  /**
   * Notification sources. Default: Node's `fs.watch` for latency plus @parcel/watcher (on the
   * OS's own back-end, never Watchman) for robustness; every notification only schedules a
   * re-read, so overlaps cost nothing visible.
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
  /**
   * Called each time the set of back-ends that cannot watch the directory changes: a
   * non-empty list once one is refused (the others and the liveness check keep discovering),
   * an empty one when every back-end watches again. Default: ignored; see
   * {@link InstanceWatcher.degraded}.
   */
  onDegraded?: (failures: readonly BackendFailure[]) => void;
}

/** A live view of the instances directory. */
export interface InstanceWatcher extends AsyncIterable<InstanceEvent> {
  /**
   * Resolves once subscribed and the initial scan has been processed. A refused back-end does
   * not fail it (see {@link degraded}); it rejects (`SUBSCRIBE_FAILED`) only when the directory
   * cannot be created, or when every back-end is refused and no liveness check lists it.
   */
  readonly ready: Promise<void>;
  /** The back-ends that cannot watch the directory now, with why; empty when all watch. */
  degraded(): readonly BackendFailure[];
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
  caughtUp(): Promise<void>;
  /** Stops watching; idempotent. Open iterators finish. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Watches the instances directory and reports records as they are added, updated, removed
 * or rejected. It subscribes first and scans second, so no file falls in the gap; each file is
 * read once its atomic rename lands, never after a fixed delay. A deleted directory is
 * recreated and watched again. The back-ends watch the directory's real path; events name
 * files under `dir` as given. A refused back-end leaves the watcher degraded, not blind. The
 * reads and the events are `_reader.ts`; the back-ends, the recovery and the liveness check
 * are `_directory.ts`; a consumer's stream is `_cursor.ts`.
 */
export function watchInstances(options: WatchOptions): InstanceWatcher {
  const dir = path.resolve(options.dir);
  const reader = new RecordReader(dir, options.batchSize ?? 256, options.readOptions);
  const directory = new DirectoryWatch({
    dir,
    backends: options.backends ?? [nodeBackend, parcelBackend],
    reader,
    clock: options.clock ?? systemClock,
    livenessMs: options.livenessMs ?? 1_000,
    reconcile: options.reconcile !== false,
    report: (error) => options.onError?.(error),
    degraded: (failures) => {
      try {
        options.onDegraded?.(failures);
      } catch {
        // A throwing listener must not stop the watch.
      }
    },
  });

  // Memoised: every caller, the second one too, resolves only once the back-ends are closed.
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      options.signal?.removeEventListener('abort', onAbort);
      reader.close();
      await directory.close();
    })();
    return closing;
  };
  const onAbort = () => void close();

  const aborted = options.signal?.aborted === true;
  if (aborted) reader.close();
  else options.signal?.addEventListener('abort', onAbort, { once: true });
  const ready = aborted
    ? Promise.reject(new WatcherError('CLOSED', 'the signal was already aborted'))
    : directory.start();
  ready.catch(() => undefined); // surfaced to whoever awaits `ready`

  return {
    ready,
    records: () => reader.records(),
    degraded: () => directory.failures(),
    on: (listener) => reader.on(listener),
    [Symbol.asyncIterator]: () => reader.cursor(),
    caughtUp: () => reader.caughtUp(),
    close,
    [Symbol.asyncDispose]: close,
  };
}
