import { randomUUID } from 'node:crypto';
import { rename as fsRename, readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { type BeaconPaths, ensurePaths, resolvePaths } from '@mcp-beacon/paths';
import type { Clock } from '@mcp-beacon/runtime';
import {
  canMount,
  createTempDir,
  fillDisk,
  makeRecord,
  manualClock,
  mountTmpfs,
  type TempDir,
} from '@mcp-beacon/test-utils';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  instanceFile,
  RegistryError,
  register,
  removeInstance,
  safeReadInstance,
  writeInstance,
} from './index.js';

let tmp: TempDir;
let paths: BeaconPaths;
beforeEach(async () => {
  tmp = await createTempDir();
  paths = resolvePaths({ home: path.join(tmp.path, 'home') });
});
afterEach(() => tmp.cleanup());

const record = (id = randomUUID()) =>
  makeRecord({ id, path: tmp.path, port: 4100, has_package_json: false });

describe('writeInstance', () => {
  it('writes a 0600 file atomically and leaves no temp file', async () => {
    const r = record();
    const file = await writeInstance(paths, r);
    expect(file).toBe(path.join(paths.instances, `${r.id}.json`));
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(paths.instances)).mode & 0o777).toBe(0o700);
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual(r);
    expect(await readdir(paths.temp)).toEqual([]);
  });

  it('refuses an invalid record and writes nothing', async () => {
    const bad = { ...record(), url: 'http://example.com/' };
    await expect(writeInstance(paths, bad)).rejects.toMatchObject({ code: 'INVALID_RECORD' });
    await expect(readdir(paths.root)).rejects.toThrow();
  });

  it('refuses an id that could escape the directory', () => {
    expect(() => instanceFile(paths, '../x')).toThrow(RegistryError);
  });

  it.runIf(canMount)('fails cleanly on a full disk and leaves no temp file', async () => {
    await using mount = await mountTmpfs(path.join(tmp.path, 'full'), { sizeKiB: 64 });
    const full = resolvePaths({ home: mount.path });
    await ensurePaths(full);
    await fillDisk(path.join(mount.path, 'filler'));
    const error = await writeInstance(full, record()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistryError);
    expect(error).toMatchObject({ code: 'WRITE_FAILED', cause: { code: 'ENOSPC' } });
    expect(await readdir(full.temp)).toEqual([]);
    expect(await readdir(full.instances)).toEqual([]);
  });

  it.runIf(canMount)('fails cleanly on a read-only filesystem', async () => {
    await using mount = await mountTmpfs(path.join(tmp.path, 'ro'), { readOnly: true });
    const error = await writeInstance(resolvePaths({ home: mount.path }), record()).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'WRITE_FAILED' });
    expect((error as RegistryError).message).toContain('read-only');
  });

  it('fails cleanly when the data root is a file', async () => {
    const { writeFile } = await import('node:fs/promises');
    await writeFile(path.join(tmp.path, 'blocked'), 'x');
    const blocked = resolvePaths({ home: path.join(tmp.path, 'blocked') });
    await expect(writeInstance(blocked, record())).rejects.toMatchObject({ code: 'WRITE_FAILED' });
  });
});

describe('removeInstance', () => {
  it('removes the file and is idempotent', async () => {
    const r = record();
    const file = await writeInstance(paths, r);
    await removeInstance(paths, r.id);
    await removeInstance(paths, r.id);
    expect(await safeReadInstance(file)).toMatchObject({ reason: 'NOT_FOUND' });
  });
});

