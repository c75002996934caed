import type {
  JSONRPCMessage,
  MessageExtraInfo,
  Transport,
  TransportSendOptions,
} from '@modelcontextprotocol/server';

/** What {@link wrapTransport} does with what the wrapped transport receives. */
export interface TransportHooks {
  /** Sees every message first; hands it on to the SDK with `deliver`, or keeps it. */
  receive(
    message: JSONRPCMessage,
    extra: MessageExtraInfo | undefined,
    deliver: (message: JSONRPCMessage, extra?: MessageExtraInfo) => void,
  ): void;
  /** Runs when the transport closes, before the SDK hears of it. */
  closed?(): void;
}

/**
 * A transport that is `inner` but for what reaches the SDK: pass it to `connect` instead of
 * `inner`. The SDK's public `Transport` interface is all it uses; nothing is patched after a
 * connect.
 */
export function wrapTransport(inner: Transport, hooks: TransportHooks): Transport {
  const outer: Transport = {
    async start() {
      const deliver = (message: JSONRPCMessage, extra?: MessageExtraInfo) =>
        outer.onmessage?.(message, extra);
      inner.onmessage = (message, extra) => hooks.receive(message, extra, deliver);
      inner.onerror = (error) => outer.onerror?.(error);
      inner.onclose = () => {
        hooks.closed?.();
        outer.onclose?.();
      };
      await inner.start();
    },
    send: (message: JSONRPCMessage, options?: TransportSendOptions) => inner.send(message, options),
    close: () => inner.close(),
    setProtocolVersion: (version) => inner.setProtocolVersion?.(version),
    get sessionId() {
      return inner.sessionId;
    },
  };
  return outer;
}
