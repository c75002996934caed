import type { InstanceSummary } from '@mcp-beacon/hub-mcp';
import { schemaOffences } from '@mcp-beacon/registry';
import { startProcess, testNode, waitFor } from '@mcp-beacon/test-utils';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { INSTANCE, useHubFixture } from './_hub-fixture.js';

// The default tool surface with real beacon-instances: each instance tool listed once, the
// project chosen by the `instance` argument, by the client's roots, or as the only one.
const fx = useHubFixture();

const call = async (client: Client, name: string, args: Record<string, unknown> = {}) =>
  (await client.callTool({ name, arguments: args })) as CallToolResult;
const text = (result: CallToolResult) => (result.content[0] as { text: string }).text;

async function activeNames(client: Client): Promise<string[]> {
  const result = await call(client, 'instances_list');
  return (result.structuredContent as { instances: InstanceSummary[] }).instances
    .filter((i) => i.state === 'active')
    .map((i) => i.name);
}

describe('one tool per definition through beacon-hub', () => {
  it('lists the same tools for one project and for three, each name within 48 characters', async () => {
    await fx.startInstance('web');
    const hub = await fx.startHubClient();
    const one = (await hub.client.listTools()).tools;
    await fx.startInstance('api');
    await fx.startInstance('docs');
    await waitFor(async () => (await activeNames(hub.client)).length === 3, { what: '3 active' });
    const three = (await hub.client.listTools()).tools;
    expect(three.map((t) => t.name)).toEqual(one.map((t) => t.name));
    expect(three.map((t) => t.name)).toContain('scripts_run');
    for (const tool of three) expect(tool.name.length).toBeLessThanOrEqual(48);
    const run = three.find((t) => t.name === 'scripts_run')!;
    // A project's words, read right from any project: the same list for one and for three.
    expect(run.description).toMatch(/^\[project\] Starts a package\.json script/);
    expect(JSON.stringify(three)).toBe(JSON.stringify(one));
    expect(run.inputSchema.properties).toHaveProperty('instance');
  });

  it('lists every hub and beacon-instance tool with schemas every model API takes, within 8 KB', async () => {
    await fx.startInstance('web');
    const hub = await fx.startHubClient();
    const { tools } = await hub.client.listTools();
    expect(tools).toHaveLength(18);
    for (const tool of tools) {
      expect(schemaOffences(tool.inputSchema), tool.name).toEqual([]);
      expect(tool.outputSchema, tool.name).toBeUndefined();
    }
    // Every byte of it is paid on every model turn.
    expect(Buffer.byteLength(JSON.stringify({ tools }))).toBeLessThanOrEqual(8 * 1024);
  });

  it('reaches a project started after the client’s only tools/list through a listed name', async () => {
    await fx.startInstance('web');
    const hub = await fx.startHubClient();
    const listed = (await hub.client.listTools()).tools.map((t) => t.name);
    const { record } = await fx.startInstance('late');
    await waitFor(async () => (await activeNames(hub.client)).includes('late'), {
      what: 'late active',
    });
    expect(listed).toContain('scripts_list');
    expect(text(await call(hub.client, 'scripts_list', { instance: 'late' }))).toContain(
      'hello from late',
    );
    expect(text(await call(hub.client, 'scripts_list', { instance: record.id }))).toContain(
      'hello from late',
    );
    const ambiguous = await call(hub.client, 'scripts_list');
    expect(ambiguous.isError).toBe(true);
    expect(text(ambiguous)).toMatch(/^scripts_list is offered by 2 instances: web \(.*late \(/);
  });

  it('runs a call without instance on the project holding the client’s root', async () => {
    await fx.startInstance('web');
    const { record: api } = await fx.startInstance('api');
    const hub = await fx.startHubClient([], { roots: [`${api.path}/src`] });
    await waitFor(async () => (await activeNames(hub.client)).length === 2, { what: '2 active' });
    expect(text(await call(hub.client, 'scripts_list'))).toContain('hello from api');
  });

  it('keeps the tool list byte for byte when a project restarts in its folder', async () => {
    const { proc, record } = await fx.startInstance('web');
    const hub = await fx.startHubClient();
    const before = JSON.stringify((await hub.client.listTools()).tools);
    await proc.kill('SIGTERM');
    await waitFor(async () => (await activeNames(hub.client)).length === 0, { what: 'web gone' });
    fx.track(
      startProcess(testNode, [INSTANCE], {
        cwd: record.path,
        env: { ...process.env, MCP_BEACON_HOME: fx.home },
      }),
    );
    await waitFor(async () => (await activeNames(hub.client)).length === 1, { what: 'web back' });
    expect(JSON.stringify((await hub.client.listTools()).tools)).toBe(before);
  });

  it('keeps namespaced names of long package names within 48 characters, distinct', async () => {
    const long = '@acme-corporation/customer-portal-frontend-application';
    await fx.startInstance(long);
    await fx.startInstance(long);
    const hub = await fx.startHubClient(['--tools', 'namespaced']);
    await waitFor(async () => (await activeNames(hub.client)).length === 2, { what: '2 active' });
    const names = (await hub.client.listTools()).tools.map((t) => t.name);
    const info = names.filter((n) => n.endsWith('__project_info'));
    expect(info).toHaveLength(2);
    expect(new Set(info).size).toBe(2);
    for (const name of names) expect(name.length).toBeLessThanOrEqual(48);
    expect(info[0]).toMatch(/^acme-corporation_[0-9a-f]{6}__project_info$/);
    expect(text(await call(hub.client, info[1]!))).toContain('customer-portal');
  });

  it('caps the list with --max-tools and finds the rest with instances_tools', async () => {
    await fx.startInstance('web');
    const hub = await fx.startHubClient(['--max-tools', '10']);
    const names = (await hub.client.listTools()).tools.map((t) => t.name);
    expect(names).toHaveLength(10);
    const found = await call(hub.client, 'instances_tools', { query: 'status of runs' });
    const tools = (found.structuredContent as { tools: { tool: string; listed_as: unknown }[] })
      .tools;
    // Listed: the hub's six, then the grouped ones by name, so scripts_status is left out.
    expect(names).not.toContain('scripts_status');
    expect(tools.find((t) => t.tool === 'scripts_status')?.listed_as).toBeNull();
    const viaCall = await call(hub.client, 'instances_call', {
      instance: 'web',
      tool: 'scripts_status',
    });
    expect(viaCall.isError).toBeFalsy();
  });
});
