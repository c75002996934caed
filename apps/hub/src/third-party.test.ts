import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { HUB_CLIENT_CAPABILITIES } from '@mcp-beacon/hub-mcp';
import { resolvePaths } from '@mcp-beacon/paths';
import { readInstanceDir } from '@mcp-beacon/registry';
import {
  createTempDir,
  freePort,
  splitAnswer,
  startProcess,
  type TempDir,
  type TestProcess,
  testNode,
  waitFor,
} from '@mcp-beacon/test-utils';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  type CallToolResult,
  CreateMessageRequestSchema,
  type JSONRPCMessage,
  LoggingMessageNotificationSchema,
  ResourceUpdatedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// A real third-party MCP server (the protocol's reference "everything" server), announced with
// `beacon-instance announce` and reached through the hub like any instance.
const HUB = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const INSTANCE = fileURLToPath(new URL('../../instance/dist/cli.js', import.meta.url));
const EVERYTHING = fileURLToPath(
  import.meta.resolve('@modelcontextprotocol/server-everything/package.json'),
).replace(/package\.json$/, 'dist/index.js');

let tmp: TempDir;
let everything: TestProcess;
let announcer: TestProcess;
let hub: Client;
let direct: Client;
let url: string;
const wire: JSONRPCMessage[] = [];
const updates: string[] = [];
const logs: Array<{ logger?: string | undefined; level: string }> = [];

beforeAll(async () => {
  tmp = await createTempDir();
  const home = path.join(tmp.path, 'home');
  const port = await freePort();
  url = `http://127.0.0.1:${port}/mcp`;
  everything = startProcess(testNode, [EVERYTHING, 'streamableHttp'], {
    env: { ...process.env, PORT: String(port) },
  });
  await everything.waitForStderr('listening on port');
  announcer = startProcess(
    testNode,
    [INSTANCE, 'announce', '--url', url, '--name', 'everything', '--interval', '200'],
    {
      cwd: tmp.path,
      env: { ...process.env, MCP_BEACON_HOME: home },
    },
  );
  await waitFor(
    async () => (await readInstanceDir(resolvePaths({ home }).instances)).length === 1,
    { what: 'announced' },
  );
  hub = new Client(
    { name: 'third-party-test', version: '1.0.0' },
    { capabilities: { sampling: {} } },
  );
  hub.setRequestHandler(CreateMessageRequestSchema, async () => ({
    role: 'assistant',
    model: 'stub-model',
    content: { type: 'text', text: 'sampled through beacon' },
  }));
  hub.setNotificationHandler(ResourceUpdatedNotificationSchema, async (n) => {
    updates.push(n.params.uri);
  });
  hub.setNotificationHandler(LoggingMessageNotificationSchema, async (n) => {
    logs.push({ logger: n.params.logger, level: n.params.level });
  });
  const transport = new StdioClientTransport({
    command: testNode,
    // Namespaced: this suite compares the server's catalog name for name with the hub's.
    args: [HUB, '--standalone', '--tools', 'namespaced'],
    env: { ...(process.env as Record<string, string>), MCP_BEACON_HOME: home },
    stderr: 'ignore',
  });
  await hub.connect(transport);
  // Record messages in the order they arrive on the hub's stdout, before the SDK dispatches them.
  const dispatch = transport.onmessage;
  transport.onmessage = (message: JSONRPCMessage) => {
    wire.push(message);
    dispatch?.(message);
  };
  // Declares what the hub declares to instances, since this server offers tools by capability.
  direct = new Client(
    { name: 'direct', version: '1.0.0' },
    { capabilities: HUB_CLIENT_CAPABILITIES },
  );
  await direct.connect(new StreamableHTTPClientTransport(new URL(url)));
  await waitFor(
    async () => (await hub.listTools()).tools.some((t) => t.name === 'everything__echo'),
    { what: 'proxied tools' },
  );
});

afterAll(async () => {
  await hub?.close();
  await direct?.close();
  await announcer?.kill();
  await everything?.kill();
  await tmp?.cleanup();
});

