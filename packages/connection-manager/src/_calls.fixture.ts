// Test fixture: what the tests of `manager.call` in both eras share: a tool that reports its
// progress, and the `ConnectionError` a call is expected to fail with.

import type { McpServer } from '@modelcontextprotocol/server';
import { expect } from 'vitest';
import { ConnectionError } from './errors.js';

/** Registers `count`: three progress notifications when the call asks for them, then `counted`. */
export function registerCount(server: McpServer): void {
  server.registerTool('count', { description: 'progress' }, async (ctx) => {
    const token = ctx.mcpReq._meta?.progressToken;
    for (let i = 1; i <= 3 && token !== undefined; i++)
      await ctx.mcpReq.notify({
        method: 'notifications/progress',
        params: { progressToken: token, progress: i, total: 3 },
      });
    return { content: [{ type: 'text', text: 'counted' }] };
  });
}

/** The `ConnectionError` `promise` rejects with (fails the test if it resolves or rejects otherwise). */
export async function rejection(promise: Promise<unknown>): Promise<ConnectionError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConnectionError);
  return error as ConnectionError;
}
