/** One captured output line. */
export interface LogLine {
  /** Increasing per run, starting at 1; use it as `since` to fetch only newer lines. */
  seq: number;
  /** ISO 8601 time the line was captured. */
  time: string;
  stream: 'stdout' | 'stderr';
  text: string;
}

/**
 * A bounded ring of log lines: the newest `capacity` lines are kept, each cut to `maxLineChars`,
 * so a chatty dev server cannot grow memory without bound.
 */
export class LogRing {
  private readonly lines: LogLine[] = [];
  private head = 0;
  private seq = 0;
  private partial: Record<LogLine['stream'], string> = { stdout: '', stderr: '' };

  constructor(
    readonly capacity = 2_000,
    readonly maxLineChars = 4_096,
    private readonly now: () => number = Date.now,
  ) {}

  /** Lines dropped from the front so far. */
  get dropped(): number {
    return Math.max(0, this.seq - this.lines.length);
  }

  /** Appends a chunk of output; incomplete last lines wait for the next chunk (or `flush`). */
  write(stream: LogLine['stream'], chunk: string): void {
    const parts = (this.partial[stream] + chunk).split(/\r?\n/);
    this.partial[stream] = parts.pop() ?? '';
    if (this.partial[stream].length > this.maxLineChars) {
      this.push(stream, this.partial[stream]);
      this.partial[stream] = '';
    }
    for (const part of parts) this.push(stream, part);
  }

  /** Emits any unterminated last lines (call when the process exits). */
  flush(): void {
    for (const stream of ['stdout', 'stderr'] as const) {
      if (this.partial[stream] !== '') this.push(stream, this.partial[stream]);
      this.partial[stream] = '';
    }
  }

  /** Lines with `seq > since` that match `filter`, oldest first, at most the newest `limit`. */
  read(
    options: { since?: number; limit?: number; filter?: (text: string) => boolean } = {},
  ): LogLine[] {
    const ordered =
      this.lines.length < this.capacity
        ? this.lines
        : [...this.lines.slice(this.head), ...this.lines.slice(0, this.head)];
    const since = options.since ?? 0;
    const matches = ordered.filter(
      (line) => line.seq > since && (options.filter?.(line.text) ?? true),
    );
    return options.limit === undefined ? matches : matches.slice(-options.limit);
  }

  private push(stream: LogLine['stream'], raw: string): void {
    const text = raw.length > this.maxLineChars ? `${raw.slice(0, this.maxLineChars)}… [cut]` : raw;
    const line = { seq: ++this.seq, time: new Date(this.now()).toISOString(), stream, text };
    if (this.lines.length < this.capacity) {
      this.lines.push(line);
    } else {
      this.lines[this.head] = line;
      this.head = (this.head + 1) % this.capacity;
    }
  }
}
