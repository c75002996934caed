// The manager against a real server that speaks MCP 2026-07-28 only (SDK 2, `legacy: 'reject'`),
// over HTTP on 127.0.0.1: the refused handshake becomes the record's verdict, and the SDK client
// speaks 2026-07-28 to it (its server/discover kept for the next connect), within the hub's
// bounds on input_required rounds.
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { makeRecord, startMcpHttpServer, waitFor, waitForState } from '@mcp-beacon/test-utils';
import { type NodeIncomingMessageLike, toNodeHandler } from '@modelcontextprotocol/node';
import {
  createMcpHandler,
  inputRequired,
  LOG_LEVEL_META_KEY,
  McpServer,
  Server,
} from '@modelcontextprotocol/server';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { registerCount, rejection } from './_calls.fixture.js';
import { MAX_INPUT_REQUESTS, MAX_INPUT_ROUNDS, screenInputRequests } from './_modern.js';
import { type ConnectionManager, createConnectionManager } from './index.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

/** The 2026-07-28 envelope of a request, as the SDK server keeps it. */
const envelopeOf = (ctx: { mcpReq: unknown }): Record<string, unknown> =>
  (ctx.mcpReq as { envelope?: Record<string, unknown> }).envelope ?? {};

/** A modern-only server on `port` (0: any): `count` reports progress, `nag` never stops asking. */
async function startModernOnly(port = 0) {
  let rounds = 0;
  const waits = { started: 0, cancelled: 0 };
  const methods: string[] = [];
  const handler = createMcpHandler(
    () => {
      const server = new McpServer({ name: 'modern-only', version: '2.0.0' });
      registerCount(server);
      server.registerTool('level', { description: 'the log level asked for' }, async (ctx) => ({
        content: [{ type: 'text', text: String(envelopeOf(ctx)[LOG_LEVEL_META_KEY] ?? 'none') }],
      }));
      server.registerTool('wait', { description: 'runs until cancelled' }, async (ctx) => {
        waits.started++;
        await new Promise((resolve) =>
          ctx.mcpReq.signal.addEventListener('abort', resolve, { once: true }),
        );
        waits.cancelled++;
        return { content: [] };
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
  const http: HttpServer = createServer((req, res) => {
    const method = req.headers['mcp-method'];
    if (typeof method === 'string') methods.push(method);
    void serve(req as NodeIncomingMessageLike, res);
  });
  await new Promise<void>((resolve) => http.listen(port, '127.0.0.1', resolve));
  const close = async () => {
    await handler.close();
    http.closeAllConnections();
    await new Promise((resolve) => http.close(resolve));
  };
  cleanups.push(close);
  return {
    port: (http.address() as AddressInfo).port,
    close,
    rounds: () => rounds,
    methods,
    waits,
  };
}

/** Elicitations the managers' clients answered. */
let asked = 0;

function managerFor(port: number): { manager: ConnectionManager; id: string } {
  const manager = createConnectionManager({
    ping: { intervalMs: 60_000 },
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

const tool = (name: string) => ({ method: 'tools/call', params: { name, arguments: {} } });
const call = (manager: ConnectionManager, id: string, name: string) =>
  manager.call(id, tool(name), { timeoutMs: 20_000 });

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
    const subscribe = { method: 'resources/subscribe', params: { uri: 'note://a' } };
    expect(await manager.call(id, subscribe, { timeoutMs: 5_000 })).toEqual({});
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
    expect(manager.client(id).getProtocolEra()).toBe('modern');
    expect(
      manager
        .get(id)
        ?.catalog.tools.map((t) => t.name)
        .sort(),
    ).toEqual(['count', 'flood', 'level', 'nag', 'wait']);
    const progress: number[] = [];
    const result = await manager.call(id, tool('count'), {
      timeoutMs: 20_000,
      onprogress: (p) => progress.push(p.progress),
    });
    expect(result.content).toEqual([{ type: 'text', text: 'counted' }]);
    expect(progress).toEqual([1, 2, 3]);
  });

  it('cancels a call on the server when its caller aborts it', async () => {
    const server = await startModernOnly();
    const { manager, id } = managerFor(server.port);
    await waitForState(manager, id, 'active');
    const abort = new AbortController();
    const running = manager.call(id, tool('wait'), { timeoutMs: 60_000, signal: abort.signal });
    await waitFor(() => server.waits.started === 1, { what: 'wait running on the server' });
    abort.abort(new Error('no longer wanted'));
    await expect(running).rejects.toThrow('no longer wanted');
    await waitFor(() => server.waits.cancelled === 1, { what: 'the cancellation on the server' });
  });

  it('sends the log level asked for with each request, as 2026-07-28 has no setLevel', async () => {
    const server = await startModernOnly();
    const { manager, id } = managerFor(server.port);
    await waitForState(manager, id, 'active');
    expect((await call(manager, id, 'level')).content).toEqual([{ type: 'text', text: 'none' }]);
    const setLevel = { method: 'logging/setLevel', params: { level: 'warning' } };
    expect(await manager.call(id, setLevel, { timeoutMs: 5_000 })).toEqual({});
    expect((await call(manager, id, 'level')).content).toEqual([{ type: 'text', text: 'warning' }]);
    expect(server.methods).not.toContain('logging/setLevel');
  });

  it('starts the next connection from the kept server/discover answer, and pings with server/discover', async () => {
    const server = await startModernOnly();
    const { manager, id } = managerFor(server.port);
    await waitForState(manager, id, 'active');
    const discovered = server.methods.filter((m) => m === 'server/discover').length;
    expect(discovered).toBeGreaterThan(0);
    await manager.disconnect(id);
    await manager.connect(id);
    expect(manager.get(id)?.state).toBe('active');
    expect(server.methods.filter((m) => m === 'server/discover').length).toBe(discovered);
    expect(server.methods).not.toContain('initialize');
    // The health check of a 2026-07-28 connection.
    await manager.client(id).discover();
    expect(server.methods.filter((m) => m === 'server/discover').length).toBe(discovered + 1);
  });

  it(`fails a request still asking after ${MAX_INPUT_ROUNDS} rounds, or asking ${MAX_INPUT_REQUESTS + 1} things`, async () => {
    const server = await startModernOnly();
    const { manager, id } = managerFor(server.port);
    await waitForState(manager, id, 'active');
    asked = 0;
    const nag = await rejection(call(manager, id, 'nag'));
    expect(nag.code).toBe('REQUEST_FAILED');
    expect(nag.message).toMatch(/^instance \S+ failed: .*10/);
    expect(server.rounds()).toBe(MAX_INPUT_ROUNDS + 1);
    expect(asked).toBe(MAX_INPUT_ROUNDS);
    asked = 0;
    const flood = await rejection(call(manager, id, 'flood'));
    expect(flood.code).toBe('INSTANCE_ERROR');
    expect(flood.message).toBe(
      'the instance asked the client 17 things at once; at most 16 are carried',
    );
    expect(asked).toBe(0);
    expect(manager.get(id)?.state).toBe('active');
  });

  it('refuses an input request that is not one of sampling, elicitation or roots', () => {
    const asking = (method: string) => ({
      jsonrpc: '2.0' as const,
      id: 7,
      result: { resultType: 'input_required', inputRequests: { a: { method, params: {} } } },
    });
    expect(screenInputRequests(asking('tools/call'))).toEqual({
      jsonrpc: '2.0',
      id: 7,
      error: {
        code: -32602,
        message: 'the instance asked the client for tools/call, which is not an input request',
      },
    });
    const fine = asking('elicitation/create');
    expect(screenInputRequests(fine)).toBe(fine);
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