describe('register', () => {
  it('writes the record, refreshes last_seen on the clock, and removes it on close', async () => {
    const clock = manualClock();
    const reg = await register({
      paths,
      clock,
      heartbeatMs: 5_000,
      record: { pid: process.pid, path: tmp.path, port: 4200, name: 'p', has_package_json: false },
    });
    const first = await safeReadInstance(reg.file);
    expect(first).toMatchObject({
      ok: true,
      value: { last_seen: '2026-01-01T00:00:00.000Z', version: 1 },
    });
    await clock.advance(5_000);
    await reg.heartbeat(); // waits for the write the timer started
    const second = await safeReadInstance(reg.file);
    expect(second).toMatchObject({ ok: true, value: { last_seen: '2026-01-01T00:00:05.000Z' } });
    expect(reg.record.started).toBe('2026-01-01T00:00:00.000Z');
    await reg.close();
    expect(clock.pending()).toBe(0);
    expect(await safeReadInstance(reg.file)).toMatchObject({ reason: 'NOT_FOUND' });
    await reg.close();
  });

  it('resolves a second, concurrent close() only once the record is gone', async () => {
    const reg = await register({
      paths,
      heartbeatMs: 0,
      record: { pid: process.pid, path: tmp.path, port: 4201, name: 'p', has_package_json: false },
    });
    const first = reg.close();
    await reg.close();
    expect(await safeReadInstance(reg.file)).toMatchObject({ reason: 'NOT_FOUND' });
    await first;
  });

  it('supports await using', async () => {
    let file: string;
    {
      await using reg = await register({
        paths,
        heartbeatMs: 0,
        record: {
          pid: process.pid,
          path: tmp.path,
          port: 4300,
          name: 'p',
          has_package_json: false,
        },
      });
      file = reg.file;
      expect((await safeReadInstance(file)).ok).toBe(true);
    }
    expect(await safeReadInstance(file)).toMatchObject({ reason: 'NOT_FOUND' });
  });

  it.runIf(canMount)('reports heartbeat failures and recovers when space returns', async () => {
    await using mount = await mountTmpfs(path.join(tmp.path, 'full'), { sizeKiB: 64 });
    const small = resolvePaths({ home: mount.path });
    const clock = manualClock();
    const errors: RegistryError[] = [];
    const reg = await register({
      paths: small,
      clock,
      onHeartbeatError: (e) => errors.push(e),
      record: { pid: process.pid, path: tmp.path, port: 4400, name: 'p', has_package_json: false },
    });
    const filler = path.join(mount.path, 'filler');
    await fillDisk(filler);
    await clock.advance(5_000);
    await expect(reg.heartbeat()).rejects.toMatchObject({ code: 'WRITE_FAILED' });
    await new Promise((resolve) => setImmediate(resolve));
    expect(errors[0]).toMatchObject({ code: 'WRITE_FAILED' });
    // The previous record is intact: a failed heartbeat never truncates it.
    expect(await safeReadInstance(reg.file)).toMatchObject({
      ok: true,
      value: { last_seen: '2026-01-01T00:00:00.000Z' },
    });
    const { rm } = await import('node:fs/promises');
    await rm(filler);
    await clock.advance(5_000);
    await reg.heartbeat();
    expect(await safeReadInstance(reg.file)).toMatchObject({
      ok: true,
      value: { last_seen: '2026-01-01T00:00:10.000Z' },
    });
    await reg.close();
  });

  it('does not leave a record behind when the first write fails, unless asked to retry it on heartbeats', async () => {
    const { writeFile } = await import('node:fs/promises');
    await writeFile(path.join(tmp.path, 'blocked'), 'x');
    const fields = { pid: process.pid, path: tmp.path, port: 4500, name: 'p' };
    const blocked = resolvePaths({ home: path.join(tmp.path, 'blocked') });
    for (const retry of [{}, { retryFirstWrite: true, heartbeatMs: 0 }]) {
      await expect(
        register({ paths: blocked, ...retry, record: { ...fields, has_package_json: false } }),
      ).rejects.toMatchObject({ code: 'WRITE_FAILED' });
    }
  });
  it('writes the record on a later heartbeat when the first write failed', async () => {
    const { rm, writeFile } = await import('node:fs/promises');
    const blocked = path.join(tmp.path, 'blocked');
    await writeFile(blocked, 'x');
    const clock = manualClock();
    const errors: RegistryError[] = [];
    const reg = await register({
      paths: resolvePaths({ home: blocked }),
      clock,
      retryFirstWrite: true,
      onHeartbeatError: (e) => errors.push(e),
      record: { pid: process.pid, path: tmp.path, port: 4600, name: 'p', has_package_json: false },
    });
    expect(reg.written).toBe(false);
    expect(errors).toMatchObject([{ code: 'WRITE_FAILED' }]);
    expect((await safeReadInstance(reg.file)).ok).toBe(false);
    await rm(blocked);
    await clock.advance(5_000);
    await reg.heartbeat();
    expect(reg.written).toBe(true);
    expect(await safeReadInstance(reg.file)).toMatchObject({
      ok: true,
      value: {
        id: reg.id,
        started: '2026-01-01T00:00:00.000Z',
        last_seen: '2026-01-01T00:00:05.000Z',
      },
    });
    await reg.close();
    expect(await safeReadInstance(reg.file)).toMatchObject({ reason: 'NOT_FOUND' });
  });
});

/** An fs error as Node raises it. */
const fsError = (code: string) =>
  Object.assign(new Error(`${code}: operation not permitted, rename`), { code });

/** A clock whose waits happen at once and are written down (ms each). */
const recordingClock = () => {
  const waits: number[] = [];
  const clock: Clock = {
    now: () => 0,
    setTimeout: (callback, ms) => {
      waits.push(ms);
      setImmediate(callback);
      return waits.length;
    },
    clearTimeout: () => undefined,
  };
  return { clock, waits };
};

