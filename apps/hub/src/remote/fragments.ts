// Large channel messages cross a remote's link in fragments, so that a 50 MB tool result over a
// slow link never holds up the pings and small calls behind it: a large message goes one
// fragment at a time, and every small message (of any channel, and the link's own pings) goes
// between the fragments.

import { METHODS } from './protocol.js';

/** Characters of a message's JSON text per fragment. */
export const FRAGMENT_CHARS = 64 * 1024;
/** Longest channel message, in characters of its JSON text, fragmented or not. */
export const MAX_MESSAGE_CHARS = 64 * 1024 * 1024;

/** Sends one notification of the link (resolves once it is written). */
type Notify = (method: string, params: Record<string, unknown>) => Promise<void>;

/**
 * The sending side of a link's channels. A message whose JSON text is over
 * {@link FRAGMENT_CHARS} goes as `notifications/beacon/fragment`s when the other hub takes them
 * (`fragments`), each awaited before the next, after the channel's earlier large messages. A
 * small message goes at once, so it may pass a large one still in fragments: JSON-RPC does not
 * order the messages of different requests, and a direct streamable-HTTP session, whose
 * requests and streams run side by side, does not either. A message always follows the
 * messages sent before it that were small (progress before its result keeps its place).
 */
export class ChannelOutbox {
  private readonly queues = new Map<number, Promise<void>>();

  constructor(
    private readonly notify: Notify,
    /** Whether the other hub takes fragments (it said so in its capability). */
    private readonly fragments: () => boolean,
  ) {}

  /**
   * Sends `message` on `channel` (a large one after the channel's earlier large ones).
   * @throws Error for a message over {@link MAX_MESSAGE_CHARS}, or when the link fails.
   */
  send(channel: number, message: unknown): Promise<void> {
    const text = JSON.stringify(message);
    if (text.length > MAX_MESSAGE_CHARS)
      return Promise.reject(
        new Error(
          `a message of ${text.length} characters is over the ${MAX_MESSAGE_CHARS} a remote carries`,
        ),
      );
    if (text.length <= FRAGMENT_CHARS || !this.fragments())
      return this.notify(METHODS.message, { channel, message });
    const previous = this.queues.get(channel) ?? Promise.resolve();
    const sent = previous.then(() => this.write(channel, text));
    const settled = sent.catch(() => undefined);
    this.queues.set(channel, settled);
    void settled.then(() => {
      if (this.queues.get(channel) === settled) this.queues.delete(channel);
    });
    return sent;
  }

  private async write(channel: number, text: string): Promise<void> {
    for (let at = 0; at < text.length; at += FRAGMENT_CHARS) {
      await this.notify(METHODS.fragment, {
        channel,
        data: text.slice(at, at + FRAGMENT_CHARS),
        last: at + FRAGMENT_CHARS >= text.length,
      });
      // A turn of the event loop between fragments: stdout to a pipe is written synchronously
      // on Linux, so without it every fragment would go out before the next ping is even read.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }
}

/** What {@link FragmentInbox.take} made of a fragment. */
export type Reassembled =
  | { kind: 'pending' }
  | { kind: 'message'; message: unknown }
  | { kind: 'refused'; reason: string };

/**
 * The receiving side: fragments of each channel joined until the last, then parsed; a message
 * over {@link MAX_MESSAGE_CHARS} or not JSON is refused (and its channel should close).
 */
export class FragmentInbox {
  private readonly partial = new Map<number, { pieces: string[]; length: number }>();

  take(channel: number, data: string, last: boolean): Reassembled {
    const parts = this.partial.get(channel) ?? { pieces: [], length: 0 };
    parts.pieces.push(data);
    parts.length += data.length;
    if (parts.length > MAX_MESSAGE_CHARS) {
      this.partial.delete(channel);
      return {
        kind: 'refused',
        reason: `a message over the ${MAX_MESSAGE_CHARS} characters a remote carries`,
      };
    }
    if (!last) {
      this.partial.set(channel, parts);
      return { kind: 'pending' };
    }
    this.partial.delete(channel);
    try {
      return { kind: 'message', message: JSON.parse(parts.pieces.join('')) };
    } catch {
      return { kind: 'refused', reason: 'fragments that do not join into JSON' };
    }
  }

  /** The channel closed: what it held is dropped. */
  drop(channel: number): void {
    this.partial.delete(channel);
  }

  /** Every channel's fragments are dropped (the link dropped). */
  clear(): void {
    this.partial.clear();
  }
}
