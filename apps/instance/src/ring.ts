import { cleanText } from '@mcp-beacon/runtime';

/** One captured output line. */
export interface LogLine {
  /** Increasing per run, starting at 1; use it as `since` to fetch only newer lines. */
  seq: number;
  /** ISO 8601 time the line was captured. */
  time: string;
  stream: 'stdout' | 'stderr';
  text: string;
}

/** Limits of a {@link LogRing}. */
export interface RingLimits {
  /** Lines kept (default 2 000). */
  lines?: number;
  /** Characters kept per line; longer lines are cut with a marker (default 4 096). */
  lineChars?: number;
  /** Characters kept in all lines together (default 4 Mi, about 8 MB). */
  chars?: number;
}

type Stream = LogLine['stream'];

/**
 * A bounded buffer of log lines: the newest lines are kept within a line count and a character
 * budget. Each kept line is a fresh copy (never a slice that pins the chunk it came from), with
 * ANSI sequences removed and control characters escaped; a line longer than `lineChars` is
 * kept cut with a visible marker and the rest of it is discarded until its newline.
 */
export class LogRing {
  private readonly lines: LogLine[] = [];
  private head = 0; // index of the oldest kept line in `lines`
  private seq = 0;
  private kept = 0; // characters in kept lines
  private readonly partial: Record<Stream, string> = { stdout: '', stderr: '' };
  private readonly skipping: Record<Stream, number> = { stdout: 0, stderr: 0 };
  readonly maxLines: number;
  readonly maxLineChars: number;
  readonly maxChars: number;
  /** Called with each line as it is kept. */
  onLine: ((line: LogLine) => void) | undefined;

  constructor(
    limits: RingLimits = {},
    private readonly now: () => number = Date.now,
  ) {
    this.maxLines = limits.lines ?? 2_000;
    this.maxLineChars = limits.lineChars ?? 4_096;
    this.maxChars = limits.chars ?? 4 * 1024 * 1024;
  }

  /** Lines dropped from the front so far. */
  get dropped(): number {
    return this.seq - this.size;
  }

  /** Lines kept now. */
  get size(): number {
    return this.lines.length - this.head;
  }

  /** Characters kept now (about half the bytes they take). */
  get chars(): number {
    return this.kept;
  }

  /** Appends a chunk of output; an incomplete last line waits for the next chunk (or `flush`). */
  write(stream: Stream, chunk: string): void {
    let from = 0;
    while (from < chunk.length) {
      const nl = chunk.indexOf('\n', from);
      const end = nl === -1 ? chunk.length : nl;
      if (this.skipping[stream] > 0) {
        this.skipping[stream] += end - from;
      } else {
        const room = this.maxLineChars - this.partial[stream].length;
        if (end - from > room) {
          // Cut: keep what fits now, skip the rest of the line until its newline.
          this.push(stream, this.partial[stream] + chunk.slice(from, from + room), true);
          this.partial[stream] = '';
          this.skipping[stream] = end - from - room;
        } else {
          this.partial[stream] += chunk.slice(from, end);
        }
      }
      if (nl === -1) break;
      if (this.skipping[stream] > 0) this.skipping[stream] = 0;
      else this.endLine(stream);
      from = nl + 1;
    }
  }

  /** Emits any unterminated last lines (call when the process exits). */
  flush(): void {
    for (const stream of ['stdout', 'stderr'] as const) {
      if (this.partial[stream] !== '') this.endLine(stream);
      this.skipping[stream] = 0;
    }
  }

  /** Lines with `seq > since`, oldest first, at most the newest `limit`. */
  read(options: { since?: number; limit?: number } = {}): LogLine[] {
    const since = options.since ?? 0;
    // seq is dense, so the first line after `since` is found by arithmetic.
    const firstSeq = this.seq - this.size + 1;
    let start = this.head + Math.max(0, since + 1 - firstSeq);
    if (options.limit !== undefined) start = Math.max(start, this.lines.length - options.limit);
    return this.lines.slice(start);
  }

  private endLine(stream: Stream): void {
    const text = this.partial[stream];
    this.partial[stream] = '';
    this.push(stream, text.endsWith('\r') ? text.slice(0, -1) : text, false);
  }

  private push(stream: Stream, raw: string, cut: boolean): void {
    // Buffer round trip: a new flat string that pins nothing of the chunk it was cut from.
    const copy = Buffer.from(raw, 'utf8').toString('utf8');
    const text = cleanText(cut ? `${copy}… [line cut at ${this.maxLineChars} characters]` : copy);
    const line: LogLine = {
      seq: ++this.seq,
      time: new Date(this.now()).toISOString(),
      stream,
      text,
    };
    this.lines.push(line);
    this.kept += text.length;
    while (this.size > this.maxLines || (this.kept > this.maxChars && this.size > 1)) {
      const oldest = this.lines[this.head++] as LogLine;
      this.kept -= oldest.text.length;
    }
    // Compact once the dropped prefix is as long as what is kept.
    if (this.head > 1024 && this.head * 2 > this.lines.length) {
      this.lines.splice(0, this.head);
      this.head = 0;
    }
    this.onLine?.(line);
  }
}