describe('a third-party MCP server through the hub', () => {
  it('lists its tools with their schemas unchanged', async () => {
    const own = (await direct.listTools()).tools;
    const proxied = (await hub.listTools()).tools.filter((t) => t.name.startsWith('everything__'));
    expect(proxied.map((t) => t.name).sort()).toEqual(
      own.map((t) => `everything__${t.name}`).sort(),
    );
    const echo = proxied.find((t) => t.name === 'everything__echo')!;
    expect(echo.inputSchema).toEqual(own.find((t) => t.name === 'echo')!.inputSchema);
  });

  it('returns the same results as a direct call', async () => {
    for (const [tool, args] of [
      ['echo', { message: 'through the hub' }],
      ['get-sum', { a: 2, b: 40 }],
      ['get-structured-content', { location: 'New York' }],
    ] as const) {
      const viaHub = splitAnswer(
        (await hub.callTool({ name: `everything__${tool}`, arguments: args })) as CallToolResult,
      );
      const straight = await direct.callTool({ name: tool, arguments: args });
      expect(viaHub.own).toEqual(straight);
      expect(viaHub.line).toMatch(/^answered by everything \(/);
    }
  });

  it('forwards progress of a long-running operation, in order, before the result', async () => {
    const progress: number[] = [];
    wire.length = 0;
    const result = (await hub.callTool(
      {
        name: 'everything__trigger-long-running-operation',
        arguments: { duration: 0.3, steps: 3 },
      },
      undefined,
      { onprogress: (p) => progress.push(p.progress) },
    )) as CallToolResult;
    expect(result.isError).toBeFalsy();
    // On the wire: all three notifications, then the response.
    const seen = wire.map((m) =>
      'method' in m && m.method === 'notifications/progress'
        ? `progress ${(m.params as { progress: number }).progress}`
        : 'result' in m
          ? 'result'
          : 'other',
    );
    expect(seen.filter((s) => s !== 'other')).toEqual([
      'progress 1',
      'progress 2',
      'progress 3',
      'result',
    ]);
    // The SDK client may still drop a progress notification that arrives in the same read as
    // the response (modelcontextprotocol/typescript-sdk#2580); what it delivers is in order.
    expect(progress).toEqual([1, 2, 3].slice(0, progress.length));
    expect(progress.length).toBeGreaterThanOrEqual(2);
  });

  it('forwards its sampling request to the hub’s client', async () => {
    const result = (await hub.callTool({
      name: 'everything__trigger-sampling-request',
      arguments: { prompt: 'hello', maxTokens: 10 },
    })) as CallToolResult;
    expect(JSON.stringify(result.content)).toContain('sampled through beacon');
  });

  it('proxies its resources and prompts', async () => {
    const own = await direct.listResources();
    const proxied = await hub.listResources();
    const first = own.resources[0]!;
    expect(proxied.resources.map((r) => r.uri)).toContain(`beacon://everything/${first.uri}`);
    const read = await hub.readResource({ uri: `beacon://everything/${first.uri}` });
    const straight = await direct.readResource({ uri: first.uri });
    expect(
      read.contents.map((c) => ({ ...c, uri: c.uri.replace('beacon://everything/', '') })),
    ).toEqual(straight.contents);
    await hub.subscribeResource({ uri: `beacon://everything/${first.uri}` });
    await hub.unsubscribeResource({ uri: `beacon://everything/${first.uri}` });
    const prompts = await hub.listPrompts();
    expect(prompts.prompts.length).toBe((await direct.listPrompts()).prompts.length);
  });

  it('forwards its log messages and resource-updated notifications', async () => {
    const first = (await direct.listResources()).resources[0]!;
    const proxied = `beacon://everything/${first.uri}`;
    await hub.subscribeResource({ uri: proxied });
    // Each toggle makes the server send one notification at once (and more every 5 s).
    await hub.callTool({ name: 'everything__toggle-subscriber-updates', arguments: {} });
    await hub.callTool({ name: 'everything__toggle-simulated-logging', arguments: {} });
    await waitFor(() => updates.includes(proxied), { what: 'resource update with the hub URI' });
    await waitFor(() => logs.some((l) => l.logger === 'everything'), {
      what: 'log tagged with the instance',
    });
    await hub.callTool({ name: 'everything__toggle-subscriber-updates', arguments: {} });
    await hub.callTool({ name: 'everything__toggle-simulated-logging', arguments: {} });
    await hub.unsubscribeResource({ uri: proxied });
  });

  it('drops it when the server stops and the announcement ends', async () => {
    await everything.kill('SIGTERM');
    expect((await announcer.exited).code).toBe(1);
    await waitFor(
      async () => !(await hub.listTools()).tools.some((t) => t.name.startsWith('everything__')),
      { what: 'tools gone' },
    );
  });
});
