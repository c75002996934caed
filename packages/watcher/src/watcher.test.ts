import { randomUUID } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { mkdir, realpath, rename, rm, stat, symlink, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type BeaconPaths, resolvePaths } from '@mcp-beacon/paths';
import { type InstanceRecordInput, writeInstance } from '@mcp-beacon/registry';
import {
  createTempDir,
  makeRecord,
  manualClock,
  type TempDir,
  waitFor,
} from '@mcp-beacon/test-utils';
import parcel from '@parcel/watcher';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createParcelBackend,
  type InstanceEvent,
  type InstanceWatcher,
  nodeBackend,
  parcelBackend,
  type WatchBackend,
  type WatchOptions,
  watchInstances,
} from './index.js';

const record = (id = randomUUID(), patch: Partial<InstanceRecordInput> = {}): InstanceRecordInput =>
  makeRecord({ id, ...patch });

/** Collects every event a watcher emits and lets a test await the one it expects. */
function recorder(watcher: InstanceWatcher) {
  const events: InstanceEvent[] = [];
  const waiters: Array<{
    match: (e: InstanceEvent) => boolean;
    resolve: (e: InstanceEvent) => void;
  }> = [];
  watcher.on((event) => {
    const waiter = waiters.find((w) => w.match(event));
    if (waiter) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve(event);
    } else {
      events.push(event);
    }
  });
  return {
    events,
    next(match: (e: InstanceEvent) => boolean): Promise<InstanceEvent> {
      const seen = events.find(match);
      if (seen) {
        events.splice(events.indexOf(seen), 1);
        return Promise.resolve(seen);
      }
      return new Promise((resolve) => waiters.push({ match, resolve }));
    },
  };
}

const suites: Array<[string, readonly WatchBackend[] | undefined]> = [
  ['default back-ends (fs.watch + parcel)', undefined],
  ['parcel only', [parcelBackend]],
  ['fs.watch only', [nodeBackend]],
];

