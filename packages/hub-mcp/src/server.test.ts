import { randomUUID } from 'node:crypto';
import { type ConnectionManager, createConnectionManager } from '@mcp-beacon/connection-manager';
import type { InstanceRecord } from '@mcp-beacon/registry';
import { waitFor } from '@mcp-beacon/test-utils';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import {
  type CallToolResult,
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ListRootsRequestSchema,
  type LoggingMessageNotification,
  LoggingMessageNotificationSchema,
  ToolListChangedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createHubServer, HUB_CLIENT_CAPABILITIES, type HubServer } from './index.js';

const PNG =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';

interface Fixture {
  server: McpServer;
  cancelled: boolean;
  hang: () => void;
}

function makeFixture(): Fixture {
  const fixture: Fixture = {
    server: new McpServer({ name: 'fixture', version: '1.0.0' }, { capabilities: { logging: {} } }),
    cancelled: false,
    hang: () => undefined,
  };
  const { server } = fixture;
  server.registerTool(
    'rich',
    {
      description: 'every content type',
      inputSchema: { n: z.number().int().describe('a number') },
      outputSchema: { doubled: z.number() },
      annotations: { readOnlyHint: true, title: 'Rich' },
    },
    async ({ n }) => ({
      content: [
        { type: 'text', text: `n=${n}` },
        { type: 'image', data: PNG, mimeType: 'image/png' },
        { type: 'audio', data: 'UklGRg==', mimeType: 'audio/wav' },
        {
          type: 'resource',
          resource: { uri: 'fixture://readme', mimeType: 'text/plain', text: 'embedded' },
        },
        { type: 'resource_link', uri: 'fixture://readme', name: 'readme' },
      ],
      structuredContent: { doubled: n * 2 },
    }),
  );
  server.registerTool('fail', { description: 'fails' }, async () => ({
    isError: true,
    content: [{ type: 'text', text: 'it broke' }],
  }));
  server.registerTool('slow', { description: 'reports progress' }, async (extra) => {
    const token = extra._meta?.progressToken;
    for (let i = 1; i <= 3; i++) {
      if (token !== undefined)
        await extra.sendNotification({
          method: 'notifications/progress',
          params: { progressToken: token, progress: i, total: 3, message: `step ${i}` },
        });
    }
    return { content: [{ type: 'text', text: 'done' }] };
  });
  server.registerTool('forever', { description: 'waits until cancelled' }, async (extra) => {
    await new Promise<void>((resolve) => {
      fixture.hang = resolve;
      extra.signal.addEventListener('abort', () => {
        fixture.cancelled = true;
        resolve();
      });
    });
    return { content: [{ type: 'text', text: 'finished' }] };
  });
  server.registerTool('ask', { description: 'samples' }, async () => {
    const result = await server.server.createMessage({
      messages: [{ role: 'user', content: { type: 'text', text: 'hi?' } }],
      maxTokens: 10,
    });
    return {
      content: [{ type: 'text', text: `model said: ${(result.content as { text: string }).text}` }],
    };
  });
  server.registerTool('confirm', { description: 'elicits' }, async () => {
    const result = await server.server.elicitInput({
      message: 'ok?',
      requestedSchema: { type: 'object', properties: { ok: { type: 'boolean' } } },
    });
    return {
      content: [{ type: 'text', text: `${result.action}:${JSON.stringify(result.content)}` }],
    };
  });
  server.registerTool('roots', { description: 'lists roots' }, async () => {
    const result = await server.server.listRoots();
    return { content: [{ type: 'text', text: result.roots.map((r) => r.uri).join(',') }] };
  });
  server.registerTool('log', { description: 'logs' }, async () => {
    await server.server.sendLoggingMessage({ level: 'warning', logger: 'build', data: 'careful' });
    return { content: [{ type: 'text', text: 'logged' }] };
  });
  server.registerResource(
    'readme',
    'fixture://readme',
    { mimeType: 'text/plain', description: 'the readme' },
    async (uri) => ({
      contents: [{ uri: uri.href, text: 'read me' }],
    }),
  );
  server.registerResource(
    'item',
    new ResourceTemplate('fixture://items/{id}', { list: undefined }),
    { description: 'an item' },
    async (uri, { id }) => ({
      contents: [{ uri: uri.href, text: `item ${id}` }],
    }),
  );
  server.registerPrompt(
    'greet',
    { description: 'greets', argsSchema: { who: z.string() } },
    async ({ who }) => ({
      messages: [{ role: 'user', content: { type: 'text', text: `hello ${who}` } }],
    }),
  );
  return fixture;
}

function record(name: string): InstanceRecord {
  const now = new Date().toISOString();
  return {
    id: randomUUID(),
    pid: process.pid,
    path: '/p',
    port: 1,
    started: now,
    name,
    has_package_json: true,
    last_seen: now,
    url: 'http://127.0.0.1:1/mcp',
  };
}

