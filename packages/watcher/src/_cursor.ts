import path from 'node:path';
import { diffState, type FileState, type InstanceEvent } from './_state.js';

/**
 * One consumer's place in the event stream. It keeps what it last delivered per file and the
 * names touched since, not the events: while the consumer is busy, a file changed ten times is
 * one dirty name, and `next()` delivers the diff from what the consumer saw to the state now.
 * The buffer is therefore bounded by the number of files, and the last state always arrives.
 */
export class Cursor implements AsyncIterator<InstanceEvent> {
  private readonly seen = new Map<string, FileState>();
  private readonly dirty: Set<string>;
  private buffered: InstanceEvent[] = [];
  private wake: (() => void) | undefined;
  private done = false;

  constructor(
    private readonly dir: string,
    private readonly states: ReadonlyMap<string, FileState>,
    private readonly onReturn: (cursor: Cursor) => void,
  ) {
    // A new cursor replays the current state: every known file starts dirty.
    this.dirty = new Set(states.keys());
  }

  /** A file's state changed. */
  touch(name: string): void {
    this.dirty.add(name);
    this.wake?.();
  }

  /** The watcher closed: deliver what is buffered, then finish. */
  end(): void {
    this.done = true;
    this.wake?.();
  }

  async next(): Promise<IteratorResult<InstanceEvent>> {
    for (;;) {
      const event = this.buffered.shift();
      if (event) return { value: event, done: false };
      if (this.done) return { value: undefined, done: true };
      const name = this.dirty.values().next();
      if (!name.done) {
        this.dirty.delete(name.value);
        const after = this.states.get(name.value);
        this.buffered = diffState(
          path.join(this.dir, name.value),
          this.seen.get(name.value),
          after,
        );
        if (after === undefined) this.seen.delete(name.value);
        else this.seen.set(name.value, after);
        continue;
      }
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
      this.wake = undefined;
    }
  }

  async return(): Promise<IteratorResult<InstanceEvent>> {
    this.done = true;
    this.onReturn(this);
    return { value: undefined, done: true };
  }
}