// The contract every back-end set must meet on its own: the liveness tick still checks that the
// directory is there, but never lists it to find what a back-end missed (reconcile off), so a
// back-end that misses events fails these tests (see 'a deaf back-end fails the contract').
describe.each(suites)('watchInstances with %s', (_label, backends) => {
  let tmp: TempDir;
  let paths: BeaconPaths;
  let watcher: InstanceWatcher;
  const open = (extra: Partial<WatchOptions> = {}) => {
    watcher = watchInstances({
      dir: paths.instances,
      livenessMs: 50,
      reconcile: false,
      ...(backends ? { backends } : {}),
      ...extra,
    });
    return watcher;
  };

  beforeEach(async () => {
    tmp = await createTempDir();
    paths = resolvePaths({ home: tmp.path });
  });
  afterEach(async () => {
    await watcher?.close();
    await tmp.cleanup();
  });

  it('creates a missing directory with mode 0700', async () => {
    await open().ready;
    expect((await stat(paths.instances)).mode & 0o777).toBe(0o700);
  });

  it('reports records already present as added before ready resolves', async () => {
    const ids = [randomUUID(), randomUUID()];
    for (const id of ids) await writeInstance(paths, record(id));
    const w = open();
    const rec = recorder(w);
    await w.ready;
    expect([...w.records().keys()].sort()).toEqual([...ids].sort());
    expect(rec.events.filter((e) => e.type === 'added')).toHaveLength(2);
  });

  it('reports create, heartbeat update and remove, once each', async () => {
    const w = open();
    const rec = recorder(w);
    await w.ready;
    const r = record();
    await writeInstance(paths, r);
    const added = await rec.next((e) => e.type === 'added');
    expect(added).toMatchObject({
      type: 'added',
      id: r.id,
      record: { ...r, url: 'http://127.0.0.1:4000/mcp' },
    });

    await writeInstance(paths, r); // same content: no event
    const later = { ...r, last_seen: new Date(Date.now() + 5_000).toISOString() };
    await writeInstance(paths, later);
    const updated = await rec.next((e) => e.type === 'updated');
    expect(updated).toMatchObject({
      id: r.id,
      record: { last_seen: later.last_seen },
      previous: { last_seen: r.last_seen },
    });

    await unlink(path.join(paths.instances, `${r.id}.json`));
    const removed = await rec.next((e) => e.type === 'removed');
    expect(removed).toMatchObject({ id: r.id, previous: { last_seen: later.last_seen } });
    await w.caughtUp();
    expect(rec.events).toEqual([]);
    expect(w.records().size).toBe(0);
  });

  it('reports an invalid file once, then added when it is fixed', async () => {
    const w = open();
    const rec = recorder(w);
    await w.ready;
    const id = randomUUID();
    const file = path.join(paths.instances, `${id}.json`);
    await writeFile(file, '{"broken":');
    const invalid = await rec.next((e) => e.type === 'invalid');
    expect(invalid).toMatchObject({ file, reason: 'INVALID_JSON' });
    await writeFile(file, '{"broken":'); // same rejection: not reported again
    await writeInstance(paths, record(id));
    await rec.next((e) => e.type === 'added' && e.id === id);
    expect(rec.events.filter((e) => e.type === 'invalid')).toEqual([]);
  });

  it('ignores temp files and names that are not .json', async () => {
    const w = open();
    const rec = recorder(w);
    await w.ready;
    await writeFile(path.join(paths.instances, `${randomUUID()}.json.abc.tmp`), 'x');
    await writeFile(path.join(paths.instances, 'README.txt'), 'x');
    const marker = record();
    await writeInstance(paths, marker);
    await rec.next((e) => e.type === 'added');
    await w.caughtUp();
    expect(rec.events).toEqual([]);
  });

  // A burst is where a notification back-end may drop events (@parcel/watcher#183 on a busy
  // machine: seen once in a CI run with parcel alone). What the watcher promises is every record
  // reported once; the listing on the liveness tick (on by default) makes a partial burst whole.
  it('reports 1,000 records written at once, each once', async () => {
    const w = open({ reconcile: true });
    const rec = recorder(w);
    await w.ready;
    const ids = Array.from({ length: 1000 }, () => randomUUID());
    await Promise.all(ids.map((id) => writeInstance(paths, record(id))));
    await waitFor(() => w.records().size === 1000, { what: '1000 records', timeoutMs: 20_000 });
    await w.caughtUp();
    const added = rec.events.filter((e) => e.type === 'added');
    expect(added).toHaveLength(1000);
    expect(new Set(added.map((e) => e.type === 'added' && e.id))).toEqual(new Set(ids));
  });

  it('recreates a deleted directory and keeps watching', async () => {
    const w = open();
    const rec = recorder(w);
    await w.ready;
    const before = record();
    await writeInstance(paths, before);
    await rec.next((e) => e.type === 'added' && e.id === before.id);
    await rm(paths.instances, { recursive: true });
    await rec.next((e) => e.type === 'removed' && e.id === before.id);
    await waitFor(() => stat(paths.instances).then((s) => s.isDirectory()), {
      what: 'directory recreated',
    });
    const after = record();
    // The watcher may re-subscribe just after this write; the rescan catches it either way.
    await writeInstance(paths, after);
    await rec.next((e) => e.type === 'added' && e.id === after.id);
    expect([...w.records().keys()]).toEqual([after.id]);
  });

  it('handles the directory being deleted and recreated by someone else', async () => {
    const w = open();
    const rec = recorder(w);
    await w.ready;
    await rm(paths.instances, { recursive: true });
    await mkdir(paths.instances, { recursive: true });
    const r = record();
    await writeInstance(paths, r);
    await rec.next((e) => e.type === 'added' && e.id === r.id);
  });

  it('replays state to an iterator and coalesces while the consumer is busy', async () => {
    const existing = record();
    await writeInstance(paths, existing);
    const w = open();
    await w.ready;
    const it = w[Symbol.asyncIterator]();
    expect((await it.next()).value).toMatchObject({ type: 'added', id: existing.id });
    const r = record();
    for (let i = 0; i < 20; i++) await writeInstance(paths, { ...r, port: 5000 + i });
    await waitFor(() => w.records().get(r.id)?.port === 5019, { what: 'final write seen' });
    await w.caughtUp();
    // Twenty writes while nobody read: one `added` carrying the final state.
    const next = await it.next();
    expect(next.value).toMatchObject({ type: 'added', id: r.id, record: { port: 5019 } });
    await it.return?.();
  });

  it('ends iterators and stays quiet when closed while events are in flight', async () => {
    const w = open();
    const rec = recorder(w);
    await w.ready;
    const iterator = w[Symbol.asyncIterator]();
    const writes = Promise.all(Array.from({ length: 200 }, () => writeInstance(paths, record())));
    const pendingNext = iterator.next();
    await w.close();
    const countAtClose = rec.events.length;
    await writes;
    await w.close(); // idempotent
    // The iterator may hand out what it had buffered for one file, then it ends.
    const seenAtClose = new Set(rec.events.map((e) => JSON.stringify(e)));
    const after: InstanceEvent[] = [];
    for (let r = await pendingNext; !r.done; r = await iterator.next()) after.push(r.value);
    expect(after.length).toBeLessThanOrEqual(2);
    for (const e of after) expect(seenAtClose.has(JSON.stringify(e))).toBe(true);
    // close() resolved after the back-ends unsubscribed: no notification can come any more.
    await writeInstance(paths, record());
    expect(rec.events.length).toBe(countAtClose);
  });

  it('closes when its signal aborts', async () => {
    const controller = new AbortController();
    const w = open({ signal: controller.signal });
    await w.ready;
    const iterator = w[Symbol.asyncIterator]();
    controller.abort();
    expect((await iterator.next()).done).toBe(true);
  });

  it('reports atomic renames from another directory', async () => {
    const w = open();
    const rec = recorder(w);
    await w.ready;
    const r = record();
    await mkdir(paths.temp, { recursive: true });
    const temp = path.join(paths.temp, 'x.tmp');
    await writeFile(temp, JSON.stringify(r));
    await rename(temp, path.join(paths.instances, `${r.id}.json`));
    await rec.next((e) => e.type === 'added' && e.id === r.id);
  });
});

