import { type FSWatcher, watch } from 'node:fs';
import path from 'node:path';
import parcel from '@parcel/watcher';

/** What a back-end reports: names changed in the directory, or `null` for "rescan everything". */
export interface BackendCallbacks {
  /** File names (not paths) that may have changed; `null` when the back-end cannot tell. */
  onChange(names: readonly string[] | null): void;
  /** The watched directory itself was deleted or replaced. */
  onDirectoryGone(): void;
  /** The subscription failed; the watcher re-subscribes. */
  onError(error: Error): void;
}

/** A live subscription of one back-end. */
export interface BackendSubscription {
  close(): Promise<void>;
}

/** A file-system notification source for one directory (not recursive). */
export interface WatchBackend {
  readonly name: string;
  subscribe(dir: string, callbacks: BackendCallbacks): Promise<BackendSubscription>;
}

/**
 * @parcel/watcher: native, robust on every OS (inotify, FSEvents, ReadDirectoryChangesW),
 * but it batches events for about 50 ms before delivering them.
 */
export const parcelBackend: WatchBackend = {
  name: 'parcel',
  async subscribe(dir, callbacks) {
    const subscription = await parcel.subscribe(dir, (error, events) => {
      if (error) {
        callbacks.onError(error);
        return;
      }
      const names: string[] = [];
      let gone = false;
      for (const event of events) {
        if (event.path === dir) {
          if (event.type === 'delete') gone = true;
        } else if (path.dirname(event.path) === dir) {
          names.push(path.basename(event.path));
        }
      }
      if (names.length > 0) callbacks.onChange(names);
      if (gone) callbacks.onDirectoryGone();
    });
    return { close: () => subscription.unsubscribe() };
  },
};

/**
 * Node's `fs.watch` on the directory: delivered as soon as the kernel reports it (well under
 * a millisecond on Linux), so it gives the low-latency path; it can miss the directory's own
 * deletion on some systems, which the watcher's liveness check covers.
 */
export const nodeBackend: WatchBackend = {
  name: 'node',
  async subscribe(dir, callbacks) {
    const self = path.basename(dir);
    const watcher: FSWatcher = watch(dir, { persistent: false }, (_type, filename) => {
      // inotify reports the watched directory's own deletion under its own name.
      if (filename === self) callbacks.onDirectoryGone();
      else callbacks.onChange(filename === null ? null : [filename.toString()]);
    });
    watcher.on('error', (error) => callbacks.onError(error));
    return {
      close: async () => {
        watcher.close();
      },
    };
  },
};
