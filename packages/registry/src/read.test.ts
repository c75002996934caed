import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmod, chown, mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createTempDir, makeRecord, type TempDir } from '@mcp-beacon/test-utils';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  MAX_RECORD_BYTES,
  RegistryError,
  readInstance,
  readInstanceDir,
  readPrivateFile,
  readValidRecords,
  safeReadInstance,
} from './index.js';

const record = (id = randomUUID()) => makeRecord({ id, path: '/tmp/project', name: 'project' });

let tmp: TempDir;
beforeEach(async () => {
  tmp = await createTempDir();
});
afterEach(() => tmp.cleanup());

async function put(content: string | Buffer, id = randomUUID()): Promise<string> {
  const file = path.join(tmp.path, `${id}.json`);
  await writeFile(file, content, { mode: 0o600 });
  return file;
}

describe('safeReadInstance', () => {
  it('reads a valid record', async () => {
    const r = record();
    const result = await safeReadInstance(await put(JSON.stringify(r), r.id));
    expect(result).toEqual({ ok: true, value: { ...r, url: 'http://127.0.0.1:4000/mcp' } });
  });

  it('rejects a name that is not <uuid>.json', async () => {
    const file = path.join(tmp.path, 'x.json');
    await writeFile(file, JSON.stringify(record()));
    expect(await safeReadInstance(file)).toMatchObject({ ok: false, reason: 'BAD_NAME' });
    expect(await safeReadInstance(path.join(tmp.path, `${randomUUID()}.txt`))).toMatchObject({
      reason: 'BAD_NAME',
    });
  });

  it('reports a missing file as NOT_FOUND', async () => {
    expect(await safeReadInstance(path.join(tmp.path, `${randomUUID()}.json`))).toMatchObject({
      ok: false,
      reason: 'NOT_FOUND',
    });
  });

  it('rejects invalid JSON and invalid UTF-8', async () => {
    expect(await safeReadInstance(await put('{"id":'))).toMatchObject({ reason: 'INVALID_JSON' });
    expect(await safeReadInstance(await put(Buffer.from([0x7b, 0xff, 0x7d])))).toMatchObject({
      reason: 'INVALID_JSON',
    });
  });

  it('rejects schema violations with the field in the message', async () => {
    const r = { ...record(), port: 'eighty' };
    const result = await safeReadInstance(await put(JSON.stringify(r), r.id));
    expect(result).toMatchObject({ ok: false, reason: 'INVALID_RECORD' });
    expect(!result.ok && result.message).toContain('port');
  });

  it('rejects a non-loopback url', async () => {
    const r = { ...record(), url: 'http://192.168.1.10:80/mcp' };
    const result = await safeReadInstance(await put(JSON.stringify(r), r.id));
    expect(result).toMatchObject({ ok: false, reason: 'INVALID_RECORD' });
    expect(!result.ok && result.message).toContain('loopback');
  });

  it('rejects an id that does not match the file name', async () => {
    expect(await safeReadInstance(await put(JSON.stringify(record())))).toMatchObject({
      reason: 'ID_MISMATCH',
    });
  });

  it('rejects files over 64 KiB', async () => {
    const r = { ...record(), pad: 'x'.repeat(MAX_RECORD_BYTES) };
    expect(await safeReadInstance(await put(JSON.stringify(r), r.id))).toMatchObject({
      reason: 'TOO_LARGE',
    });
  });

  it('rejects symlinks, even to a valid record', async () => {
    const r = record();
    const target = await put(JSON.stringify(r), r.id);
    const link = path.join(tmp.path, `${randomUUID()}.json`);
    await symlink(target, link);
    expect(await safeReadInstance(link)).toMatchObject({ ok: false, reason: 'SYMLINK' });
  });

  it('rejects directories and FIFOs without blocking', async () => {
    const dir = path.join(tmp.path, `${randomUUID()}.json`);
    await mkdir(dir);
    expect(await safeReadInstance(dir)).toMatchObject({ reason: 'NOT_A_FILE' });
    const fifo = path.join(tmp.path, `${randomUUID()}.json`);
    execFileSync('mkfifo', [fifo]);
    expect(await safeReadInstance(fifo)).toMatchObject({ reason: 'NOT_A_FILE' });
  });

  it('rejects a file owned by another user', async () => {
    const r = record();
    const file = await put(JSON.stringify(r), r.id);
    if (process.getuid?.() === 0) {
      await chown(file, 65534, 65534);
      expect(await safeReadInstance(file)).toMatchObject({ reason: 'FOREIGN_OWNER' });
    } else {
      // Without root we cannot give a file away; expect another owner instead.
      expect(await safeReadInstance(file, { uid: (process.getuid?.() ?? 0) + 1 })).toMatchObject({
        reason: 'FOREIGN_OWNER',
      });
    }
  });

  it('never throws on random bytes (property)', async () => {
    const id = randomUUID();
    const file = path.join(tmp.path, `${id}.json`);
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 2048 }), async (bytes) => {
        await writeFile(file, bytes);
        const result = await safeReadInstance(file);
        expect(result.ok).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('never accepts a truncated record (property)', async () => {
    const r = record();
    const full = JSON.stringify(r);
    const file = path.join(tmp.path, `${r.id}.json`);
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: full.length - 1 }), async (cut) => {
        await writeFile(file, full.slice(0, cut));
        const result = await safeReadInstance(file);
        expect(result.ok).toBe(false);
      }),
      { numRuns: 200 },
    );
  });

  it('never throws on random JSON values (property)', async () => {
    const id = randomUUID();
    const file = path.join(tmp.path, `${id}.json`);
    await fc.assert(
      fc.asyncProperty(fc.jsonValue(), async (value) => {
        await writeFile(file, JSON.stringify(value) ?? 'null');
        const result = await safeReadInstance(file);
        expect(result.ok).toBe(false);
      }),
      { numRuns: 200 },
    );
  });
});

