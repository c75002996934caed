import { AsyncResource } from 'node:async_hooks';
import { StringDecoder } from 'node:string_decoder';

/**
 * A response body as text for one reader, in order: bytes are decoded as UTF-8 as they come
 * (a character split across chunks is kept whole), queued until `read` is called, then handed
 * on at once. Both HTTP clients' responses read their bodies through it.
 */
export class BodyText {
  finished = false;
  failure: Error | undefined;
  private readonly decoder = new StringDecoder('utf8');
  private queued = '';
  private onText: ((text: string) => void) | undefined;
  private settle: { resolve: () => void; reject: (error: Error) => void } | undefined;

  /** True once the body ended or failed. */
  get done(): boolean {
    return this.finished || this.failure !== undefined;
  }

  /** More bytes of the body. */
  push(bytes: Buffer): void {
    if (bytes.length === 0) return;
    this.hand(this.decoder.write(bytes));
  }

  /** The body ended: what the decoder still holds is handed on, the read resolves. */
  end(): void {
    this.hand(this.decoder.end());
    this.finished = true;
    this.settle?.resolve();
    this.settle = undefined;
  }

  /** The body failed: the read rejects with `error`. */
  fail(error: Error): void {
    this.failure = error;
    this.settle?.reject(error);
    this.settle = undefined;
  }

  /**
   * Hands each piece to `onText` (what came so far at once); resolves when the body ends.
   * `onText` runs in the async context of this call, not in that of the socket that carries
   * the body (a pooled socket keeps the context of the request that opened it), so whoever
   * asks what a message belongs to (the hub: which client session's call) finds the reader.
   */
  read(onText: (text: string) => void): Promise<void> {
    if (this.queued) onText(this.queued);
    this.queued = '';
    if (this.failure) return Promise.reject(this.failure);
    if (this.finished) return Promise.resolve();
    this.onText = AsyncResource.bind(onText);
    return new Promise((resolve, reject) => {
      this.settle = { resolve, reject };
    });
  }

  private hand(text: string): void {
    if (!text) return;
    if (this.onText) this.onText(text);
    else this.queued += text;
  }
}
