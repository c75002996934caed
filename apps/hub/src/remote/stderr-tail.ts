import { StringDecoder } from 'node:string_decoder';
import { cleanText } from '@mcp-beacon/runtime';

/** Characters of a remote command's stderr kept for its reason. */
export const STDERR_KEEP = 4_096;

const PROMPT = /password|passphrase|permission denied|askpass|host key verification/i;

/**
 * Whether `bytes` read as UTF-16LE text: most of its 16-bit units have a zero high byte and a
 * non-zero low one (Latin text, as wsl.exe writes its own messages), a pattern UTF-8 text,
 * which holds no NUL bytes, never shows.
 */
export function looksUtf16le(bytes: Uint8Array): boolean {
  const units = bytes.length >> 1;
  if (units === 0) return false;
  let latin = 0;
  for (let i = 0; i < units; i++) if (bytes[2 * i + 1] === 0 && bytes[2 * i] !== 0) latin++;
  return latin * 2 >= units;
}

/**
 * The end of a remote command's stderr, to say why it failed: its last line, and whether it
 * was asking for a password or a host key (which the hub, in its own session, cannot answer).
 * Bytes are read as UTF-8, except UTF-16LE, which wsl.exe writes its own errors in: a stream
 * that starts with its byte-order mark, or a chunk of NUL-interleaved text.
 */
export class StderrTail {
  private text = '';
  private started = false;
  /** The stream began with a UTF-16LE byte-order mark. */
  private utf16 = false;
  /** An odd byte of UTF-16LE left from the last chunk. */
  private pending: Buffer | undefined;
  /** The last chunk was UTF-16LE: a next one with a NUL byte, or its odd byte, goes on. */
  private lastUtf16 = false;
  private readonly utf8 = new StringDecoder('utf8');

  add(chunk: Buffer | string): void {
    if (typeof chunk === 'string') {
      this.keep(chunk);
      return;
    }
    const carried = this.pending !== undefined;
    let bytes = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = undefined;
    if (!this.started && bytes.length >= 2) {
      this.started = true;
      if (bytes[0] === 0xff && bytes[1] === 0xfe) {
        this.utf16 = true;
        bytes = bytes.subarray(2);
      }
    }
    this.lastUtf16 =
      this.utf16 || looksUtf16le(bytes) || (this.lastUtf16 && (carried || bytes.includes(0)));
    if (this.lastUtf16) {
      const even = bytes.length & ~1;
      if (even < bytes.length) this.pending = Buffer.from(bytes.subarray(even));
      this.keep(bytes.subarray(0, even).toString('utf16le'));
    } else this.keep(this.utf8.write(bytes));
  }

  private keep(text: string): void {
    this.text = (this.text + text).slice(-STDERR_KEEP);
  }

  /** Characters kept now (at most {@link STDERR_KEEP}). */
  kept(): number {
    return this.text.length;
  }

  clear(): void {
    this.text = '';
    this.started = false;
    this.utf16 = false;
    this.pending = undefined;
    this.lastUtf16 = false;
    this.utf8.end();
  }

  /** `reason`, with what the command last said. */
  explain(reason: string): string {
    const lines = this.text
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l !== '');
    const last = lines.length > 0 ? cleanText(lines.at(-1)!).slice(0, 300) : undefined;
    if (PROMPT.test(this.text))
      return `${reason}: it asks for a password or a host-key confirmation, which the hub cannot answer; use a key (ssh-agent) and a known host${last ? ` (stderr: ${last})` : ''}`;
    return last ? `${reason}; its last stderr line: ${last}` : reason;
  }
}