describe('readInstance', () => {
  it('throws a RegistryError carrying the reason', async () => {
    const error = await readInstance(await put('nope')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistryError);
    expect(error).toMatchObject({ code: 'INVALID_JSON' });
  });
});

describe('readInstanceDir', () => {
  it('reads every .json file, skips other names, and treats a missing dir as empty', async () => {
    const good = record();
    await put(JSON.stringify(good), good.id);
    await put('garbage');
    await writeFile(path.join(tmp.path, 'notes.txt'), 'x');
    const entries = await readInstanceDir(tmp.path);
    expect(entries).toHaveLength(2);
    expect(entries.filter((e) => e.result.ok)).toHaveLength(1);
    expect(await readInstanceDir(path.join(tmp.path, 'missing'))).toEqual([]);
  });

  it('gives only the valid records with readValidRecords', async () => {
    const good = record();
    await put(JSON.stringify(good), good.id);
    await put('garbage');
    const valid = await readValidRecords(tmp.path);
    expect(valid.map((r) => r.id)).toEqual([good.id]);
    expect(valid[0]?.url).toBe('http://127.0.0.1:4000/mcp'); // filled in by the reader
  });
});

describe('readPrivateFile', () => {
  it('reads a file of the user’s own, in a folder nobody else can write', async () => {
    await using tmp = await createTempDir();
    const folder = path.join(tmp.path, 'config');
    await mkdir(folder, { mode: 0o700 });
    const file = path.join(folder, 'list.json');
    await writeFile(file, '{"a":1}', { mode: 0o600 });
    expect(readPrivateFile(file, { maxBytes: 100 })).toEqual({ ok: true, text: '{"a":1}' });
    expect(readPrivateFile(path.join(folder, 'none.json'), { maxBytes: 100 })).toMatchObject({
      ok: false,
      reason: 'NOT_FOUND',
    });
    expect(readPrivateFile(file, { maxBytes: 3 })).toMatchObject({ reason: 'TOO_LARGE' });
    // Read as another user: its folder is the first thing not theirs.
    expect(readPrivateFile(file, { maxBytes: 100, uid: 12345 })).toMatchObject({
      reason: 'UNTRUSTED_FOLDER',
    });
    if (process.getuid?.() === 0) {
      await chown(file, 65534, 65534);
      expect(readPrivateFile(file, { maxBytes: 100 })).toMatchObject({ reason: 'FOREIGN_OWNER' });
      await chown(file, 0, 0);
    }
    await chmod(file, 0o620);
    expect(readPrivateFile(file, { maxBytes: 100 })).toMatchObject({ reason: 'UNSAFE_MODE' });
    await chmod(file, 0o600);
    await chmod(folder, 0o770);
    expect(readPrivateFile(file, { maxBytes: 100 })).toMatchObject({ reason: 'UNTRUSTED_FOLDER' });
    await chmod(folder, 0o700);
    const link = path.join(folder, 'link.json');
    await symlink(file, link);
    expect(readPrivateFile(link, { maxBytes: 100 })).toMatchObject({ reason: 'SYMLINK' });
    await writeFile(file, Buffer.from([0xff, 0xfe]), { mode: 0o600 });
    expect(readPrivateFile(file, { maxBytes: 100 })).toMatchObject({ reason: 'READ_FAILED' });
  });
});