describe('watchInstances close()', () => {
  it('resolves a second, concurrent close() only once the back-ends are closed', async () => {
    await using tmp = await createTempDir();
    const paths = resolvePaths({ home: tmp.path });
    let unsubscribed = false;
    // A back-end whose unsubscribe takes a few turns of the event loop, like a native one.
    const slow: WatchBackend = {
      name: 'slow',
      subscribe: async () => ({
        close: async () => {
          for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
          unsubscribed = true;
        },
      }),
    };
    const w = watchInstances({ dir: paths.instances, backends: [slow] });
    await w.ready;
    const first = w.close();
    await w.close();
    expect(unsubscribed).toBe(true);
    await first;
  });
});

describe('watchInstances when notifications are lost', () => {
  // A back-end that subscribes and never reports: every change is a lost notification.
  const deaf: WatchBackend = {
    name: 'deaf',
    subscribe: async () => ({ close: async () => undefined }),
  };

  it('a deaf back-end fails the contract: with reconcile off, an added file is never reported', async () => {
    await using tmp = await createTempDir();
    const paths = resolvePaths({ home: tmp.path });
    const clock = manualClock();
    await using w = watchInstances({
      dir: paths.instances,
      backends: [deaf],
      clock,
      livenessMs: 50,
      reconcile: false,
    });
    await w.ready;
    await writeInstance(paths, record());
    await w.caughtUp();
    for (let i = 0; i < 20; i++) await clock.advance(50);
    await w.caughtUp();
    expect(w.records().size).toBe(0);
  });

  it('finds added and removed files on the next liveness tick', async () => {
    await using tmp = await createTempDir();
    const paths = resolvePaths({ home: tmp.path });
    const clock = manualClock();
    await using w = watchInstances({ dir: paths.instances, backends: [deaf], clock });
    const rec = recorder(w);
    await w.ready;
    const r = record();
    await writeInstance(paths, r);
    await w.caughtUp();
    expect(w.records().size).toBe(0); // nothing told the watcher yet
    await clock.advance(1_000);
    await rec.next((e) => e.type === 'added' && e.id === r.id);
    await unlink(path.join(paths.instances, `${r.id}.json`));
    await clock.advance(1_000);
    await rec.next((e) => e.type === 'removed' && e.id === r.id);
    expect(w.records().size).toBe(0);
  });
});

