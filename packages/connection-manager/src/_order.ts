// The one workaround for the SDK client's message order (kept here, tested in _order.test.ts):
// the SDK runs a notification's handler one microtask after the message arrives but settles a
// response at once, so progress sent just before a result (in the same chunk, or through a
// remote's channel) would reach a request already settled and be dropped.
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';

/**
 * Orders deliveries: a response waits for the handlers of the notifications delivered before
 * it (queued after the SDK's own microtask for each); with none before it, it goes at once.
 */
export class ResponseOrder {
  /** Settles after the handlers of the notifications delivered so far (undefined: none). */
  private behind: Promise<void> | undefined;

  /** Delivers a notification (or a server-to-client request) now. */
  notification(deliver: () => void): void {
    deliver();
    const mark = Promise.resolve();
    this.behind = mark;
    void mark.then(() => {
      if (this.behind === mark) this.behind = undefined;
    });
  }

  /** Delivers a response once the notifications before it are handled. */
  response(deliver: () => void): void {
    if (this.behind) void this.behind.then(deliver);
    else deliver();
  }
}

/**
 * Makes a connected SDK client see a transport's messages in the order they were sent (see
 * {@link ResponseOrder}). Call after `client.connect(transport)`.
 */
export function deliverInOrder(transport: Transport): void {
  const inner = transport.onmessage;
  if (!inner) return;
  const order = new ResponseOrder();
  transport.onmessage = (message, extra) => {
    if ('method' in message) order.notification(() => inner(message, extra));
    else order.response(() => inner(message, extra));
  };
}
