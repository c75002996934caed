import { randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

/** The fields of an instance record (the shape of registry's `InstanceRecord`). */
export interface RecordShape {
  id: string;
  pid: number;
  path: string;
  port: number;
  url?: string | undefined;
  token?: string | undefined;
  started: string;
  name: string;
  has_package_json: boolean;
  last_seen: string;
  version?: number | undefined;
}

/**
 * A valid instance record for tests: this process's pid, a fresh id, `now` for both times and
 * port 4000, overridden by `patch`.
 */
export function makeRecord<T extends Partial<RecordShape>>(patch: T = {} as T): RecordShape & T {
  const now = new Date().toISOString();
  return {
    id: randomUUID(),
    pid: process.pid,
    path: '/p',
    port: 4000,
    started: now,
    name: 'p',
    has_package_json: true,
    last_seen: now,
    ...patch,
  };
}

/**
 * The parsed JSON of every `*.json` file in `<home>/instances` (no validation: tests use the
 * registry's reader when validity is the point); a missing folder reads as empty.
 */
export async function readRecords(home: string): Promise<RecordShape[]> {
  const dir = path.join(home, 'instances');
  const names = await readdir(dir).catch(() => [] as string[]);
  const out: RecordShape[] = [];
  for (const name of names.filter((n) => n.endsWith('.json')).sort()) {
    try {
      out.push(JSON.parse(await readFile(path.join(dir, name), 'utf8')) as RecordShape);
    } catch {
      // Removed or half-written while we looked.
    }
  }
  return out;
}