let manager: ConnectionManager;
let hub: HubServer;
let upstream: Client;
let fixtures: Map<string, Fixture>;
let logs: LoggingMessageNotification['params'][];
let listChanged: number;

async function setup(
  options: { callTimeoutMs?: number; capabilities?: boolean; debounceMs?: number } = {},
) {
  fixtures = new Map();
  manager = createConnectionManager({
    clientCapabilities: HUB_CLIENT_CAPABILITIES,
    configureClient: (client, info) => hub.configureClient(client, info),
    createTransport: (rec) => {
      const [client, server] = InMemoryTransport.createLinkedPair();
      const fixture = makeFixture();
      fixtures.set(rec.id, fixture);
      void fixture.server.connect(server);
      return client;
    },
  });
  hub = createHubServer({
    manager,
    debounceMs: options.debounceMs ?? 20,
    ...(options.callTimeoutMs ? { callTimeoutMs: options.callTimeoutMs } : {}),
  });
  upstream = new Client(
    { name: 'upstream', version: '1.0.0' },
    {
      capabilities:
        options.capabilities === false
          ? {}
          : { sampling: {}, elicitation: {}, roots: { listChanged: true } },
    },
  );
  logs = [];
  listChanged = 0;
  upstream.setNotificationHandler(LoggingMessageNotificationSchema, async (n) => {
    logs.push(n.params);
  });
  upstream.setNotificationHandler(ToolListChangedNotificationSchema, async () => {
    listChanged++;
  });
  if (options.capabilities !== false) {
    upstream.setRequestHandler(CreateMessageRequestSchema, async (request) => ({
      role: 'assistant',
      model: 'test-model',
      content: {
        type: 'text',
        text: `echo ${(request.params.messages[0]!.content as { text: string }).text}`,
      },
    }));
    upstream.setRequestHandler(ElicitRequestSchema, async () => ({
      action: 'accept',
      content: { ok: true },
    }));
    upstream.setRequestHandler(ListRootsRequestSchema, async () => ({
      roots: [{ uri: 'file:///work', name: 'work' }],
    }));
  }
  const [a, b] = InMemoryTransport.createLinkedPair();
  await hub.server.connect(b);
  await upstream.connect(a);
}

async function addInstance(name: string): Promise<InstanceRecord> {
  const rec = record(name);
  manager.upsert(rec);
  await waitFor(() => manager.get(rec.id)?.state === 'active', { what: `${name} active` });
  return rec;
}

const call = (name: string, args: Record<string, unknown> = {}) =>
  upstream.callTool({ name, arguments: args }) as Promise<CallToolResult>;

afterEach(async () => {
  await upstream?.close();
  await hub?.close();
  await manager?.close();
});

