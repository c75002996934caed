import { Client, type JSONRPCMessage, type Transport } from '@modelcontextprotocol/client';
import { describe, expect, it } from 'vitest';
import { inOrder, ResponseOrder } from './_order.js';

/**
 * A server in a transport: answers `initialize`, and answers `tools/call` with a progress
 * notification and the result delivered back to back, in one turn (as one chunk would be).
 */
class BackToBack implements Transport {
  onmessage?: (message: JSONRPCMessage) => void;
  /** Hands messages on through a ResponseOrder, as Beacon's transports do. */
  constructor(private readonly order?: ResponseOrder) {}
  onclose?: () => void;
  onerror?: (error: Error) => void;
  async start(): Promise<void> {}
  async close(): Promise<void> {
    this.onclose?.();
  }
  async send(message: JSONRPCMessage): Promise<void> {
    if (!('method' in message) || !('id' in message)) return;
    const { id } = message;
    if (message.method === 'initialize') {
      const result = {
        protocolVersion: '2025-06-18',
        capabilities: { tools: {} },
        serverInfo: { name: 'back-to-back', version: '1.0.0' },
      };
      queueMicrotask(() => this.onmessage?.({ jsonrpc: '2.0', id, result }));
      return;
    }
    const token = (message.params as { _meta?: { progressToken?: string | number } })._meta
      ?.progressToken;
    const progress: JSONRPCMessage = {
      jsonrpc: '2.0',
      method: 'notifications/progress',
      params: { progressToken: token!, progress: 1, total: 1 },
    };
    const result: JSONRPCMessage = { jsonrpc: '2.0', id, result: { content: [] } };
    setImmediate(() => {
      if (!this.order) {
        this.onmessage?.(progress);
        this.onmessage?.(result);
        return;
      }
      this.order.notification(() => this.onmessage?.(progress));
      this.order.response(() => this.onmessage?.(result));
    });
  }
}

async function progressSeen(ordered: boolean): Promise<number> {
  const client = new Client({ name: 'order-test', version: '1.0.0' });
  const transport = new BackToBack(ordered ? new ResponseOrder() : undefined);
  await client.connect(transport);
  let seen = 0;
  await client.callTool(
    { name: 'x', arguments: {} },
    {
      onprogress: () => {
        seen++;
      },
    },
  );
  await client.close();
  return seen;
}

describe('the SDK client and ResponseOrder', () => {
  it('the SDK client drops progress delivered just before its result (the reason this file exists)', async () => {
    // If this starts failing, the SDK now orders messages itself: ResponseOrder can go.
    expect(await progressSeen(false)).toBe(0);
  });

  it('through a ResponseOrder, the progress reaches the call before its result', async () => {
    expect(await progressSeen(true)).toBe(1);
  });

  it('through inOrder, a transport that does not order itself delivers progress first', async () => {
    const client = new Client({ name: 'order-test', version: '1.0.0' });
    await client.connect(inOrder(new BackToBack()));
    let seen = 0;
    await client.callTool(
      { name: 'x', arguments: {} },
      {
        onprogress: () => {
          seen++;
        },
      },
    );
    await client.close();
    expect(seen).toBe(1);
  });
});

describe('ResponseOrder', () => {
  it('delivers a response after the microtasks queued by the notifications before it', async () => {
    const order = new ResponseOrder();
    const seen: string[] = [];
    order.notification(() => queueMicrotask(() => seen.push('handler')));
    order.response(() => seen.push('response'));
    await new Promise((r) => setImmediate(r));
    expect(seen).toEqual(['handler', 'response']);
  });

  it('delivers a response at once when no notification came before it', () => {
    const order = new ResponseOrder();
    const seen: string[] = [];
    order.response(() => seen.push('response'));
    expect(seen).toEqual(['response']);
  });
});
