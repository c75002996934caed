import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';

/**
 * Makes a connected SDK client see an instance's messages in the order they were sent. The
 * SDK handles a notification one microtask after it arrives but a response at once, so
 * progress sent just before a result (in the same chunk, or through a remote's channel)
 * would reach a request already settled and be dropped. A response that follows
 * notifications now waits for their handlers; with none before it, it goes through at once.
 * Call after `client.connect(transport)`.
 */
export function deliverInOrder(transport: Transport): void {
  const inner = transport.onmessage;
  if (!inner) return;
  /** Settles after the handlers of the notifications delivered so far (undefined: none). */
  let behind: Promise<void> | undefined;
  transport.onmessage = (message, extra) => {
    if ('method' in message) {
      inner(message, extra);
      // Queued after the SDK's own microtask for this message, so it settles after it.
      const mark = Promise.resolve();
      behind = mark;
      void mark.then(() => {
        if (behind === mark) behind = undefined;
      });
      return;
    }
    if (behind) void behind.then(() => inner(message, extra));
    else inner(message, extra);
  };
}
