import { randomBytes } from 'node:crypto';
import { rename as fsRename, open, unlink } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { type BeaconPaths, ensurePaths } from '@mcp-beacon/paths';
import { type Clock, sleep } from '@mcp-beacon/runtime';
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

/** Options of {@link writeInstance}: the platform and the edges a write goes through. */
export interface WriteInstanceOptions {
  /** Whose rules a refused rename follows (default `process.platform`). */
  platform?: NodeJS.Platform;
  /** The fs edge that moves the temp file onto the record (default `fs/promises` `rename`). */
  rename?: (from: string, to: string) => Promise<void>;
  /** Times the waits between rename tries (default: real, ref'd timers). */
  clock?: Clock;
}

// Windows refuses a rename onto a file that another process holds open without delete sharing
// (an antivirus scan, the search indexer, a backup agent) with one of these, for a few ms to
// a few hundred. Elsewhere they mean a permission problem that no retry mends.
const TRANSIENT_RENAME_CODES = new Set(['EPERM', 'EBUSY', 'EACCES']);
// The waits between tries, in ms: 10 tries in all, 950 ms of waiting at most. A heartbeat
// comes every 5 s, so a longer hold is left to the next one.
const RENAME_RETRY_DELAYS_MS = [10, 20, 40, 80, 160, 160, 160, 160, 160];

async function renameRecord(
  temp: string,
  file: string,
  options: WriteInstanceOptions,
): Promise<void> {
  const rename = options.rename ?? fsRename;
  const windows = (options.platform ?? process.platform) === 'win32';
  for (let attempt = 0; ; attempt++) {
    try {
      await rename(temp, file);
      return;
    } catch (error) {
      const wait = RENAME_RETRY_DELAYS_MS[attempt];
      const code = (error as NodeJS.ErrnoException).code ?? '';
      if (!windows || wait === undefined || !TRANSIENT_RENAME_CODES.has(code)) throw error;
      await (options.clock ? sleep(options.clock, wait) : delay(wait));
    }
  }
}

/**
 * Writes `record` atomically: to `<temp>/<id>.json.<random>.tmp` (mode 0600), fsync, then
 * rename onto `<instances>/<id>.json`, so a reader sees the old record or the new one, never
 * a partial file. On Windows a rename refused with EPERM, EBUSY or EACCES (a file held by an
 * antivirus scan or the indexer) is tried again: 10 tries in all, 10 to 160 ms apart, at most
 * 950 ms of waiting. The temp file is removed on any failure. Returns the record file's path.
 * @throws {RegistryError} `INVALID_RECORD` for a record the schema rejects; `WRITE_FAILED`
 * (with the OS error as `cause`) for a full disk, read-only or missing-permission directory,
 * or a record file still held after the last try.
 */
export async function writeInstance(
  paths: BeaconPaths,
  record: InstanceRecordInput,
  options: WriteInstanceOptions = {},
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
    await renameRecord(temp, file, options);
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
