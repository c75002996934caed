// The manager against a real server that speaks MCP 2026-07-28 only (SDK 2, `legacy: 'reject'`),
// over HTTP on 127.0.0.1: the refused handshake becomes the record's verdict, and the 2025 SDK
// client is carried to it by ModernHttpTransport.
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { makeRecord, startMcpHttpServer, waitFor, waitForState } from '@mcp-beacon/test-utils';
import { type NodeIncomingMessageLike, toNodeHandler } from '@modelcontextprotocol/node';
import { createMcpHandler, inputRequired, McpServer, Server } from '@modelcontextprotocol/server';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  type ConnectionManager,
  createConnectionManager,
  MAX_INPUT_REQUESTS,
  MAX_INPUT_ROUNDS,
} from './index.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

/** A modern-only server on `port` (0: any): `count` reports progress, `nag` never stops asking. */
async function startModernOnly(port = 0) {
  let rounds = 0;
  const handler = createMcpHandler(
    () => {
      const server = new McpServer({ name: 'modern-only', version: '2.0.0' });
      server.registerTool('count', { description: 'progress' }, async (ctx) => {
        const token = ctx.mcpReq._meta?.progressToken;
        for (let i = 1; i <= 3 && token !== undefined; i++)
          await ctx.mcpReq.notify({
            method: 'notifications/progress',
            params: { progressToken: token, progress: i, total: 3 },
          });
        return { content: [{ type: 'text', text: 'counted' }] };
      });
      server.registerTool('flood', { description: 'asks 17 things at once' }, async () =>
        inputRequired({
          inputRequests: Object.fromEntries(
            Array.from({ length: MAX_INPUT_REQUESTS + 1 }, (_, i) => [
              `q${i}`,
              inputRequired.elicit({
                message: `q${i}`,
                requestedSchema: z.object({ ok: z.boolean() }),
              }),
            ]),
          ),
        }),
      );
      server.registerTool('nag', { description: 'asks forever' }, async () => {
        rounds++;
        return inputRequired({
          inputRequests: {
            again: inputRequired.elicit({
              message: `again ${rounds}`,
              requestedSchema: z.object({ ok: z.boolean() }),
            }),
          },
        });
      });
      return server;
    },
    { legacy: 'reject' },
  );
  const serve = toNodeHandler(handler);
  const http: HttpServer = createServer(
    (req, res) => void serve(req as NodeIncomingMessageLike, res),
  );
  await new Promise<void>((resolve) => http.listen(port, '127.0.0.1', resolve));
  const close = async () => {
    await handler.close();
    http.closeAllConnections();
    await new Promise((resolve) => http.close(resolve));
  };
  cleanups.push(close);
  return { port: (http.address() as AddressInfo).port, close, rounds: () => rounds };
}

/** Elicitations the managers' clients answered. */
let asked = 0;

function managerFor(port: number): { manager: ConnectionManager; id: string } {
  const manager = createConnectionManager({
    clientCapabilities: { elicitation: {} },
    configureClient: (client) => {
      client.setRequestHandler('elicitation/create', async () => {
        asked++;
        return {
          action: 'accept',
          content: { ok: true },
        };
      });
    },
  });
  cleanups.push(() => manager.close());
  const record = makeRecord({ port, url: `http://127.0.0.1:${port}/mcp` });
  manager.upsert(record);
  return { manager, id: record.id };
}

