// The shared hub's own log: a file beside its socket, bounded (the current file and one older).
// Read by the bridge when a hub it started fails: Node's own modules only.

import { closeSync, openSync, readSync, renameSync, statSync, writeSync } from 'node:fs';

/** Largest log file before it is rotated (the older one is kept as `<log>.1`), in bytes. */
export const MAX_LOG_BYTES = 1024 * 1024;

/** The last `bytes` of a file as text; empty when it cannot be read. */
export function tailOf(file: string, bytes: number): string {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const size = statSync(file).size;
    const length = Math.min(size, bytes);
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, size - length);
    return buffer.toString('utf8');
  } catch {
    return '';
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * A writer of whole lines to `file` (created 0600), rotated to `<file>.1` past `maxBytes`.
 * Lines are written synchronously: the hub logs rarely, and a line is on disk before a crash.
 */
export function createLogFile(file: string, maxBytes = MAX_LOG_BYTES): (line: string) => void {
  let size = 0;
  try {
    size = statSync(file).size;
  } catch {
    size = 0;
  }
  return (line) => {
    try {
      if (size + Buffer.byteLength(line) > maxBytes && size > 0) {
        renameSync(file, `${file}.1`);
        size = 0;
      }
      const fd = openSync(file, 'a', 0o600);
      try {
        size += writeSync(fd, line);
      } finally {
        closeSync(fd);
      }
    } catch {
      // A log that cannot be written loses the line, never the hub.
    }
  };
}
