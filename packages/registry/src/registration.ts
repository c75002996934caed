import { randomUUID } from 'node:crypto';
import type { BeaconPaths } from '@mcp-beacon/paths';
import { type Clock, systemClock } from './clock.js';
import type { RegistryError } from './errors.js';
import { type InstanceRecordInput, RECORD_VERSION } from './schema.js';
import { instanceFile, removeInstance, writeInstance } from './write.js';

/** What the caller supplies; `id`, `started`, `last_seen` and `version` are filled in. */
export type RegistrationFields = Omit<
  InstanceRecordInput,
  'id' | 'started' | 'last_seen' | 'version'
> & {
  id?: string;
  started?: string;
};

/** Options of {@link register}. */
export interface RegisterOptions {
  paths: BeaconPaths;
  record: RegistrationFields;
  /** Period of `last_seen` refreshes in ms (default 5 000); 0 turns the timer off. */
  heartbeatMs?: number;
  clock?: Clock;
  /** Called when a timed heartbeat fails; the timer keeps going, so a freed disk recovers. */
  onHeartbeatError?: (error: RegistryError) => void;
}

/** A live registration: the record on disk, kept fresh until `close()`. */
export interface Registration {
  readonly id: string;
  readonly file: string;
  /** The record as last written. */
  readonly record: Readonly<InstanceRecordInput>;
  /** Rewrites the record (atomically) with `last_seen` set to now. */
  heartbeat(): Promise<void>;
  /** Stops heartbeats and removes the record; idempotent. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Announces an instance: writes its record atomically and refreshes `last_seen` every
 * `heartbeatMs`. Call it only once the instance's port is accepting connections.
 * @throws {RegistryError} `WRITE_FAILED` / `INVALID_RECORD` when the first write fails;
 * nothing is left on disk then.
 */
export async function register(options: RegisterOptions): Promise<Registration> {
  const clock = options.clock ?? systemClock;
  const { paths } = options;
  const now = new Date(clock.now()).toISOString();
  const { id, started, url, token, ...fields } = options.record;
  // Field order follows the seed format, so files stay easy to read and diff.
  let record: InstanceRecordInput = {
    id: id ?? randomUUID(),
    ...fields,
    started: started ?? now,
    last_seen: now,
    ...(url === undefined ? {} : { url }),
    ...(token === undefined ? {} : { token }),
    version: RECORD_VERSION,
  };
  const file = instanceFile(paths, record.id);
  await writeInstance(paths, record);

  let closed = false;
  let inFlight: Promise<void> | undefined;
  const heartbeat = (): Promise<void> => {
    if (closed) return Promise.resolve();
    // Serialised: a slow disk never stacks writes, and close() can wait for the last one.
    inFlight ??= (async () => {
      try {
        const next = { ...record, last_seen: new Date(clock.now()).toISOString() };
        await writeInstance(paths, next);
        record = next;
      } finally {
        inFlight = undefined;
      }
    })();
    return inFlight;
  };
  const every = options.heartbeatMs ?? 5_000;
  let timer: unknown;
  const schedule = () => {
    timer = clock.setTimeout(() => {
      timer = undefined;
      heartbeat()
        .catch((error: RegistryError) => options.onHeartbeatError?.(error))
        .finally(() => {
          if (!closed) schedule();
        });
    }, every);
  };
  if (every > 0) schedule();

  // Memoised: every caller, the second one too, resolves only once the record is gone.
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      closed = true;
      if (timer !== undefined) clock.clearTimeout(timer);
      await inFlight?.catch(() => undefined);
      await removeInstance(paths, record.id);
    })();
    return closing;
  };
  return {
    id: record.id,
    file,
    get record() {
      return record;
    },
    heartbeat,
    close,
    [Symbol.asyncDispose]: close,
  };
}
