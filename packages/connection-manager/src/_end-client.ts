import type { Clock } from '@mcp-beacon/runtime';
import type { Client } from '@modelcontextprotocol/client';

/**
 * Closes an instance client; with `endSession`, first ends its session on the instance
 * (`DELETE`), waiting at most `timeoutMs` for it. Never throws.
 */
export async function endClient(
  client: Client,
  options: { endSession: boolean; timeoutMs: number; clock: Clock },
): Promise<void> {
  const transport = client.transport as { terminateSession?: () => Promise<void> } | undefined;
  if (options.endSession && transport?.terminateSession) {
    let timer: unknown;
    await Promise.race([
      transport.terminateSession().catch(() => undefined),
      new Promise<void>((resolve) => {
        timer = options.clock.setTimeout(resolve, options.timeoutMs);
      }),
    ]);
    options.clock.clearTimeout(timer);
  }
  await client.close().catch(() => undefined);
}
