import { cleanText } from '@mcp-beacon/registry';

/** Bytes of a remote command's stderr kept for its reason. */
export const STDERR_KEEP = 4_096;

const PROMPT = /password|passphrase|permission denied|askpass|host key verification/i;

/**
 * The end of a remote command's stderr, to say why it failed: its last line, and whether it
 * was asking for a password or a host key (which the hub, in its own session, cannot answer).
 */
export class StderrTail {
  private text = '';

  add(chunk: string): void {
    this.text = (this.text + chunk).slice(-STDERR_KEEP);
  }

  clear(): void {
    this.text = '';
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
