import {
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  openSync,
  readSync,
  type Stats,
} from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
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

/** Why a file was refused. */
type Failure = { ok: false; reason: RegistryErrorCode; message: string };

function reject(reason: RegistryErrorCode, message: string): Failure {
  return { ok: false, reason, message };
}

/**
 * Reads and validates one record file. Never throws: a missing, oversized, symlinked,
 * foreign-owned, non-regular, badly named, non-JSON or schema-violating file comes back as
 * `{ ok: false, reason, message }`. The read itself is {@link safeReadInstanceSync}, run on a
 * later turn of the event loop so that a loop of awaited reads never starves other I/O.
 */
export async function safeReadInstance(
  file: string,
  options: ReadOptions = {},
): Promise<ReadResult> {
  await yieldToLoop();
  return safeReadInstanceSync(file, options);
}

/**
 * Reads and validates one record file.
 * @throws {RegistryError} with the reason {@link safeReadInstance} would report.
 */
export async function readInstance(
  file: string,
  options: ReadOptions = {},
): Promise<InstanceRecord> {
  const result = await safeReadInstance(file, options);
  if (!result.ok) throw new RegistryError(result.reason, result.message, { file });
  return result.value;
}

/** Rejections decided by fstat: type, owner, size. */
function checkStats(
  file: string,
  stats: Stats,
  options: ReadOptions,
  maxBytes = MAX_RECORD_BYTES,
): Failure | undefined {
  if (!stats.isFile()) return reject('NOT_A_FILE', `${file}: not a regular file`);
  if (NOFOLLOW === 0 && lstatSync(file).isSymbolicLink()) {
    // No O_NOFOLLOW (Windows): fall back to lstat.
    return reject('SYMLINK', `${file}: symlinks are not accepted`);
  }
  const uid = options.uid === undefined ? process.getuid?.() : options.uid;
  if (uid !== undefined && uid !== null && stats.uid !== uid) {
    return reject('FOREIGN_OWNER', `${file}: owned by uid ${stats.uid}, not ${uid}`);
  }
  if (stats.size > maxBytes) {
    return reject('TOO_LARGE', `${file}: ${stats.size} bytes, limit is ${maxBytes}`);
  }
  return undefined;
}

/** JSON, schema and id checks on the bytes read. */
function decode(file: string, id: string, bytes: Uint8Array): ReadResult {
  let data: unknown;
  try {
    data = JSON.parse(decoder.decode(bytes));
  } catch (error) {
    return reject('INVALID_JSON', `${file}: ${(error as Error).message}`);
  }
  const parsed = parseRecord(data);
  if (!parsed.ok) return reject('INVALID_RECORD', `${file}: ${parsed.message}`);
  if (parsed.value.id !== id) {
    return reject('ID_MISMATCH', `${file}: id ${parsed.value.id} does not match the file name`);
  }
  return { ok: true, value: parsed.value };
}

function openFailure(file: string, error: unknown): Failure {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return reject('NOT_FOUND', `${file}: no such file`);
  if (code === 'ELOOP') return reject('SYMLINK', `${file}: symlinks are not accepted`);
  return reject('READ_FAILED', `${file}: ${(error as Error).message}`);
}

// O_NOFOLLOW refuses symlinks atomically; O_NONBLOCK keeps a FIFO from blocking the open.
const OPEN_FLAGS = constants.O_RDONLY | NOFOLLOW | NONBLOCK;

/**
 * Reads `size` bytes plus one (to notice growth) from `fd`, never more than the limit + 1;
 * returns `undefined` when the file is over the limit.
 */
function readBounded(fd: number, size: number, max = MAX_RECORD_BYTES): Uint8Array | undefined {
  let buffer = Buffer.allocUnsafe(size + 1);
  let length = 0;
  for (;;) {
    if (length === buffer.length) {
      if (buffer.length > max) return undefined;
      const grown = Buffer.allocUnsafe(max + 1);
      buffer.copy(grown, 0, 0, length);
      buffer = grown;
    }
    const bytesRead = readSync(fd, buffer, length, buffer.length - length, length);
    if (bytesRead === 0) return buffer.subarray(0, length);
    length += bytesRead;
  }
}

/**
 * Synchronous {@link safeReadInstance}: a record is at most 64 KiB on a local disk, so a
 * synchronous read (open, fstat, read, close) costs about 10 µs where the async one queues
 * four thread-pool round trips. Never throws.
 */
