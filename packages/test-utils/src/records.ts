import { randomUUID } from 'node:crypto';

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