/** A modern-only server with one resource and `resources.subscribe`, and no `listChanged` at all. */
async function startSubscribable() {
  const handler = createMcpHandler(
    () => {
      const server = new Server(
        { name: 'subscribable', version: '2.0.0' },
        { capabilities: { tools: {}, resources: { subscribe: true } } },
      );
      server.setRequestHandler('tools/list', async () => ({ tools: [] }));
      server.setRequestHandler('resources/list', async () => ({
        resources: [{ uri: 'note://a', name: 'a' }],
      }));
      server.setRequestHandler('resources/templates/list', async () => ({ resourceTemplates: [] }));
      server.setRequestHandler('resources/read', async () => ({
        contents: [{ uri: 'note://a', text: 'a' }],
      }));
      return server;
    },
    { legacy: 'reject' },
  );
  const serve = toNodeHandler(handler);
  const http: HttpServer = createServer(
    (req, res) => void serve(req as NodeIncomingMessageLike, res),
  );
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  cleanups.push(async () => {
    await handler.close();
    http.closeAllConnections();
    await new Promise((resolve) => http.close(resolve));
  });
  return { port: (http.address() as AddressInfo).port, handler };
}

describe('a server that speaks MCP 2026-07-28 only', () => {
  it('tells the client of a subscribed resource through a listen stream opened for it', async () => {
    const { port, handler } = await startSubscribable();
    const { manager, id } = managerFor(port);
    await waitForState(manager, id, 'active');
    const client = manager.client(id);
    const updates: string[] = [];
    client.setNotificationHandler('notifications/resources/updated', async (n) => {
      updates.push(n.params.uri);
    });
    await client.subscribeResource({ uri: 'note://a' });
    await waitFor(
      () => {
        handler.notify.resourceUpdated('note://a');
        return updates.includes('note://a');
      },
      { what: 'resources/updated for note://a' },
    );
  });

  it('is connected after its refusal of the 2025 handshake, and carries progress', async () => {
    const server = await startModernOnly();
    const { manager, id } = managerFor(server.port);
    await waitForState(manager, id, 'active');
    expect(manager.get(id)?.serverInfo).toMatchObject({ name: 'modern-only' });
    expect(
      manager
        .get(id)
        ?.catalog.tools.map((t) => t.name)
        .sort(),
    ).toEqual(['count', 'flood', 'nag']);
    const progress: number[] = [];
    const result = await manager.client(id).callTool(
      { name: 'count', arguments: {} },
      {
        onprogress: (p) => progress.push(p.progress),
      },
    );
    expect(result.content).toEqual([{ type: 'text', text: 'counted' }]);
    expect(progress).toEqual([1, 2, 3]);
    // A ping is a server/discover.
    await manager.client(id).ping();
  });

  it(`fails a request still asking after ${MAX_INPUT_ROUNDS} rounds, or asking ${MAX_INPUT_REQUESTS + 1} things`, async () => {
    const server = await startModernOnly();
    const { manager, id } = managerFor(server.port);
    await waitForState(manager, id, 'active');
    asked = 0;
    await expect(manager.client(id).callTool({ name: 'nag', arguments: {} })).rejects.toThrow(
      /still required input after 10 rounds/,
    );
    expect(server.rounds()).toBe(MAX_INPUT_ROUNDS + 1);
    expect(asked).toBe(MAX_INPUT_ROUNDS);
    asked = 0;
    await expect(manager.client(id).callTool({ name: 'flood', arguments: {} })).rejects.toThrow(
      /asked the client 17 things at once; at most 16/,
    );
    expect(asked).toBe(0);
    expect(manager.get(id)?.state).toBe('active');
  });

  it('goes back to 2025 when the server at that address no longer offers 2026-07-28', async () => {
    const modern = await startModernOnly();
    const { manager, id } = managerFor(modern.port);
    await waitForState(manager, id, 'active');
    await modern.close();
    const legacy = await startMcpHttpServer([{ name: 'old', inputSchema: { type: 'object' } }], {
      port: modern.port,
      name: 'legacy-only',
    });
    cleanups.push(() => legacy.close());
    await waitFor(
      () =>
        manager.get(id)?.state === 'active' && manager.get(id)?.serverInfo?.name === 'legacy-only',
      {
        what: 'reconnected in 2025',
        timeoutMs: 20_000,
      },
    );
    expect(manager.get(id)?.catalog.tools.map((t) => t.name)).toEqual(['old']);
  });
});
