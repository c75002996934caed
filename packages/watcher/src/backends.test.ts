import path from 'node:path';
import type parcel from '@parcel/watcher';
import { describe, expect, it } from 'vitest';
import { type BackendCallbacks, createParcelBackend } from './index.js';

type ParcelSubscribe = typeof parcel.subscribe;
type ParcelEvent = parcel.Event;

/** A stand-in for @parcel/watcher's `subscribe`: records its calls and lets a test send events. */
function fakeParcel(fail?: Error) {
  const calls: Array<{ dir: string; options: parcel.Options | undefined }> = [];
  let send: ((events: ParcelEvent[]) => void) | undefined;
  const subscribe: ParcelSubscribe = async (dir, fn, options) => {
    calls.push({ dir, options });
    if (fail) throw fail;
    send = (events) => void fn(null, events);
    return { unsubscribe: async () => undefined };
  };
  return { subscribe, calls, send: (events: ParcelEvent[]) => send?.(events) };
}

/** Callbacks that remember what the back-end reported. */
function listener() {
  const seen: Array<readonly string[] | null | 'gone'> = [];
  const callbacks: BackendCallbacks = {
    onChange: (names) => seen.push(names),
    onDirectoryGone: () => seen.push('gone'),
    onError: (error) => {
      throw error;
    },
  };
  return { seen, callbacks };
}

describe('createParcelBackend', () => {
  it.each([
    ['darwin', 'fs-events'],
    ['linux', 'inotify'],
    ['android', 'inotify'],
    ['win32', 'windows'],
    ['freebsd', 'kqueue'],
  ] as const)('on %s pins the native back-end %s, never Watchman', async (platform, backend) => {
    const fake = fakeParcel();
    const parcelBackend = createParcelBackend({ platform, subscribe: fake.subscribe });
    await parcelBackend.subscribe('/data/instances', listener().callbacks);
    expect(fake.calls).toEqual([{ dir: '/data/instances', options: { backend } }]);
    expect(parcelBackend.name).toBe(`parcel (${backend})`);
  });

  it('leaves the choice to @parcel/watcher on a platform it has no pin for', async () => {
    const fake = fakeParcel();
    const parcelBackend = createParcelBackend({ platform: 'aix', subscribe: fake.subscribe });
    await parcelBackend.subscribe('/data/instances', listener().callbacks);
    expect(fake.calls[0]?.options).toBeUndefined();
    expect(parcelBackend.name).toBe('parcel');
  });

  it('passes a refusal on as the subscription failing', async () => {
    const fake = fakeParcel(new Error('watchman: unable to resolve root /data/instances'));
    const parcelBackend = createParcelBackend({ platform: 'darwin', subscribe: fake.subscribe });
    await expect(parcelBackend.subscribe('/data/instances', listener().callbacks)).rejects.toThrow(
      /unable to resolve root/,
    );
  });

  it('reports the names of files in the folder, and the folder’s own deletion', async () => {
    const fake = fakeParcel();
    const { seen, callbacks } = listener();
    const dir = path.resolve('/data/instances');
    await createParcelBackend({ platform: 'linux', subscribe: fake.subscribe }).subscribe(
      dir,
      callbacks,
    );
    fake.send([
      { type: 'create', path: path.join(dir, 'a.json') },
      { type: 'update', path: path.join(dir, 'nested', 'b.json') }, // not a record: ignored
    ]);
    fake.send([{ type: 'delete', path: dir }]);
    expect(seen).toEqual([['a.json'], 'gone']);
  });

  it('asks for a rescan, never drops it, when an event names a path outside the folder', async () => {
    // FSEvents names /var/folders/... as /private/var/folders/...: any path of another form
    // than the folder watched is a change the watcher would otherwise never hear of.
    const fake = fakeParcel();
    const { seen, callbacks } = listener();
    await createParcelBackend({ platform: 'darwin', subscribe: fake.subscribe }).subscribe(
      '/var/folders/x/instances',
      callbacks,
    );
    fake.send([{ type: 'create', path: '/private/var/folders/x/instances/a.json' }]);
    expect(seen).toEqual([null]);
  });
});
