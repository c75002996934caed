import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { InstanceSummary } from '@mcp-beacon/hub-mcp';
import { resolvePaths } from '@mcp-beacon/paths';
import { writeInstance } from '@mcp-beacon/registry';
import { makeRecord, startMcpHttpServer, waitFor } from '@mcp-beacon/test-utils';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { useHubFixture } from './_hub-fixture.js';

// One announced server that lists 50,000 tools and says they changed every 10 ms, beside a
// real beacon-instance: the hub keeps a bounded catalog of it, stays small, and lives.
const fx = useHubFixture();
const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

const EMPTY_FLOOD = fileURLToPath(new URL('./_fixtures/empty-flood.mjs', import.meta.url));

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

const rssMib = (pid: number) =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024;

describe('a hostile server beside a healthy instance', () => {
  it('is cut at 1,000 tools, said so, and costs the hub neither its life nor its memory', async () => {
    const hostile = await startMcpHttpServer(
      Array.from({ length: 50_000 }, (_, i) => ({
        name: `tool_${i}`,
        description: `tool number ${i}`,
        inputSchema: { type: 'object' },
      })),
    );
    stops.push(() => hostile.close());
    await fx.startInstance('healthy');
    const paths = resolvePaths({ home: fx.home });
    const record = makeRecord({ port: hostile.port, url: hostile.url, name: 'hostile' });
    await writeInstance(paths, record);

    const hub = await fx.startHubClient();
    const list = async () =>
      (
        ((await hub.client.callTool({ name: 'instances_list', arguments: {} })) as CallToolResult)
          .structuredContent as { instances: InstanceSummary[] }
      ).instances;
    await waitFor(async () => (await list()).every((i) => i.state === 'active'), {
      what: 'both active',
    });
    hostile.flood(10);
    const fetchesBefore = hostile.lists();
    let peak = 0;
    const t0 = Date.now();
    while (Date.now() - t0 < 5_000) {
      const answer = (await hub.client.callTool({
        name: 'scripts_list',
        arguments: { instance: 'healthy' },
      })) as CallToolResult;
      expect(answer.isError).toBeFalsy();
      peak = Math.max(peak, rssMib(hub.pid));
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const fetches = hostile.lists() - fetchesBefore;
    const bad = (await list()).find((i) => i.name === 'hostile')!;
    expect(bad).toMatchObject({
      state: 'active',
      tool_count: 1_000,
      catalog_truncated: 'tools: more than 1000',
    });
    // About 500 notifications in 5 s; one refetch a second at most, plus one in flight.
    expect(fetches).toBeLessThanOrEqual(7);
    expect(peak).toBeLessThan(200);
    // The tool list holds the hostile server's first 1,000, not 50,000.
    const { tools } = await hub.client.listTools();
    expect(tools.length).toBeLessThan(1_100);
  });
});

describe('an instance that answers every list with 20,000,000 empty entries', () => {
  it('is cut while it is read, and a healthy instance beside it keeps answering', async () => {
    await fx.startInstance('healthy');
    const hub = await fx.startHubClient();
    const list = async () =>
      (
        ((await hub.client.callTool({ name: 'instances_list', arguments: {} })) as CallToolResult)
          .structuredContent as { instances: InstanceSummary[] }
      ).instances;
    await waitFor(async () => (await list()).some((i) => i.state === 'active'), {
      what: 'healthy active',
    });
    const timedCall = async () => {
      const t0 = performance.now();
      const answer = (await hub.client.callTool({
        name: 'scripts_list',
        arguments: { instance: 'healthy' },
      })) as CallToolResult;
      expect(answer.isError).toBeFalsy();
      return performance.now() - t0;
    };
    const before: number[] = [];
    for (let i = 0; i < 40; i++) before.push(await timedCall());

    const { proc: flood } = await fx.announceFixture(EMPTY_FLOOD, 'flood');

    // Calls go on while the hub connects to it, reads its lists and takes its list_changed flood.
    const during: number[] = [];
    let peak = 0;
    let activeAt: number | undefined;
    while (activeAt === undefined || performance.now() - activeAt < 3_000) {
      during.push(await timedCall());
      peak = Math.max(peak, rssMib(hub.pid));
      if (activeAt === undefined) {
        const bad = (await list()).find((i) => i.name === 'flood');
        if (bad?.state === 'active') activeAt = performance.now();
      }
    }
    const bad = (await list()).find((i) => i.name === 'flood')!;
    expect(bad.tool_count).toBe(0);
    expect(bad.catalog_truncated).toMatch(/tools: a page was cut while read .*150000 objects/);
    expect(flood.stderr()).toMatch(/list tools\/list/);
    // Not one call waited a second, the typical one stayed within twice its time before (plus
    // a few ms of noise), and the hub stayed small.
    expect(Math.max(...during)).toBeLessThan(1_000);
    expect(median(during)).toBeLessThanOrEqual(2 * median(before) + 5);
    expect(peak).toBeLessThan(300);
  });
});
