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

/** A back-end that could not watch the directory, and why (the error it gave). */
export interface BackendFailure {
  /** The back-end's {@link WatchBackend.name}. */
  backend: string;
  reason: string;
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
 * A @parcel/watcher back-end name: its README and its native code take `kqueue` too, which its
 * 2.6 type declarations leave out.
 */
type ParcelBackendName = parcel.BackendType | 'kqueue';

/** The @parcel/watcher back-end of each platform: the OS's own, never Watchman. */
const PARCEL_BACKENDS: Partial<Record<NodeJS.Platform, ParcelBackendName>> = {
  darwin: 'fs-events',
  linux: 'inotify',
  android: 'inotify',
  win32: 'windows',
  freebsd: 'kqueue',
};

/** Options of {@link createParcelBackend}. */
export interface ParcelBackendOptions {
  /** Whose native back-end to pin (default: this machine's). */
  platform?: NodeJS.Platform;
  /** @parcel/watcher's `subscribe` (default: the real one); tests stand in for the OS here. */
  subscribe?: typeof parcel.subscribe;
}

/**
 * @parcel/watcher: native, robust on every OS, but it batches events for about 50 ms before
 * delivering them. Its back-end is pinned to the OS's own (FSEvents on macOS, inotify on
 * Linux, ReadDirectoryChangesW on Windows, kqueue on FreeBSD): left to choose, it takes
 * Watchman whenever `watchman` is installed, before inotify, ReadDirectoryChangesW and kqueue
 * (2.6 tries FSEvents first on macOS), and Watchman refuses folders it is not set up to watch.
 * On another platform @parcel/watcher chooses. Events are matched to the folder as
 * subscribed (the watcher passes its real path, which is how FSEvents names files); an event
 * under any other form of path asks for a rescan rather than being dropped.
 */
export function createParcelBackend(options: ParcelBackendOptions = {}): WatchBackend {
  const subscribe = options.subscribe ?? parcel.subscribe;
  const backend = PARCEL_BACKENDS[options.platform ?? process.platform];
  return {
    name: backend === undefined ? 'parcel' : `parcel (${backend})`,
    async subscribe(dir, callbacks) {
      const inside = dir.endsWith(path.sep) ? dir : dir + path.sep;
      const subscription = await subscribe(
        dir,
        (error, events) => {
          if (error) {
            callbacks.onError(error);
            return;
          }
          const names: string[] = [];
          let gone = false;
          let unknown = false;
          for (const event of events) {
            if (event.path === dir) {
              if (event.type === 'delete') gone = true;
            } else if (path.dirname(event.path) === dir) {
              names.push(path.basename(event.path));
            } else if (!event.path.startsWith(inside)) {
              unknown = true; // a path form the folder was not subscribed under
            } // else deeper down: never a record
          }
          if (unknown) callbacks.onChange(null);
          else if (names.length > 0) callbacks.onChange(names);
          if (gone) callbacks.onDirectoryGone();
        },
        backend === undefined ? undefined : ({ backend } as parcel.Options),
      );
      return { close: () => subscription.unsubscribe() };
    },
  };
}

/** {@link createParcelBackend} for this machine. */
export const parcelBackend: WatchBackend = createParcelBackend();

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
