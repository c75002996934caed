import { randomBytes } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { type BeaconPaths, ensurePaths } from '@mcp-beacon/paths';
import { RegistryError } from './errors.js';
import { type InstanceRecordInput, isUuidV4, parseRecord } from './schema.js';

/**
 * The path of the record file for `id`: `<instances>/<id>.json`.
 * @throws {RegistryError} `INVALID_RECORD` when `id` is not a UUID v4 (no traversal possible).
 */
export function instanceFile(paths: BeaconPaths, id: string): string {
  if (!isUuidV4(id))
    throw new RegistryError('INVALID_RECORD', `id must be a UUID v4, got ${JSON.stringify(id)}`);
  return path.join(paths.instances, `${id}.json`);
}

/**
 * Writes `record` atomically: to `<temp>/<id>.json.<random>.tmp` (mode 0600), fsync, then
 * rename onto `<instances>/<id>.json`, so a reader sees the old record or the new one, never
 * a partial file. The temp file is removed on any failure. Returns the record file's path.
 * @throws {RegistryError} `INVALID_RECORD` for a record the schema rejects; `WRITE_FAILED`
 * (with the OS error as `cause`) for a full disk, read-only or missing-permission directory.
 */
export async function writeInstance(
  paths: BeaconPaths,
  record: InstanceRecordInput,
): Promise<string> {
  const parsed = parseRecord(record);
  if (!parsed.ok)
    throw new RegistryError(
      'INVALID_RECORD',
      `refusing to write an invalid record: ${parsed.message}`,
    );
  const file = instanceFile(paths, record.id);
  try {
    await ensurePaths(paths);
  } catch (cause) {
    throw new RegistryError('WRITE_FAILED', `cannot write ${file}: ${(cause as Error).message}`, {
      file,
      cause,
    });
  }
  const temp = path.join(paths.temp, `${record.id}.json.${randomBytes(6).toString('hex')}.tmp`);
  const body = `${JSON.stringify(record, null, 2)}\n`;
  try {
    const handle = await open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(body, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);
    return file;
  } catch (cause) {
    await unlink(temp).catch(() => undefined);
    throw new RegistryError('WRITE_FAILED', `cannot write ${file}: ${(cause as Error).message}`, {
      file,
      cause,
    });
  }
}

/**
 * Removes the record file for `id`; a file that is already gone is not an error.
 * @throws {RegistryError} `REMOVE_FAILED` when the file exists but cannot be removed.
 */
export async function removeInstance(paths: BeaconPaths, id: string): Promise<void> {
  const file = instanceFile(paths, id);
  try {
    await unlink(file);
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new RegistryError('REMOVE_FAILED', `cannot remove ${file}: ${(cause as Error).message}`, {
      file,
      cause,
    });
  }
}
