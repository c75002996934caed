import { constants } from 'node:fs';
import { lstat, open, readdir } from 'node:fs/promises';
import path from 'node:path';
import { RegistryError, type RegistryErrorCode } from './errors.js';
import { type InstanceRecord, isUuidV4, MAX_RECORD_BYTES, parseRecord } from './schema.js';

/** Outcome of {@link safeReadInstance}: the record, or why the file was rejected. */
export type ReadResult =
  | { ok: true; value: InstanceRecord }
  | { ok: false; reason: RegistryErrorCode; message: string };

/** Options of the readers; defaults describe the running process. */
export interface ReadOptions {
  /** Owner every record file must have (POSIX); `null` skips the check. Default: own uid. */
  uid?: number | null;
}

const RECORD_NAME = /^(.+)\.json$/;
const NOFOLLOW = constants.O_NOFOLLOW ?? 0;
const NONBLOCK = constants.O_NONBLOCK ?? 0;
const decoder = new TextDecoder('utf-8', { fatal: true });

/** The id a record file name stands for (`<uuid>.json`), or `undefined` for any other name. */
export function idFromFileName(name: string): string | undefined {
  const match = RECORD_NAME.exec(name);
  return match?.[1] !== undefined && isUuidV4(match[1]) ? match[1] : undefined;
}

function reject(reason: RegistryErrorCode, message: string): ReadResult {
  return { ok: false, reason, message };
}

/**
 * Reads and validates one record file. Never throws: a missing, oversized, symlinked,
 * foreign-owned, non-regular, badly named, non-JSON or schema-violating file comes back as
 * `{ ok: false, reason, message }`.
 */
export async function safeReadInstance(file: string, options: ReadOptions = {}): Promise<ReadResult> {
  try {
    return await readChecked(file, options);
  } catch (error) {
    return reject('READ_FAILED', `${file}: ${(error as Error).message}`);
  }
}

/**
 * Reads and validates one record file.
 * @throws {RegistryError} with the reason {@link safeReadInstance} would report.
 */
export async function readInstance(file: string, options: ReadOptions = {}): Promise<InstanceRecord> {
  const result = await safeReadInstance(file, options);
  if (!result.ok) throw new RegistryError(result.reason, result.message, { file });
  return result.value;
}

async function readChecked(file: string, options: ReadOptions): Promise<ReadResult> {
  const id = idFromFileName(path.basename(file));
  if (id === undefined) return reject('BAD_NAME', `${file}: name is not <uuid-v4>.json`);

  let handle: Awaited<ReturnType<typeof open>>;
  try {
    // O_NOFOLLOW refuses symlinks atomically; O_NONBLOCK keeps a FIFO from blocking the open.
    handle = await open(file, constants.O_RDONLY | NOFOLLOW | NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return reject('NOT_FOUND', `${file}: no such file`);
    if (code === 'ELOOP') return reject('SYMLINK', `${file}: symlinks are not accepted`);
    return reject('READ_FAILED', `${file}: ${(error as Error).message}`);
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) return reject('NOT_A_FILE', `${file}: not a regular file`);
    if (NOFOLLOW === 0) {
      // No O_NOFOLLOW (Windows): fall back to lstat.
      if ((await lstat(file)).isSymbolicLink()) {
        return reject('SYMLINK', `${file}: symlinks are not accepted`);
      }
    }
    const uid = options.uid === undefined ? process.getuid?.() : options.uid;
    if (uid !== undefined && uid !== null && stats.uid !== uid) {
      return reject('FOREIGN_OWNER', `${file}: owned by uid ${stats.uid}, not ${uid}`);
    }
    if (stats.size > MAX_RECORD_BYTES) {
      return reject('TOO_LARGE', `${file}: ${stats.size} bytes, limit is ${MAX_RECORD_BYTES}`);
    }
    const buffer = Buffer.alloc(MAX_RECORD_BYTES + 1);
    let length = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length > MAX_RECORD_BYTES) {
        return reject('TOO_LARGE', `${file}: more than ${MAX_RECORD_BYTES} bytes`);
      }
    }
    let data: unknown;
    try {
      data = JSON.parse(decoder.decode(buffer.subarray(0, length)));
    } catch (error) {
      return reject('INVALID_JSON', `${file}: ${(error as Error).message}`);
    }
    const parsed = parseRecord(data);
    if (!parsed.ok) return reject('INVALID_RECORD', `${file}: ${parsed.message}`);
    if (parsed.value.id !== id) {
      return reject('ID_MISMATCH', `${file}: id ${parsed.value.id} does not match the file name`);
    }
    return { ok: true, value: parsed.value };
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/** One entry of {@link readInstanceDir}. */
export interface DirEntryResult {
  readonly file: string;
  readonly result: ReadResult;
}

/**
 * Reads every `*.json` file of `dir` with {@link safeReadInstance} (other names are skipped).
 * A missing directory reads as empty.
 * @throws {RegistryError} `READ_FAILED` when the directory exists but cannot be listed.
 */
export async function readInstanceDir(
  dir: string,
  options: ReadOptions & { concurrency?: number } = {},
): Promise<DirEntryResult[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new RegistryError('READ_FAILED', `cannot list ${dir}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const files = names.filter((name) => name.endsWith('.json')).map((name) => path.join(dir, name));
  const results: DirEntryResult[] = new Array(files.length);
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const index = next++;
      const file = files[index]!;
      results[index] = { file, result: await safeReadInstance(file, options) };
    }
  };
  const workers = Math.min(options.concurrency ?? 32, files.length);
  await Promise.all(Array.from({ length: workers }, worker));
  return results;
}
