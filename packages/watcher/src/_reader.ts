import path from 'node:path';
import { type InstanceRecord, type ReadOptions, safeReadInstanceSync } from '@mcp-beacon/registry';
import { Cursor } from './_cursor.js';
import { diffState, type FileState, type InstanceEvent } from './_state.js';

/** Only these names are instance records; anything else in the directory is ignored. */
export const isCandidate = (name: string) => name.endsWith('.json');

/**
 * What the watcher knows of the directory, and the reads that keep it true. A notified name
 * is queued; queued names are read in batches of `batchSize` per turn of the event loop, so a
 * burst of 10,000 files never blocks it for long, and a name queued again before its turn is
 * read once, in its final state. Each read's outcome is diffed against the last one and sent
 * to the listeners and the cursors.
 */
export class RecordReader {
  /** Known state by file name: a valid record, or why the file was rejected. */
  readonly states = new Map<string, FileState>();
  /** Names waiting for their read. */
  readonly pending = new Set<string>();
  private readonly listeners = new Set<(event: InstanceEvent) => void>();
  private readonly cursors = new Set<Cursor>();
  private idleWaiters: Array<() => void> = [];
  private drainScheduled: NodeJS.Immediate | undefined;
  private closed = false;

  constructor(
    private readonly dir: string,
    private readonly batchSize: number,
    private readonly readOptions: ReadOptions | undefined,
  ) {}

  /** Queues these names (non-candidates are dropped) for a read on a later turn. */
  schedule(names: Iterable<string>): void {
    if (this.closed) return;
    for (const name of names) if (isCandidate(name)) this.pending.add(name);
    if (this.pending.size > 0) this.drainScheduled ??= setImmediate(() => this.drain());
  }

  /** Resolves once no read is queued (at once after `close`). */
  caughtUp(): Promise<void> {
    return new Promise<void>((resolve) => {
      if (this.closed || (this.pending.size === 0 && this.drainScheduled === undefined)) resolve();
      else this.idleWaiters.push(resolve);
    });
  }

  /** The valid records, by id. */
  records(): Map<string, InstanceRecord> {
    const out = new Map<string, InstanceRecord>();
    for (const state of this.states.values())
      if (state.kind === 'valid') out.set(state.record.id, state.record);
    return out;
  }

  /** Calls `listener` for every event from now on; returns the unsubscribe function. */
  on(listener: (event: InstanceEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A new event stream that first replays the current state. */
  cursor(): Cursor {
    const cursor = new Cursor(this.dir, this.states, (c) => this.cursors.delete(c));
    if (this.closed) cursor.end();
    else this.cursors.add(cursor);
    return cursor;
  }

  /** Drops queued reads, ends every cursor and releases every waiter. */
  close(): void {
    this.closed = true;
    this.pending.clear();
    if (this.drainScheduled) clearImmediate(this.drainScheduled);
    for (const cursor of this.cursors) cursor.end();
    this.cursors.clear();
    this.listeners.clear();
    this.releaseWaiters();
  }

  private drain(): void {
    this.drainScheduled = undefined;
    let budget = this.batchSize;
    for (const name of this.pending) {
      if (this.closed || budget-- === 0) break;
      this.pending.delete(name);
      this.readOne(name);
    }
    if (this.closed) return;
    if (this.pending.size > 0) {
      this.drainScheduled = setImmediate(() => this.drain());
      return;
    }
    this.releaseWaiters();
  }

  private releaseWaiters(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private readOne(name: string): void {
    const result = safeReadInstanceSync(path.join(this.dir, name), this.readOptions);
    if (result.ok) {
      this.setState(name, {
        kind: 'valid',
        record: result.value,
        json: JSON.stringify(result.value),
      });
    } else if (result.reason === 'NOT_FOUND') {
      this.setState(name, undefined);
    } else {
      this.setState(name, { kind: 'invalid', reason: result.reason, message: result.message });
    }
  }

  private setState(name: string, next: FileState | undefined): void {
    const before = this.states.get(name);
    if (next === undefined) this.states.delete(name);
    else this.states.set(name, next);
    const events = diffState(path.join(this.dir, name), before, next);
    for (const event of events) {
      for (const listener of this.listeners) {
        try {
          listener(event);
        } catch {
          // A throwing listener must not stop the others or the watcher.
        }
      }
    }
    if (events.length > 0 || before !== next) for (const cursor of this.cursors) cursor.touch(name);
  }
}
