// The one workaround for the SDK client's message order (kept here, tested in _order.test.ts):
// the SDK 2 client (as SDK 1 did) runs a notification's handler one microtask after the message arrives but settles a
// response at once, so progress sent just before a result (in the same chunk, or through a
// remote's channel) would reach a request already settled and be dropped. HttpClientTransport
// hands its messages on through a ResponseOrder; any other transport is wrapped in `inOrder` before the client
// connects, so nothing of the SDK is patched.
import type { Transport } from '@modelcontextprotocol/client';
import { wrapTransport } from './_wrap.js';

/**
 * Orders a transport's deliveries: a response waits for the handlers of the notifications
 * delivered before it (queued after the SDK's own microtask for each); with none before it, it
 * goes at once.
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
 * A transport whose messages reach the SDK client in the order they were sent (through a
 * {@link ResponseOrder}): for a transport that does not order its own deliveries. Wrap it
 * before `client.connect`; it is a transport like any other, so nothing of the SDK is patched.
 */
export function inOrder(inner: Transport): Transport {
  const order = new ResponseOrder();
  return wrapTransport(inner, {
    receive(message, extra, deliver) {
      const hand = () => deliver(message, extra);
      if ('method' in message) order.notification(hand);
      else order.response(hand);
    },
  });
}
