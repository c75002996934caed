import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { makeRecord, waitFor, waitForState } from '@mcp-beacon/test-utils';
import { NodeStreamableHTTPServerTransport } from '@modelcontextprotocol/node';
import { McpServer } from '@modelcontextprotocol/server';
import { afterEach, describe, expect, it } from 'vitest';
import { registerCount, rejection } from './_calls.fixture.js';
import { type ConnectionManager, createConnectionManager } from './index.js';

// `manager.call`, the one way a request reaches an instance: its result, the instance's own
// error as it was sent, the hub's own failures told apart, progress, cancellation.

const cleanups: Array<() => Promise<unknown>> = [];
let manager: ConnectionManager | undefined;
afterEach(async () => {
  await manager?.close();
  manager = undefined;
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

/** A streamable-HTTP server: `hello` answers, `count` reports progress, `hang` never answers. */
async function startServer() {
  const transports = new Map<string, NodeStreamableHTTPServerTransport>();
  let hung = 0;
  const http: Server = createServer(async (req, res) => {
    const id = req.headers['mcp-session-id'];
    let transport = typeof id === 'string' ? transports.get(id) : undefined;
    if (!transport) {
      const fresh = new NodeStreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (sid) => {
          transports.set(sid, fresh);
        },
      });
      transport = fresh;
      const server = new McpServer({ name: 'call-fixture', version: '1.0.0' });
      server.registerTool('hello', { description: 'hello' }, async () => ({
        content: [{ type: 'text', text: 'hi' }],
      }));
      registerCount(server);
      server.registerTool('hang', { description: 'never answers' }, async (ctx) => {
        hung++;
        await new Promise((resolve) => ctx.mcpReq.signal.addEventListener('abort', resolve));
        return { content: [] };
      });
      await server.connect(transport);
    }
    await transport.handleRequest(req, res);
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  cleanups.push(async () => {
    await Promise.allSettled([...transports.values()].map((t) => t.close()));
    http.closeAllConnections();
    await new Promise((resolve) => http.close(resolve));
  });
  return { url: `http://127.0.0.1:${port}/mcp`, port, hung: () => hung };
}

async function connected() {
  const server = await startServer();
  manager = createConnectionManager();
  const record = makeRecord({ name: 'calls', port: server.port, url: server.url });
  manager.upsert(record);
  await waitForState(manager, record.id, 'active');
  return { server, manager, id: record.id };
}

describe('manager.call', () => {
  it('answers with the result, and progress first when it is asked for', async () => {
    const { manager, id } = await connected();
    const call = (name: string) => ({ method: 'tools/call', params: { name, arguments: {} } });
    expect(await manager.call(id, call('hello'), { timeoutMs: 10_000 })).toMatchObject({
      content: [{ type: 'text', text: 'hi' }],
    });
    const progress: number[] = [];
    const result = await manager.call(id, call('count'), {
      timeoutMs: 10_000,
      onprogress: (p) => progress.push(p.progress),
    });
    expect(result).toMatchObject({ content: [{ type: 'text', text: 'counted' }] });
    expect(progress).toEqual([1, 2, 3]);
  });

  it('passes the instance’s own JSON-RPC error on as INSTANCE_ERROR, with and without progress', async () => {
    const { manager, id } = await connected();
    for (const onprogress of [undefined, () => undefined]) {
      const error = await rejection(
        manager.call(id, { method: 'nope/nothing', params: {} }, { timeoutMs: 10_000, onprogress }),
      );
      expect(error.code).toBe('INSTANCE_ERROR');
      expect(error.rpc?.code).toBe(-32601);
      expect(error.message).toBe(error.rpc?.message);
    }
  });

  it('fails an unknown or inactive instance before sending anything', async () => {
    manager = createConnectionManager();
    const error = await rejection(
      manager.call('nobody', { method: 'ping', params: {} }, { timeoutMs: 1_000 }),
    );
    expect(error.code).toBe('UNKNOWN_INSTANCE');
    const record = makeRecord({ name: 'down', port: 1, url: 'http://127.0.0.1:1/mcp' });
    manager.upsert(record);
    await manager.disconnect(record.id);
    const down = await rejection(
      manager.call(record.id, { method: 'ping', params: {} }, { timeoutMs: 1_000 }),
    );
    expect(down.code).toBe('NOT_CONNECTED');
    expect(down.message).toContain('instance down');
    expect(() => manager?.openSession(record.id)).toThrow(/instance down .* is disconnected/);
  });

  it('says which instance did not answer in time, on both ways a call travels', async () => {
    const { manager, id } = await connected();
    const hang = { method: 'tools/call', params: { name: 'hang', arguments: {} } };
    for (const onprogress of [undefined, () => undefined]) {
      const error = await rejection(manager.call(id, hang, { timeoutMs: 300, onprogress }));
      expect(error.code).toBe('TIMEOUT');
      expect(error.message).toBe('instance calls did not answer within 300 ms');
    }
    expect(manager.get(id)?.state).toBe('active');
  });

  it('rejects with the signal’s reason once the caller cancels', async () => {
    const { server, manager, id } = await connected();
    const abort = new AbortController();
    const call = manager.call(
      id,
      { method: 'tools/call', params: { name: 'hang', arguments: {} } },
      { timeoutMs: 60_000, signal: abort.signal },
    );
    await waitFor(() => server.hung() === 1, { what: 'the call running on the instance' });
    abort.abort(new Error('stop'));
    await expect(call).rejects.toThrow('stop');
  });
});
