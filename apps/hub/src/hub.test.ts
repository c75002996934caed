import { randomUUID } from 'node:crypto';
import { mkdir, readdir, symlink, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import path from 'node:path';
import type { InstanceSummary } from '@mcp-beacon/hub-mcp';
import { resolvePaths } from '@mcp-beacon/paths';
import { writeInstance } from '@mcp-beacon/registry';
import { splitAnswer, startProcess, testNode, waitFor } from '@mcp-beacon/test-utils';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { HUB, INSTANCE, useHubFixture } from './_hub-fixture.js';

const fx = useHubFixture();
const { records, startInstance } = fx;
// These tests pin the namespaced surface (`--tools namespaced`, each instance's tools as
// <slug>__<tool>), which stays as it was; grouped.test.ts covers the default surface.
const startHubClient = (args: string[] = []) =>
  fx.startHubClient(['--tools', 'namespaced', ...args]);

async function listInstances(client: Client) {
  const result = (await client.callTool({
    name: 'instances_list',
    arguments: {},
  })) as CallToolResult;
  return (result.structuredContent as { instances: InstanceSummary[] }).instances;
}

async function toolNames(client: Client): Promise<string[]> {
  return (await client.listTools()).tools.map((t) => t.name).sort();
}

describe('beacon-hub over stdio', () => {
  it('answers initialize with no instances, then discovers one with a list_changed', async () => {
    const hub = await startHubClient();
    expect(hub.client.getServerVersion()?.name).toBe('beacon-hub');
    expect(await toolNames(hub.client)).toEqual([
      'instances_call',
      'instances_connect',
      'instances_disconnect',
      'instances_list',
      'instances_start',
      'instances_tools',
    ]);
    const { record } = await startInstance('web');
    await waitFor(
      async () =>
        (await listInstances(hub.client)).some((i) => i.id === record.id && i.state === 'active'),
      { what: 'active' },
    );
    await waitFor(() => hub.listChanged() > 0, { what: 'list_changed' });
    const names = await toolNames(hub.client);
    expect(names).toContain('web__scripts_run');
    expect(names).toContain('web__logs_get');
    const tool = (await hub.client.listTools()).tools.find((t) => t.name === 'web__scripts_run');
    expect(tool?.description).toMatch(/^\[web\] Starts a package.json script/);
    expect(tool?.inputSchema.required).toEqual(['name']);
    expect(hub.transportErrors).toEqual([]);
  });

  it('returns exactly what the instance returns', async () => {
    const { record } = await startInstance('api');
    const hub = await startHubClient();
    await waitFor(async () => (await toolNames(hub.client)).includes('api__scripts_list'), {
      what: 'tools',
    });
    const direct = new Client({ name: 'direct', version: '1.0.0' });
    await direct.connect(
      new StreamableHTTPClientTransport(new URL(record.url), {
        requestInit: { headers: { authorization: `Bearer ${record.token}` } },
      }),
    );
    fx.trackClient(direct);
    const viaHub = splitAnswer(
      (await hub.client.callTool({ name: 'api__scripts_list', arguments: {} })) as CallToolResult,
    );
    const straight = await direct.callTool({ name: 'scripts_list', arguments: {} });
    // As the instance answered, plus a last line and _meta saying who that was.
    expect(viaHub.own).toEqual(straight);
    expect(viaHub.line).toBe(`answered by api (${record.path})`);
    expect(viaHub.by).toEqual({ id: record.id, name: 'api', slug: 'api', location: record.path });
    const routed = splitAnswer(
      (await hub.client.callTool({
        name: 'instances_call',
        arguments: { instance: 'api', tool: 'scripts_list', arguments: {} },
      })) as CallToolResult,
    );
    expect(routed.own).toEqual(straight);
    expect(routed.line).toBe(viaHub.line);
    const error = (await hub.client.callTool({
      name: 'api__scripts_run',
      arguments: { name: 'nope' },
    })) as CallToolResult;
    const directError = (await direct.callTool({
      name: 'scripts_run',
      arguments: { name: 'nope' },
    })) as CallToolResult;
    expect(splitAnswer(error).own).toEqual(directError);
    expect(splitAnswer(error).line).toBe(viaHub.line);
    expect(error.isError).toBe(true);
  });

  it('drops an instance stopped with SIGTERM', async () => {
    const { proc, record } = await startInstance('svc');
    const hub = await startHubClient();
    await waitFor(async () => (await toolNames(hub.client)).includes('svc__project_info'));
    const changesBefore = hub.listChanged();
    proc.child.kill('SIGTERM');
    // Not polling tools/list here: a client that lists the new state needs no notification.
    await waitFor(() => hub.listChanged() > changesBefore, { what: 'list_changed on removal' });
    expect(await toolNames(hub.client)).not.toContain('svc__project_info');
    expect((await listInstances(hub.client)).some((i) => i.id === record.id)).toBe(false);
    expect(await proc.exited).toEqual({ code: 0, signal: null });
  });

  it('drops an instance killed with SIGKILL and removes its file', async () => {
    const { proc, record } = await startInstance('crashy');
    const hub = await startHubClient();
    await waitFor(async () =>
      (await listInstances(hub.client)).some((i) => i.id === record.id && i.state === 'active'),
    );
    await proc.kill('SIGKILL');
    await waitFor(async () => (await records()).every((r) => r.id !== record.id), {
      what: 'file cleaned',
    });
    await waitFor(async () => !(await listInstances(hub.client)).some((i) => i.id === record.id), {
      what: 'gone from list',
    });
    await waitFor(() => hub.stderr().includes(`process ${record.pid} is gone`), {
      what: 'the reason logged',
    });
  });

  it('times out a hung instance while another keeps answering', async () => {
    const frozen = await startInstance('frozen');
    await startInstance('lively');
    const hub = await startHubClient(['--call-timeout', '800']);
    await waitFor(
      async () => {
        const names = await toolNames(hub.client);
        return names.includes('frozen__project_info') && names.includes('lively__project_info');
      },
      { what: 'both connected' },
    );
    frozen.proc.child.kill('SIGSTOP');
    try {
      const [hung, alive] = await Promise.all([
        hub.client.callTool({
          name: 'frozen__scripts_list',
          arguments: {},
        }) as Promise<CallToolResult>,
        hub.client.callTool({
          name: 'lively__scripts_list',
          arguments: {},
        }) as Promise<CallToolResult>,
      ]);
      expect(hung.isError).toBe(true);
      expect(JSON.stringify(hung.content)).toContain('did not answer within 800 ms');
      expect(alive.isError).toBeFalsy();
    } finally {
      frozen.proc.child.kill('SIGCONT');
    }
  });

  it('ignores garbage files and stays alive', async () => {
    const paths = resolvePaths({ home: fx.home });
    await mkdir(paths.instances, { recursive: true });
    await writeFile(
      path.join(paths.instances, '0b0e6f5c-0b7e-4c5e-9d7a-4f7a0c3e9b11.json'),
      '{ nope',
    );
    await writeFile(path.join(paths.instances, 'random.json'), 'x');
    await writeFile(
      path.join(paths.instances, `${'1b0e6f5c-0b7e-4c5e-9d7a-4f7a0c3e9b11'}.json`),
      JSON.stringify({
        id: '1b0e6f5c-0b7e-4c5e-9d7a-4f7a0c3e9b11',
        pid: 1,
        path: '/',
        port: 80,
        started: 'x',
        name: 'bad',
        has_package_json: false,
        last_seen: 'x',
        url: 'http://192.168.0.1/mcp',
      }),
    );
    await symlink(
      '/etc/passwd',
      path.join(paths.instances, '2b0e6f5c-0b7e-4c5e-9d7a-4f7a0c3e9b11.json'),
    );
    const hub = await startHubClient();
    const { record } = await startInstance('good');
    await waitFor(async () =>
      (await listInstances(hub.client)).some((i) => i.id === record.id && i.state === 'active'),
    );
    expect((await listInstances(hub.client)).map((i) => i.name)).toEqual(['good']);
    expect(hub.stderr()).toContain('INVALID_JSON');
    expect(hub.stderr()).toContain('SYMLINK');
    expect(hub.stderr()).toContain('loopback');
    expect(await readdir(paths.instances)).toHaveLength(5);
  });

  it('gives two instances with the same name distinct slugs', async () => {
    await startInstance('twin');
    await startInstance('twin');
    const hub = await startHubClient();
    await waitFor(
      async () =>
        (await listInstances(hub.client)).filter((i) => i.state === 'active').length === 2,
    );
    const list = await listInstances(hub.client);
    const slugs = list.map((i) => i.slug).sort();
    // The first keeps the plain slug; the second is told apart by its project's parent folder.
    const parent = path
      .basename(fx.tmp.path)
      .toLowerCase()
      .replace(/[^a-z0-9_-]+/g, '_');
    expect(slugs).toEqual(['twin', `twin_${parent}`]);
    const names = await toolNames(hub.client);
    for (const slug of slugs) expect(names).toContain(`${slug}__project_info`);
    const ambiguous = (await hub.client.callTool({
      name: 'instances_connect',
      arguments: { instance: 'twin' },
    })) as CallToolResult;
    expect(ambiguous.isError).toBe(true);
    expect(JSON.stringify(ambiguous.content)).toContain('matches 2 instances');
  });

  it('reconnects an instance restarted on a new port', async () => {
    const first = await startInstance('restart');
    const hub = await startHubClient();
    await waitFor(async () => (await toolNames(hub.client)).includes('restart__project_info'));
    await first.proc.kill('SIGTERM');
    await waitFor(async () => !(await toolNames(hub.client)).includes('restart__project_info'), {
      what: 'gone',
    });
    // Restarted in its own folder: it takes its names back (another folder would get others).
    fx.track(
      startProcess(testNode, [INSTANCE], {
        cwd: first.record.path,
        env: { ...process.env, MCP_BEACON_HOME: fx.home },
      }),
    );
    const second = {
      record: await waitFor(
        async () => (await fx.records()).find((r) => r.path === first.record.path),
        { what: 'the restarted record' },
      ),
    };
    expect(second.record.port).not.toBe(first.record.port);
    await waitFor(async () => (await toolNames(hub.client)).includes('restart__project_info'), {
      what: 'back',
    });
    const info = (await hub.client.callTool({
      name: 'restart__project_info',
      arguments: {},
    })) as CallToolResult;
    expect((info.structuredContent as { url: string }).url).toBe(second.record.url);
  });

  it('disconnects and reconnects on request', async () => {
    const { record } = await startInstance('toggle');
    const hub = await startHubClient();
    await waitFor(async () => (await toolNames(hub.client)).includes('toggle__project_info'));
    const off = (await hub.client.callTool({
      name: 'instances_disconnect',
      arguments: { instance: record.id.slice(0, 8) },
    })) as CallToolResult;
    expect(off.isError).toBeFalsy();
    expect(off.structuredContent).toMatchObject({ state: 'disconnected' }); // not `dead`
    await waitFor(async () => !(await toolNames(hub.client)).includes('toggle__project_info'));
    const viaName = (await hub.client
      .callTool({ name: 'toggle__project_info', arguments: {} })
      .catch((e: Error) => e)) as Error;
    expect(viaName.message).toContain('Unknown tool: toggle__project_info');
    const on = (await hub.client.callTool({
      name: 'instances_connect',
      arguments: { instance: 'toggle' },
    })) as CallToolResult;
    expect(on.isError).toBeFalsy();
    expect((on.structuredContent as { tools: string[] }).tools).toContain('toggle__project_info');
  });

  it('refuses a bad data folder in one line, exit code 2, and tells the MCP client why', async () => {
    const proc = startProcess(testNode, [HUB, 'list'], {
      env: { ...process.env, MCP_BEACON_HOME: '~bob/beacon' },
    });
    expect((await proc.exited).code).toBe(2);
    expect(proc.stderr().trim().split('\n')).toEqual([
      expect.stringContaining('only ~/ (your own home) is expanded'),
    ]);
    // Launched by a client: the same reason answers its initialize.
    const client = new Client({ name: 'test', version: '1.0.0' });
    const transport = new StdioClientTransport({
      command: testNode,
      args: [HUB, '--standalone', '--standalone'],
      env: { ...(process.env as Record<string, string>), MCP_BEACON_HOME: 'relative/dir' },
      stderr: 'pipe',
    });
    await expect(client.connect(transport)).rejects.toThrow(
      /MCP_BEACON_HOME must be an absolute path/,
    );
    await client.close().catch(() => undefined);
  });

  it('exits cleanly when stdin closes', async () => {
    const proc = startProcess(testNode, [HUB, '--standalone', '--standalone'], {
      env: { ...process.env, MCP_BEACON_HOME: fx.home },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    fx.track(proc);
    proc.child.stdin?.end();
    expect(await proc.exited).toEqual({ code: 0, signal: null });
    expect(proc.stdout()).toBe('');
  });
});

describe('beacon-hub list', () => {
  it('prints a table and JSON of the instances it finds', async () => {
    const { record } = await startInstance('listed');
    const json = startProcess(testNode, [HUB, 'list', '--json'], {
      env: { ...process.env, MCP_BEACON_HOME: fx.home },
    });
    expect((await json.exited).code).toBe(0);
    expect(JSON.parse(json.stdout())).toMatchObject({
      instances: [
        {
          id: record.id,
          name: 'listed',
          slug: 'listed',
          process: 'alive',
          heartbeat: 'fresh',
          url: record.url,
        },
      ],
      invalid: [],
    });
    const table = startProcess(testNode, [HUB, 'list'], {
      env: { ...process.env, MCP_BEACON_HOME: fx.home },
    });
    await table.exited;
    expect(table.stdout()).toMatch(/^NAME\s+SLUG\s+ID\s+URL/);
    expect(table.stdout()).toContain(record.id.slice(0, 8));
  });

  it('marks a crashed instance stale and reports invalid files', async () => {
    const { proc, record } = await startInstance('crashed');
    await proc.kill('SIGKILL');
    const bad = path.join(resolvePaths({ home: fx.home }).instances, `${randomUUID()}.json`);
    await writeFile(bad, '{ not json');
    const json = startProcess(testNode, [HUB, 'list', '--json'], {
      env: { ...process.env, MCP_BEACON_HOME: fx.home },
    });
    expect((await json.exited).code).toBe(0);
    const listed = JSON.parse(json.stdout());
    expect(listed.instances).toEqual([
      expect.objectContaining({ id: record.id, process: 'stale' }),
    ]);
    expect(listed.invalid).toEqual([
      { file: bad, reason: expect.stringContaining('INVALID_JSON') },
    ]);
    const table = startProcess(testNode, [HUB, 'list'], {
      env: { ...process.env, MCP_BEACON_HOME: fx.home },
    });
    await table.exited;
    expect(table.stdout()).toContain('stale');
    expect(table.stderr()).toContain(`ignored ${bad}`);
  });

  it('--watch shows each change as a line when not on a terminal, and exits on Ctrl-C', async () => {
    const watch = startProcess(testNode, [HUB, 'list', '--watch'], {
      env: { ...process.env, MCP_BEACON_HOME: fx.home },
    });
    fx.track(watch);
    await waitFor(() => watch.stdout().includes('watching'), { what: 'watch started' });
    const { proc, record } = await startInstance('watched');
    const id = record.id.slice(0, 8);
    await waitFor(
      () => new RegExp(`watched \\(${id}\\) active .*, 12 tools`).test(watch.stdout()),
      {
        what: 'active line',
      },
    );
    await proc.kill('SIGTERM');
    await waitFor(() => watch.stdout().includes(`watched (${id}) removed`), {
      what: 'removed line',
    });
    watch.child.kill('SIGINT');
    expect(await watch.exited).toEqual({ code: 0, signal: null });
    // biome-ignore lint/suspicious/noControlCharactersInRegex: lines, not a redrawn screen
    expect(watch.stdout()).not.toMatch(/\x1b/);
  });

  it('reports an expired heartbeat of a live process', async () => {
    const old = new Date(Date.now() - 60_000).toISOString();
    const id = randomUUID();
    await writeInstance(resolvePaths({ home: fx.home }), {
      id,
      pid: process.pid,
      path: '/tmp/hung',
      port: 1,
      name: 'hung',
      has_package_json: true,
      started: old,
      last_seen: old,
    });
    const json = startProcess(testNode, [HUB, 'list', '--json'], {
      env: { ...process.env, MCP_BEACON_HOME: fx.home },
    });
    expect((await json.exited).code).toBe(0);
    expect(JSON.parse(json.stdout()).instances).toEqual([
      expect.objectContaining({ id, process: 'alive', heartbeat: 'expired' }),
    ]);
  });

  it('shows a hostile name and path escaped, never raw', async () => {
    const now = new Date().toISOString();
    const hostile = 'evil\x1b]0;pwned\x07\x1b[2J\nfake  row';
    await writeInstance(resolvePaths({ home: fx.home }), {
      id: randomUUID(),
      pid: process.pid,
      path: `/tmp/${hostile}`,
      port: 1,
      name: hostile,
      has_package_json: true,
      started: now,
      last_seen: now,
    });
    const table = startProcess(testNode, [HUB, 'list'], {
      env: { ...process.env, MCP_BEACON_HOME: fx.home },
    });
    expect((await table.exited).code).toBe(0);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: asserting their absence
    expect(table.stdout()).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/);
    expect(table.stdout()).toContain('evil\\x0afake  row');
    expect(table.stdout().trimEnd().split('\n')).toHaveLength(2); // the header and one row
  });

  it('answers --help and --version', async () => {
    const help = startProcess(testNode, [HUB, '--help']);
    await help.exited;
    expect(help.stdout()).toContain('beacon-hub list');
    const version = startProcess(testNode, [HUB, '--version']);
    await version.exited;
    expect(version.stdout().trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});

describe('beacon-hub: first contact, sessions, quiet logs', () => {
  it('answers the first tools/list with every instance already running', async () => {
    const names = ['first', 'second', 'third'];
    for (const name of names) await startInstance(name);
    // Each run is a client that lists once, right after initialize, as one-shot clients do.
    for (let run = 0; run < 3; run++) {
      const hub = await startHubClient();
      const listed = await toolNames(hub.client);
      for (const name of names) expect(listed).toContain(`${name}__scripts_run`);
      await hub.client.close();
    }
  });

  it('ends its session on the instance when it disconnects and when it shuts down', async () => {
    const { proc, record } = await startInstance('sessions', ['--log-level', 'debug']);
    const closedSessions = () => (proc.stderr().match(/session \S+ closed/g) ?? []).length;
    const hub = await startHubClient();
    await waitFor(
      async () =>
        (await listInstances(hub.client)).some((i) => i.id === record.id && i.state === 'active'),
      { what: 'active' },
    );
    await hub.client.callTool({ name: 'instances_disconnect', arguments: { instance: record.id } });
    await waitFor(() => closedSessions() === 1, { what: 'session ended on disconnect' });
    await hub.client.callTool({ name: 'instances_connect', arguments: { instance: record.id } });
    await hub.client.close();
    await waitFor(() => closedSessions() === 2, { what: 'session ended on shutdown' });
  });

  it('logs each failing instance once, and its retries only at debug level', async () => {
    const paths = resolvePaths({ home: fx.home });
    await mkdir(paths.instances, { recursive: true, mode: 0o700 });
    const closedPort = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port } = server.address() as AddressInfo;
        server.close(() => resolve(port));
      });
    });
    const count = 100;
    const now = new Date().toISOString();
    for (let i = 0; i < count; i++) {
      const id = randomUUID();
      const record = {
        id,
        pid: process.pid,
        path: path.join(fx.tmp.path, `ghost${i}`),
        port: closedPort,
        started: now,
        name: `ghost${i}`,
        has_package_json: true,
        last_seen: now,
        version: 1,
      };
      await writeFile(path.join(paths.instances, `${id}.json`), JSON.stringify(record), {
        mode: 0o600,
      });
    }
    const hub = await startHubClient();
    const lines = (level: string) =>
      hub
        .stderr()
        .split('\n')
        .filter((l) => l.includes(` ${level} `) && l.includes('ghost'));
    // Wait for two retries of every instance, seen at debug level.
    await waitFor(() => lines('debug').filter((l) => /-> retrying/.test(l)).length >= 2 * count, {
      what: 'retries',
      timeoutMs: 30_000,
    });
    const warnings = lines('warn');
    expect(warnings).toHaveLength(count);
    expect(new Set(warnings.map((l) => /ghost\d+/.exec(l)?.[0])).size).toBe(count);
  });
});
