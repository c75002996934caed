import {
  type McpHttpServer,
  makeRecord,
  startMcpHttpServer,
  startProcess,
  testNode,
  waitFor,
  waitForState,
} from '@mcp-beacon/test-utils';
import type { Tool } from '@modelcontextprotocol/server';
import { afterEach, describe, expect, it } from 'vitest';
import { type ConnectionManager, createConnectionManager } from './index.js';

// What one instance may cost the hub: its catalog is cut at a bound and says so, and its
// list_changed notifications, however many, are coalesced into rate-limited refetches.

const closers: Array<() => Promise<void>> = [];
let manager: ConnectionManager | undefined;
afterEach(async () => {
  await manager?.close();
  manager = undefined;
  for (const close of closers.splice(0)) await close();
});

async function serve(tools: unknown[]): Promise<McpHttpServer> {
  const server = await startMcpHttpServer(tools);
  closers.push(() => server.close());
  return server;
}

const tool = (name: string): Tool => ({
  name,
  description: `the ${name} tool`,
  inputSchema: { type: 'object' },
});
const recordOf = (s: McpHttpServer) => makeRecord({ port: s.port, url: s.url });

describe('per-instance bounds', () => {
  it('keeps 1,000 of 50,000 tools, says why, and coalesces a list_changed every 10 ms', async () => {
    const hostile = await serve(Array.from({ length: 50_000 }, (_, i) => tool(`t${i}`)));
    const healthy = await serve([tool('echo')]);
    manager = createConnectionManager({ refreshIntervalMs: 200 });
    const bad = recordOf(hostile);
    const good = recordOf(healthy);
    manager.upsert(bad);
    manager.upsert(good);
    await waitForState(manager, bad.id, 'active');
    await waitForState(manager, good.id, 'active');
    const info = manager.get(bad.id)!;
    expect(info.catalog.tools).toHaveLength(1_000);
    expect(info.catalog.tools[999]!.name).toBe('t999');
    expect(info.catalogTruncated).toBe('tools: more than 1000');
    expect(manager.get(good.id)!.catalogTruncated).toBeUndefined();

    const before = hostile.lists();
    const healthyBefore = healthy.lists();
    const t0 = Date.now();
    hostile.flood(10);
    healthy.flood(10);
    // Waited for rather than timed, so a loaded machine only makes it take longer.
    await waitFor(() => healthy.lists() - healthyBefore > 2 && hostile.lists() - before > 0, {
      what: 'both refetched',
      timeoutMs: 20_000,
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    const refetches = hostile.lists() - before;
    const healthyRefetches = healthy.lists() - healthyBefore;
    const elapsed = Date.now() - t0;
    // A notification every 10 ms each. The healthy one is refetched every 200 ms at most (plus
    // one in flight); the one already cut at its bound ten times less often.
    expect(refetches).toBeLessThanOrEqual(Math.ceil(elapsed / 2_000) + 1);
    expect(healthyRefetches).toBeLessThanOrEqual(Math.ceil(elapsed / 200) + 1);
    const result = await manager.client(good.id).callTool({ name: 'echo', arguments: {} });
    expect(result.content).toEqual([{ type: 'text', text: 'called echo' }]);
    expect(manager.get(bad.id)!.state).toBe('active');
  });

  it('cuts a catalog at its byte bound and leaves out invalid entries, keeping the rest', async () => {
    const big = await serve(
      Array.from({ length: 25 }, (_, i) => ({ ...tool(`t${i}`), description: 'x'.repeat(1_000) })),
    );
    const mixed = await serve([tool('ok1'), { name: 5 }, { description: 'no name' }, tool('ok2')]);
    manager = createConnectionManager({ catalogLimits: { bytes: 20_000 } });
    const a = recordOf(big);
    const b = recordOf(mixed);
    manager.upsert(a);
    manager.upsert(b);
    await waitForState(manager, a.id, 'active');
    await waitForState(manager, b.id, 'active');
    const cut = manager.get(a.id)!;
    expect(cut.catalog.tools.length).toBeGreaterThan(10);
    expect(cut.catalog.tools.length).toBeLessThan(20);
    expect(JSON.stringify(cut.catalog.tools).length).toBeLessThanOrEqual(20_000 + 100);
    expect(cut.catalogTruncated).toBe('tools: the catalog is over 20000 bytes');
    const kept = manager.get(b.id)!;
    expect(kept.catalog.tools.map((t) => t.name)).toEqual(['ok1', 'ok2']);
    expect(kept.catalogTruncated).toBe('tools: 2 invalid entries left out');
  });

  it('contains a configureClient hook that throws: logged, and the connection still comes up', async () => {
    const server = await serve([tool('echo')]);
    const logged: string[] = [];
    manager = createConnectionManager({
      configureClient: () => {
        throw new Error('hook broke');
      },
      log: (message) => logged.push(message),
    });
    manager.onClient(() => {
      throw new Error('listener broke');
    });
    const r = recordOf(server);
    manager.upsert(r);
    await waitForState(manager, r.id, 'active');
    await waitFor(() => logged.length === 2, { what: 'both logged' });
    expect(logged).toEqual([
      'configureClient threw: hook broke',
      'an onClient hook threw: listener broke',
    ]);
  });

  it('reaches a localhost record at the address its process listens on, never another user’s', async () => {
    // The record's process listens on [::1]:P only; another process listens on 127.0.0.1:P,
    // where this machine's `localhost` resolves. The token must only ever go to [::1].
    const owner = await startMcpHttpServer([tool('echo')], { host: '::1' });
    closers.push(() => owner.close());
    const squatter = startProcess(
      testNode,
      [
        '-e',
        `require('net').createServer((s) => s.on('data', (d) => console.log('GOT ' + d.toString().split('\\r\\n')[0]))).listen(${owner.port}, '127.0.0.1', () => console.log('ready'))`,
      ],
      {},
    );
    closers.push(async () => void (await squatter.kill()));
    await waitFor(() => squatter.stdout().includes('ready'), { what: 'the other listener' });
    manager = createConnectionManager({});
    const record = makeRecord({
      port: owner.port,
      url: `http://localhost:${owner.port}/mcp`,
      token: 'never-for-the-squatter',
    });
    manager.upsert(record);
    await waitForState(manager, record.id, 'active');
    const result = await manager.client(record.id).callTool({ name: 'echo', arguments: {} });
    expect(result.content).toEqual([{ type: 'text', text: 'called echo' }]);
    expect(squatter.stdout()).not.toContain('GOT');
    // What a hub serving remotes connects its channels to, as well.
    expect(manager.get(record.id)?.connectedUrl).toBe(`http://[::1]:${owner.port}/mcp`);
  });
});
