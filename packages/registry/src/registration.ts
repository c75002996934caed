import { randomUUID } from 'node:crypto';
import type { BeaconPaths } from '@mcp-beacon/paths';
import { type Clock, systemClock } from '@mcp-beacon/runtime';
import { RegistryError } from './errors.js';
import { type InstanceRecordInput, RECORD_VERSION } from './schema.js';
import { instanceFile, removeInstance, type WriteInstanceOptions, writeInstance } from './write.js';

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
  /**
   * Called when the first write or a timed heartbeat fails; the timer keeps going, so a freed
   * disk recovers (and a record that could not be written at first appears).
   */
  onHeartbeatError?: (error: RegistryError) => void;
  /**
   * When the first write fails (`WRITE_FAILED`: a full disk, a read-only folder, a record file
   * held on Windows), report it through `onHeartbeatError` and try again with every heartbeat
   * instead of throwing, so a long-lived process becomes discoverable once the cause is gone
   * (default false). Needs heartbeats: with `heartbeatMs` 0 the failure is thrown.
   */
  retryFirstWrite?: boolean;
  /** Whose rules the writes follow (default `process.platform`); see {@link writeInstance}. */
  platform?: NodeJS.Platform;
  /** The fs edge of the writes' rename (default `fs/promises` `rename`). */
  rename?: WriteInstanceOptions['rename'];
}

/** A live registration: the record on disk, kept fresh until `close()`. */
export interface Registration {
  readonly id: string;
  readonly file: string;
  /** The record as last written (or, until a write succeeds, as it will be). */
  readonly record: Readonly<InstanceRecordInput>;
  /** True once the record is on disk: false while a failed first write waits for a heartbeat. */
  readonly written: boolean;
  /** Rewrites the record (atomically) with `last_seen` set to now. */
  heartbeat(): Promise<void>;
  /** Stops heartbeats and removes the record; idempotent. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Announces an instance: writes its record atomically and refreshes `last_seen` every
 * `heartbeatMs`. Call it only once the instance's port is accepting connections. With
 * `retryFirstWrite`, a failed first write goes to `onHeartbeatError` and every heartbeat tries
 * again (`written` tells whether the record is on disk yet).
 * @throws {RegistryError} `INVALID_RECORD` for a record the schema rejects; `WRITE_FAILED` when
 * the first write fails, unless it is retried. Nothing is left on disk then.
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
  const every = options.heartbeatMs ?? 5_000;
  const writeOptions: WriteInstanceOptions = {
    ...(options.clock === undefined ? {} : { clock: options.clock }),
    ...(options.platform === undefined ? {} : { platform: options.platform }),
    ...(options.rename === undefined ? {} : { rename: options.rename }),
  };
  let written = false;
  try {
    await writeInstance(paths, record, writeOptions);
    written = true;
  } catch (error) {
    // Running undiscovered for an instance's whole life is worse than a late record: with a
    // heartbeat to try again on, the failure is reported and the record follows when it can.
    const retry = options.retryFirstWrite === true && every > 0;
    if (!retry || !(error instanceof RegistryError) || error.code !== 'WRITE_FAILED') throw error;
    options.onHeartbeatError?.(error);
  }

  let closed = false;
  let inFlight: Promise<void> | undefined;
  const heartbeat = (): Promise<void> => {
    if (closed) return Promise.resolve();
    // Serialised: a slow disk never stacks writes, and close() can wait for the last one.
    inFlight ??= (async () => {
      try {
        const next = { ...record, last_seen: new Date(clock.now()).toISOString() };
        await writeInstance(paths, next, writeOptions);
        record = next;
        written = true;
      } finally {
        inFlight = undefined;
      }
    })();
    return inFlight;
  };
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
    get written() {
      return written;
    },
    heartbeat,
    close,
    [Symbol.asyncDispose]: close,
  };
}