/** Advances `clock` in small steps until `promise` settles, so waits on it can end. */
async function settleOn<T>(clock: ReturnType<typeof manualClock>, promise: Promise<T>): Promise<T> {
  let settled = false;
  promise.then(
    () => {
      settled = true;
    },
    () => {
      settled = true;
    },
  );
  while (!settled) {
    await clock.advance(10);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  return promise;
}

describe('writeInstance on Windows (platform injected)', () => {
  it('a renamed-over record on a transient EPERM is written after a retry', async () => {
    const r = record();
    const file = await writeInstance(paths, r);
    let refusals = 0;
    const rename = async (from: string, to: string) => {
      if (refusals < 2) {
        refusals++;
        throw fsError('EPERM');
      }
      await fsRename(from, to);
    };
    const next = { ...r, last_seen: '2026-01-01T00:00:05.000Z' };
    expect(await writeInstance(paths, next, { platform: 'win32', rename })).toBe(file);
    expect(refusals).toBe(2);
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual(next);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await readdir(paths.temp)).toEqual([]);
  });

  it('retries EBUSY and EACCES too, at most 10 tries over 950 ms, then fails with the old record intact', async () => {
    const r = record();
    const file = await writeInstance(paths, r);
    for (const code of ['EBUSY', 'EACCES', 'EPERM']) {
      const { clock, waits } = recordingClock();
      let tries = 0;
      const rename = async () => {
        tries++;
        throw fsError(code);
      };
      const error = await writeInstance(
        paths,
        { ...r, port: 4101 },
        { platform: 'win32', rename, clock },
      ).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'WRITE_FAILED', cause: { code } });
      expect(tries).toBe(10);
      expect(waits).toEqual([10, 20, 40, 80, 160, 160, 160, 160, 160]);
      expect(waits.reduce((a, b) => a + b, 0)).toBe(950);
      expect(await readdir(paths.temp)).toEqual([]);
      expect(JSON.parse(await readFile(file, 'utf8'))).toEqual(r);
    }
  });

  it('does not retry an error no wait mends (ENOSPC, EXDEV)', async () => {
    for (const code of ['ENOSPC', 'EXDEV']) {
      const { clock, waits } = recordingClock();
      let tries = 0;
      const rename = async () => {
        tries++;
        throw fsError(code);
      };
      await expect(
        writeInstance(paths, record(), { platform: 'win32', rename, clock }),
      ).rejects.toMatchObject({ code: 'WRITE_FAILED', cause: { code } });
      expect(tries).toBe(1);
      expect(waits).toEqual([]);
    }
  });

  it('registers an instance whose first write stayed refused once a heartbeat gets through', async () => {
    const clock = manualClock();
    let held = true;
    const rename = async (from: string, to: string) => {
      if (held) throw fsError('EPERM');
      await fsRename(from, to);
    };
    const errors: RegistryError[] = [];
    const reg = await settleOn(
      clock,
      register({
        paths,
        clock,
        platform: 'win32',
        rename,
        retryFirstWrite: true,
        onHeartbeatError: (e) => errors.push(e),
        record: {
          pid: process.pid,
          path: tmp.path,
          port: 4700,
          name: 'p',
          has_package_json: false,
        },
      }),
    );
    expect(errors).toMatchObject([{ code: 'WRITE_FAILED', cause: { code: 'EPERM' } }]);
    expect(reg.written).toBe(false);
    held = false;
    await clock.advance(5_000);
    await reg.heartbeat();
    expect(reg.written).toBe(true);
    expect(await safeReadInstance(reg.file)).toMatchObject({ ok: true, value: { id: reg.id } });
    await reg.close();
  });
});

describe('writeInstance on macOS (platform injected)', () => {
  it('fails at once on EPERM: a permission problem there, not a passing hold', async () => {
    const { clock, waits } = recordingClock();
    let tries = 0;
    const rename = async () => {
      tries++;
      throw fsError('EPERM');
    };
    await expect(
      writeInstance(paths, record(), { platform: 'darwin', rename, clock }),
    ).rejects.toMatchObject({ code: 'WRITE_FAILED', cause: { code: 'EPERM' } });
    expect(tries).toBe(1);
    expect(waits).toEqual([]);
    expect(await readdir(paths.temp)).toEqual([]);
  });
});

describe('concurrent writers and readers', () => {
  it('never lets a reader see a partial record', async () => {
    const ids = Array.from({ length: 8 }, () => randomUUID());
    for (const id of ids) await writeInstance(paths, record(id));
    let stop = false;
    let writes = 0;
    let reads = 0;
    const failures: string[] = [];
    const writers = ids.map(async (id) => {
      for (let i = 0; i < 60; i++) {
        await writeInstance(paths, { ...record(id), path: `/p-${i}`.padEnd(200 + i * 37, 'x') });
        writes++;
      }
    });
    const readers = Array.from({ length: 8 }, async (_, n) => {
      while (!stop) {
        const result = await safeReadInstance(path.join(paths.instances, `${ids[n]}.json`));
        reads++;
        if (!result.ok) failures.push(`${result.reason}: ${result.message}`);
      }
    });
    await Promise.all(writers);
    stop = true;
    await Promise.all(readers);
    expect(writes).toBe(480);
    expect(reads).toBeGreaterThan(0);
    expect(failures).toEqual([]);
    expect(await readdir(paths.temp)).toEqual([]);
  });
});