describe('watchInstances with one back-end refused', () => {
  // Watchman's way: the subscription is refused outright (the folder is not a watched root).
  const refused: WatchBackend = {
    name: 'watchman',
    subscribe: async (dir) => {
      throw new Error(`unable to resolve root ${dir}: directory is not watched`);
    },
  };

  it('still scans, discovers new records through the other, and says it is degraded', async () => {
    await using tmp = await createTempDir();
    const paths = resolvePaths({ home: tmp.path });
    const present = record();
    await writeInstance(paths, present);
    const degraded: string[][] = [];
    await using w = watchInstances({
      dir: paths.instances,
      backends: [refused, nodeBackend],
      reconcile: false, // only a back-end can find the new record
      onDegraded: (failures) => degraded.push(failures.map((f) => f.backend)),
    });
    const rec = recorder(w);
    await w.ready;
    expect([...w.records().keys()]).toEqual([present.id]);
    const r = record();
    await writeInstance(paths, r);
    await rec.next((e) => e.type === 'added' && e.id === r.id);
    expect(w.degraded()).toEqual([
      { backend: 'watchman', reason: expect.stringContaining('unable to resolve root') },
    ]);
    expect(degraded).toEqual([['watchman']]); // said once
  });

  it('polls the folder when every back-end is refused', async () => {
    await using tmp = await createTempDir();
    const paths = resolvePaths({ home: tmp.path });
    const clock = manualClock();
    await using w = watchInstances({ dir: paths.instances, backends: [refused], clock });
    const rec = recorder(w);
    await w.ready;
    const r = record();
    await writeInstance(paths, r);
    await clock.advance(1_000);
    await rec.next((e) => e.type === 'added' && e.id === r.id);
    expect(w.degraded().map((f) => f.backend)).toEqual(['watchman']);
  });

  it('fails `ready` when nothing could ever notice a change', async () => {
    await using tmp = await createTempDir();
    const paths = resolvePaths({ home: tmp.path });
    const w = watchInstances({ dir: paths.instances, backends: [refused], livenessMs: 0 });
    await expect(w.ready).rejects.toMatchObject({ code: 'SUBSCRIBE_FAILED' });
    await w.close();
  });

  it('tries a refused back-end again, and says when discovery is whole again', async () => {
    await using tmp = await createTempDir();
    const paths = resolvePaths({ home: tmp.path });
    const clock = manualClock();
    let refuse = true;
    const flaky: WatchBackend = {
      name: 'flaky',
      subscribe: (dir, callbacks) =>
        refuse
          ? Promise.reject(new Error('no watches left'))
          : nodeBackend.subscribe(dir, callbacks),
    };
    const deaf: WatchBackend = {
      name: 'deaf',
      subscribe: async () => ({ close: async () => undefined }),
    };
    const degraded: string[][] = [];
    await using w = watchInstances({
      dir: paths.instances,
      backends: [flaky, deaf], // only flaky can ever report the new record
      clock,
      reconcile: false,
      onDegraded: (failures) => degraded.push(failures.map((f) => f.backend)),
    });
    const rec = recorder(w);
    await w.ready;
    const start = clock.now();
    refuse = false;
    await clock.advance(1_000);
    expect(w.degraded().map((f) => f.backend)).toEqual(['flaky']); // not tried at every tick
    await waitFor(
      async () => {
        await clock.advance(1_000);
        return w.degraded().length === 0;
      },
      { what: 'flaky watching again' },
    );
    expect(clock.now() - start).toBeGreaterThanOrEqual(30_000);
    expect(degraded).toEqual([['flaky'], []]);
    const r = record();
    await writeInstance(paths, r);
    await rec.next((e) => e.type === 'added' && e.id === r.id);
  });
});

describe('watchInstances on a folder reached through a symlink', () => {
  // /tmp/x/link -> /tmp/x/real, as /var -> /private/var on macOS or a MCP_BEACON_HOME under a
  // linked /tmp: the records are written through the real path.
  async function linkedHome(tmp: TempDir) {
    const real = path.join(tmp.path, 'real');
    const link = path.join(tmp.path, 'link');
    await mkdir(real);
    await symlink(real, link, 'dir');
    return { real: resolvePaths({ home: real }), link: resolvePaths({ home: link }) };
  }

  it('subscribes its back-ends to the real path', async () => {
    await using tmp = await createTempDir();
    const { real, link } = await linkedHome(tmp);
    const watched: string[] = [];
    const recording: WatchBackend = {
      name: 'recording',
      subscribe: (dir, callbacks) => {
        watched.push(dir);
        return nodeBackend.subscribe(dir, callbacks);
      },
    };
    await using w = watchInstances({
      dir: link.instances,
      backends: [recording],
      reconcile: false,
    });
    const rec = recorder(w);
    await w.ready;
    expect(watched).toEqual([await realpath(real.instances)]);
    const r = record();
    await writeInstance(real, r);
    const added = await rec.next((e) => e.type === 'added' && e.id === r.id);
    // Events name the file under the folder as the caller gave it.
    expect(added).toMatchObject({ file: path.join(link.instances, `${r.id}.json`) });
  });

  it('reports records written through the real path when parcel names files by it (FSEvents)', async () => {
    await using tmp = await createTempDir();
    const { real, link } = await linkedHome(tmp);
    // @parcel/watcher as FSEvents behaves: every event path is under the folder's real path.
    const fsevents = createParcelBackend({
      subscribe: (dir, fn, options) =>
        parcel.subscribe(
          dir,
          (error, events) =>
            fn(
              error,
              events.map((e) => ({
                ...e,
                path: path.join(realpathSync.native(path.dirname(e.path)), path.basename(e.path)),
              })),
            ),
          options,
        ),
    });
    await using w = watchInstances({ dir: link.instances, backends: [fsevents], reconcile: false });
    const rec = recorder(w);
    await w.ready;
    const r = record();
    await writeInstance(real, r);
    await rec.next((e) => e.type === 'added' && e.id === r.id);
  });

  it('reports records with the real @parcel/watcher and fs.watch', async () => {
    await using tmp = await createTempDir();
    const { real, link } = await linkedHome(tmp);
    for (const backends of [[parcelBackend], [nodeBackend]]) {
      await using w = watchInstances({ dir: link.instances, backends, reconcile: false });
      const rec = recorder(w);
      await w.ready;
      const r = record();
      await writeInstance(real, r);
      await rec.next((e) => e.type === 'added' && e.id === r.id);
    }
  });
});