export function safeReadInstanceSync(file: string, options: ReadOptions = {}): ReadResult {
  const id = idFromFileName(path.basename(file));
  if (id === undefined) return reject('BAD_NAME', `${file}: name is not <uuid-v4>.json`);
  const read = readChecked(file, options, MAX_RECORD_BYTES);
  return read.ok ? decode(file, id, read.bytes) : read;
}

/**
 * The bytes of `file`, opened without following a symlink, checked on its descriptor (a
 * regular file, the user's, at most `maxBytes`, and whatever `check` adds) and read bounded.
 */
function readChecked(
  file: string,
  options: ReadOptions,
  maxBytes: number,
  check?: (stats: Stats) => Failure | undefined,
): { ok: true; bytes: Uint8Array } | Failure {
  let fd: number;
  try {
    fd = openSync(file, OPEN_FLAGS);
  } catch (error) {
    return openFailure(file, error);
  }
  try {
    const stats = fstatSync(fd);
    const rejected = checkStats(file, stats, options, maxBytes) ?? check?.(stats);
    if (rejected) return rejected;
    const bytes = readBounded(fd, stats.size, maxBytes);
    if (bytes === undefined) return reject('TOO_LARGE', `${file}: more than ${maxBytes} bytes`);
    return { ok: true, bytes };
  } catch (error) {
    return reject('READ_FAILED', `${file}: ${(error as Error).message}`);
  } finally {
    try {
      closeSync(fd);
    } catch {
      // Nothing useful to do about a failed close of a read-only descriptor.
    }
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
  options: ReadOptions = {},
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
  const results: DirEntryResult[] = [];
  for (const file of files) {
    results.push({ file, result: safeReadInstanceSync(file, options) });
    // Let other work in (an MCP request, a signal) between batches of a big directory.
    if (results.length % 256 === 0) await yieldToLoop();
  }
  return results;
}

/**
 * The valid records of `dir` (see {@link readInstanceDir}); rejected files are left out, for
 * callers that only want what a hub would connect to.
 * @throws {RegistryError} `READ_FAILED` when the directory exists but cannot be listed.
 */
export async function readValidRecords(
  dir: string,
  options: ReadOptions = {},
): Promise<InstanceRecord[]> {
  const entries = await readInstanceDir(dir, options);
  return entries.flatMap((e) => (e.result.ok ? [e.result.value] : []));
}

/** Outcome of {@link readPrivateFile}: its text, or why it was refused. */
export type PrivateFileResult =
  | { ok: true; text: string }
  | { ok: false; reason: RegistryErrorCode; message: string };

/** Options of {@link readPrivateFile}. */
export interface PrivateFileOptions extends ReadOptions {
  /** Largest file accepted, in bytes. */
  maxBytes: number;
}

/**
 * Reads a file Beacon acts on (one that lists commands to run, say) with the record file's
 * rules and more: opened without following a symlink, a regular file owned by the user (POSIX),
 * writable by nobody else (no group or other write bit), at most `maxBytes`, valid UTF-8, in a
 * folder that is owned by the user and writable by nobody else. Never throws.
 */
export function readPrivateFile(file: string, options: PrivateFileOptions): PrivateFileResult {
  const uid = options.uid === undefined ? process.getuid?.() : options.uid;
  const posix = process.platform !== 'win32';
  try {
    const folder = lstatSync(path.dirname(file));
    if (!folder.isDirectory())
      return reject('UNTRUSTED_FOLDER', `${path.dirname(file)}: not a folder`);
    if (uid !== undefined && uid !== null && folder.uid !== uid)
      return reject(
        'UNTRUSTED_FOLDER',
        `${path.dirname(file)}: owned by uid ${folder.uid}, not ${uid}`,
      );
    if (posix && (folder.mode & 0o022) !== 0)
      return reject(
        'UNTRUSTED_FOLDER',
        `${path.dirname(file)}: writable by others (mode ${(folder.mode & 0o777).toString(8)})`,
      );
  } catch (error) {
    return openFailure(file, error);
  }
  const read = readChecked(file, options, options.maxBytes, (stats) =>
    posix && (stats.mode & 0o022) !== 0
      ? reject(
          'UNSAFE_MODE',
          `${file}: writable by others (mode ${(stats.mode & 0o777).toString(8)}); chmod 600 it`,
        )
      : undefined,
  );
  if (!read.ok) return read;
  try {
    return { ok: true, text: decoder.decode(read.bytes) };
  } catch (error) {
    return reject('READ_FAILED', `${file}: ${(error as Error).message}`);
  }
}
