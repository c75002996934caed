// The SDK's `ReadBuffer` is not used for the lines: it cannot say which line was not JSON-RPC
// (the reason a remote is refused quotes it: `"Welcome to devbox!"`), it bounds the bytes
// buffered rather than one line, it takes a blank line for garbage, and it copies the whole
// buffer for every chunk of a long line. Each line is parsed with the SDK's `deserializeMessage`.
import type { Readable, Writable } from 'node:stream';
import type { JSONRPCMessage, Transport } from '@modelcontextprotocol/client';
import { deserializeMessage } from '@modelcontextprotocol/client';
import { MAX_MESSAGE_CHARS } from './fragments.js';

/** True for the error a {@link CommandTransport} ends with when stdout is not MCP. */
export const isNotMcp = (error: Error): boolean => (error as { notMcp?: boolean }).notMcp === true;

const notMcp = (message: string) => Object.assign(new Error(message), { notMcp: true });

/**
 * Longest line taken from a remote's stdout (one JSON-RPC message), in characters: the longest
 * channel message a remote carries, plus the notification that wraps it, so a message the other
 * hub may send is never taken for garbage.
 */
export const MAX_LINE_LENGTH = MAX_MESSAGE_CHARS + 64 * 1024;

/**
 * MCP over a command's stdin and stdout, one JSON message per line. A line longer than
 * {@link MAX_LINE_LENGTH}, or one that is not JSON-RPC, ends the transport with an error that
 * says so: a remote that is not a hub cannot grow the hub's memory or feed it garbage.
 */
export class CommandTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  private buffered = '';
  private closed = false;

  constructor(
    private readonly input: Readable,
    private readonly output: Writable,
  ) {}

  async start(): Promise<void> {
    this.input.setEncoding('utf8');
    this.input.on('data', (chunk: string) => this.take(chunk));
    this.input.on('end', () => void this.close());
    this.input.on('error', (error) => this.fail(error));
    this.output.on('error', (error) => this.fail(error));
  }

  async send(message: JSONRPCMessage): Promise<void> {
    if (this.closed) throw new Error('the remote command has exited');
    const line = `${JSON.stringify(message)}\n`;
    await new Promise<void>((resolve, reject) =>
      this.output.write(line, (error) => (error ? reject(error) : resolve())),
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.input.removeAllListeners('data');
    this.output.end();
    this.onclose?.();
  }

  private take(chunk: string): void {
    if (this.closed) return;
    let start = 0;
    let nl = chunk.indexOf('\n');
    while (nl >= 0) {
      const line = this.buffered + chunk.slice(start, nl);
      this.buffered = '';
      this.deliver(line);
      if (this.closed) return;
      start = nl + 1;
      nl = chunk.indexOf('\n', start);
    }
    this.buffered += chunk.slice(start);
    if (this.buffered.length > MAX_LINE_LENGTH)
      this.fail(notMcp(`a line longer than ${MAX_LINE_LENGTH} characters on stdout`));
  }

  private deliver(line: string): void {
    const text = line.trim();
    if (text === '') return;
    let message: JSONRPCMessage;
    try {
      message = deserializeMessage(text);
    } catch {
      this.fail(notMcp(`not JSON-RPC on stdout: ${JSON.stringify(text.slice(0, 120))}`));
      return;
    }
    this.onmessage?.(message);
  }

  private fail(error: Error): void {
    if (this.closed) return;
    this.onerror?.(error);
    void this.close();
  }
}
