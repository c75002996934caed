// The one workaround for the SDK client's message order (kept here, tested in _order.test.ts):
// the SDK 2 client (as SDK 1 did) runs a notification's handler one microtask after the message arrives but settles a
// response at once, so progress sent just before a result (in the same chunk, or through a
// remote's channel) would reach a request already settled and be dropped. HttpClientTransport
// hands its messages on through a ResponseOrder; any other transport is wrapped in `inOrder` before the client
// connects, so nothing of the SDK is patched.
import type { JSONRPCMessage, MessageExtraInfo, Transport } from '@modelcontextprotocol/client';

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
 * {@link ResponseOrder}), each first passed through `screen`: for a transport that does not
 * order its own deliveries. Wrap it
 * before `client.connect`; it is a transport like any other, so nothing of the SDK is patched.
 */
export function inOrder(
  inner: Transport,
  screen: (message: JSONRPCMessage) => JSONRPCMessage = (message) => message,
): Transport {
  const order = new ResponseOrder();
  const outer: Transport = {
    async start() {
      inner.onmessage = (received: JSONRPCMessage, extra?: MessageExtraInfo) => {
        const message = screen(received);
        const hand = () => outer.onmessage?.(message, extra);
        if ('method' in message) order.notification(hand);
        else order.response(hand);
      };
      inner.onerror = (error) => outer.onerror?.(error);
      inner.onclose = () => outer.onclose?.();
      await inner.start();
    },
    send: (message, options) => inner.send(message, options),
    close: () => inner.close(),
    setProtocolVersion: (version) => inner.setProtocolVersion?.(version),
    get sessionId() {
      return inner.sessionId;
    },
  };
  // What the SDK asks of a transport beyond the interface, passed on as the inner one has it:
  // a stream per request (2026-07-28 cancels by closing it) and the versions it may speak.
  const optional = inner as Transport & {
    hasPerRequestStream?: boolean;
    setSupportedProtocolVersions?: (versions: string[]) => void;
  };
  if (optional.hasPerRequestStream !== undefined)
    Object.assign(outer, { hasPerRequestStream: optional.hasPerRequestStream });
  if (optional.setSupportedProtocolVersions)
    Object.assign(outer, {
      setSupportedProtocolVersions: (versions: string[]) =>
        optional.setSupportedProtocolVersions?.(versions),
    });
  return outer;
}