describe('hub MCP server: proxying', () => {
  beforeEach(() => setup());

  it('lists instance tools with schemas and annotations unchanged', async () => {
    await addInstance('fixture');
    const direct = await manager.client(manager.list()[0]!.id).listTools();
    const viaHub = await upstream.listTools();
    const rich = viaHub.tools.find((t) => t.name === 'fixture__rich')!;
    const original = direct.tools.find((t) => t.name === 'rich')!;
    expect(rich).toEqual({
      ...original,
      name: 'fixture__rich',
      description: '[fixture] every content type',
    });
  });

  it('passes every content type, structured content and isError through', async () => {
    const rec = await addInstance('fixture');
    const direct = await manager.client(rec.id).callTool({ name: 'rich', arguments: { n: 21 } });
    const viaHub = await call('fixture__rich', { n: 21 });
    expect(viaHub).toEqual(direct);
    expect(viaHub.structuredContent).toEqual({ doubled: 42 });
    expect(viaHub.content.map((c) => c.type)).toEqual([
      'text',
      'image',
      'audio',
      'resource',
      'resource_link',
    ]);
    expect(await call('fixture__fail')).toEqual({
      isError: true,
      content: [{ type: 'text', text: 'it broke' }],
    });
  });

  it('forwards progress notifications with the caller’s token', async () => {
    await addInstance('fixture');
    const progress: Array<{ progress: number; message?: string | undefined }> = [];
    const result = await upstream.callTool({ name: 'fixture__slow', arguments: {} }, undefined, {
      onprogress: (p) => progress.push({ progress: p.progress, message: p.message }),
    });
    expect(result.content).toEqual([{ type: 'text', text: 'done' }]);
    expect(progress).toEqual([
      { progress: 1, message: 'step 1' },
      { progress: 2, message: 'step 2' },
      { progress: 3, message: 'step 3' },
    ]);
  });

  it('passes cancellation on to the instance', async () => {
    const rec = await addInstance('fixture');
    const controller = new AbortController();
    const pending = upstream.callTool({ name: 'fixture__forever', arguments: {} }, undefined, {
      signal: controller.signal,
    });
    await waitFor(() => fixtures.get(rec.id)!.hang !== undefined);
    await new Promise((resolve) => setTimeout(resolve, 20));
    controller.abort('user gave up');
    await expect(pending).rejects.toThrow();
    await waitFor(() => fixtures.get(rec.id)!.cancelled, { what: 'instance saw the cancellation' });
  });

  it('forwards sampling, elicitation and roots requests to the client and back', async () => {
    await addInstance('fixture');
    expect((await call('fixture__ask')).content).toEqual([
      { type: 'text', text: 'model said: echo hi?' },
    ]);
    expect((await call('fixture__confirm')).content).toEqual([
      { type: 'text', text: 'accept:{"ok":true}' },
    ]);
    expect((await call('fixture__roots')).content).toEqual([
      { type: 'text', text: 'file:///work' },
    ]);
  });

  it('forwards logging messages tagged with the instance', async () => {
    await addInstance('fixture');
    await call('fixture__log');
    await waitFor(() => logs.length > 0);
    expect(logs[0]).toEqual({ level: 'warning', logger: 'fixture/build', data: 'careful' });
  });

  it('proxies resources, templates and prompts under routable names', async () => {
    await addInstance('fixture');
    const resources = await upstream.listResources();
    expect(resources.resources).toEqual([
      expect.objectContaining({
        uri: 'beacon://fixture/fixture://readme',
        description: '[fixture] the readme',
      }),
    ]);
    const read = await upstream.readResource({ uri: 'beacon://fixture/fixture://readme' });
    expect(read.contents).toEqual([{ uri: 'beacon://fixture/fixture://readme', text: 'read me' }]);
    const templates = await upstream.listResourceTemplates();
    expect(templates.resourceTemplates[0]?.uriTemplate).toBe(
      'beacon://fixture/fixture://items/{id}',
    );
    const item = await upstream.readResource({ uri: 'beacon://fixture/fixture://items/7' });
    expect(item.contents[0]).toMatchObject({ text: 'item 7' });
    const prompts = await upstream.listPrompts();
    expect(prompts.prompts.map((p) => p.name)).toEqual(['fixture__greet']);
    const prompt = await upstream.getPrompt({ name: 'fixture__greet', arguments: { who: 'ada' } });
    expect(prompt.messages[0]?.content).toEqual({ type: 'text', text: 'hello ada' });
    await expect(upstream.readResource({ uri: 'beacon://nobody/x' })).rejects.toThrow(
      /Unknown resource/,
    );
  });

  it('answers an unknown tool and bad instance arguments with clear errors', async () => {
    await addInstance('fixture');
    await expect(call('nobody__tool')).rejects.toThrow(/Unknown tool: nobody__tool/);
    const unknown = await call('instances_call', { instance: 'nobody', tool: 'x' });
    expect(unknown.isError).toBe(true);
    expect(JSON.stringify(unknown.content)).toContain('no instance matches');
    await expect(call('instances_call', { tool: 'x' })).rejects.toThrow(
      /instance must be a non-empty string/,
    );
  });

  it('reports an instance that went away mid-call as a tool error', async () => {
    const rec = await addInstance('fixture');
    const pending = call('fixture__forever');
    await new Promise((resolve) => setTimeout(resolve, 20));
    await manager.remove(rec.id);
    const result = await pending;
    expect(result.isError).toBe(true);
    expect(JSON.stringify(result.content)).toContain('instance fixture failed');
  });

  it('sends one list_changed for a burst of instances', async () => {
    await upstream.close();
    await hub.close();
    await manager.close();
    await setup({ debounceMs: 300 });
    await upstream.listTools();
    for (let i = 0; i < 5; i++) manager.upsert(record(`burst${i}`));
    await waitFor(() => manager.list().every((c) => c.state === 'active'));
    await waitFor(() => listChanged > 0);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(listChanged).toBe(1);
    expect(
      (await upstream.listTools()).tools.filter((t) => t.name.endsWith('__rich')),
    ).toHaveLength(5);
  });
});

describe('hub MCP server: limits', () => {
  it('times out a hung call with a clear tool error and stays responsive', async () => {
    await setup({ callTimeoutMs: 100 });
    await addInstance('fixture');
    const [hung, fine] = await Promise.all([
      call('fixture__forever'),
      call('fixture__rich', { n: 1 }),
    ]);
    expect(hung.isError).toBe(true);
    expect(JSON.stringify(hung.content)).toContain('did not answer within 100 ms');
    expect(fine.isError).toBeFalsy();
  });

  it('refuses sampling when the client did not declare it', async () => {
    await setup({ capabilities: false });
    await addInstance('fixture');
    const result = await call('fixture__ask');
    expect(result.isError).toBe(true);
    expect(JSON.stringify(result.content)).toContain('does not support sampling');
  });
});
