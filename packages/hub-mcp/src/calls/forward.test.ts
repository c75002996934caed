import { randomUUID } from 'node:crypto';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type ConnectionManager, createConnectionManager } from '@mcp-beacon/connection-manager';
import { makeRecord, waitForState } from '@mcp-beacon/test-utils';
import { type CallToolResult, Client, InMemoryTransport } from '@modelcontextprotocol/client';
import { NodeStreamableHTTPServerTransport } from '@modelcontextprotocol/node';
import { McpServer } from '@modelcontextprotocol/server';
import { afterEach, describe, expect, it } from 'vitest';
import { createHubServer, HUB_CLIENT_CAPABILITIES, type HubServer } from '../index.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

/**
 * A real streamable-HTTP instance whose `drop` tool closes every connection to it while the
 * call waits: the stream carrying the call ends before its answer.
 */
async function startDroppingInstance(): Promise<{ url: string; port: number }> {
  const sessions = new Map<string, NodeStreamableHTTPServerTransport>();
  const http: HttpServer = createServer(async (req, res) => {
    const id = req.headers['mcp-session-id'] as string | undefined;
    let transport = id ? sessions.get(id) : undefined;
    if (!transport) {
      if (id) return void res.writeHead(404).end();
      const server = new McpServer({ name: 'dropping', version: '1.0.0' });
      server.registerTool('drop', { description: 'drops its connection' }, async () => {
        setImmediate(() => http.closeAllConnections());
        return new Promise<never>(() => undefined);
      });
      const created = new NodeStreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (sid) => void sessions.set(sid, created),
      });
      transport = created;
      await server.connect(created);
    }
    await transport.handleRequest(req, res);
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  cleanups.push(async () => {
    http.closeAllConnections();
    await new Promise((resolve) => http.close(resolve));
  });
  const { port } = http.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/mcp`, port };
}

async function hubWith(instance: { url: string; port: number }) {
  const manager: ConnectionManager = createConnectionManager({
    clientCapabilities: HUB_CLIENT_CAPABILITIES,
  });
  cleanups.push(() => manager.close());
  const hub: HubServer = createHubServer({ manager, debounceMs: 5 });
  cleanups.push(() => hub.close());
  const record = makeRecord({ name: 'dropping', url: instance.url, port: instance.port });
  manager.upsert(record);
  await waitForState(manager, record.id, 'active');
  const client = new Client({ name: 'upstream', version: '1.0.0' });
  const [a, b] = InMemoryTransport.createLinkedPair();
  await hub.connect(b);
  await client.connect(a);
  cleanups.push(() => client.close());
  return { manager, record, client };
}

describe('a call whose instance closes the stream before answering', () => {
  it('is a tool error naming the instance, on the direct path and on the SDK client path', async () => {
    const { manager, record, client } = await hubWith(await startDroppingInstance());
    // No progress token: straight through the instance's HTTP transport.
    const direct = (await client.callTool({ name: 'drop', arguments: {} })) as CallToolResult;
    expect(direct.isError).toBe(true);
    expect(direct.content[0]).toMatchObject({
      text: expect.stringContaining(
        'instance dropping failed: the instance closed the stream before answering',
      ),
    });
    await waitForState(manager, record.id, 'active');
    // A progress token takes the SDK client, which sees the same ending as a JSON-RPC error
    // from its transport: still the hub's to report, not the instance's answer.
    const viaSdk = (await client.callTool(
      { name: 'drop', arguments: {} },
      { onprogress: () => undefined },
    )) as CallToolResult;
    expect(viaSdk.isError).toBe(true);
    expect(viaSdk.content[0]).toMatchObject({
      text: expect.stringContaining(
        'instance dropping failed: the instance closed the stream before answering',
      ),
    });
  });
});
