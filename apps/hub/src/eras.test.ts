// Both protocol eras on the hub's stdio: a client that opens with `server/discover` or a
// 2026-07-28 request is served 2026-07-28 on that connection, with no fallback round trip; the
// instances behind it are 2025 servers (beacon-instance, an SDK 1.x fixture).
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { InstanceSummary } from '@mcp-beacon/hub-mcp';
import { startProcess, testNode, waitFor } from '@mcp-beacon/test-utils';
import { type CallToolResult, Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import {
  CallToolResultSchema,
  ResourceUpdatedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { HUB, HUB_TEST_ARGS, useHubFixture } from './_hub-fixture.js';

const SERVER = fileURLToPath(new URL('./_fixtures/remote-server.mjs', import.meta.url));
const MODERN_ONLY = fileURLToPath(new URL('./_fixtures/modern-server.mjs', import.meta.url));
const MODERN = '2026-07-28';
const ENVELOPE = {
  'io.modelcontextprotocol/protocolVersion': MODERN,
  'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1.0.0' },
  'io.modelcontextprotocol/clientCapabilities': {},
};

const fx = useHubFixture();

/** One JSON-RPC answer as read from stdout. */
interface Answer {
  id?: number;
  result?: Record<string, unknown>;
  error?: { code: number; message: string };
}

const SERVER_INFO = 'io.modelcontextprotocol/serverInfo';

/** The beacon-hub process on raw stdio lines: each request's answer, by id. */
function rawHub() {
  const proc = fx.track(
    startProcess(testNode, [HUB, '--standalone', '--log-level', 'debug'], {
      env: { ...process.env, MCP_BEACON_HOME: fx.home },
      stdio: ['pipe', 'pipe', 'pipe'],
    }),
  );
  let next = 0;
  const lines = () =>
    proc
      .stdout()
      .split('\n')
      .filter((l) => l !== '');
  const request = async (method: string, params: Record<string, unknown>) => {
    const id = ++next;
    proc.child.stdin?.write(`${JSON.stringify({ jsonrpc: '2.0', id, method, params })}\n`);
    return waitFor(
      () =>
        lines()
          .map((l) => JSON.parse(l) as Answer)
          .find((m) => m.id === id),
      { what: `the answer to ${method}` },
    );
  };
  /** Waits until the hub's 2026-07-28 `tools/list` lists `tool`. */
  const listed = (tool: string) =>
    waitFor(
      async () => {
        const list = await request('tools/list', { _meta: ENVELOPE });
        return JSON.stringify(list.result).includes(`"${tool}"`);
      },
      { what: `${tool} listed` },
    );
  return { proc, lines, request, listed };
}

/** A v2 SDK client pinned to 2026-07-28, on the hub over stdio (with `roots`, it has those). */
async function modernClient(
  onElicit?: (message: string) => Record<string, unknown>,
  roots?: string[],
) {
  const client = new Client(
    { name: 'modern-test', version: '1.0.0' },
    {
      versionNegotiation: { mode: { pin: MODERN } },
      capabilities: { ...(onElicit ? { elicitation: {} } : {}), ...(roots ? { roots: {} } : {}) },
    },
  );
  if (roots)
    client.setRequestHandler('roots/list', async () => ({
      roots: roots.map((folder) => ({ uri: pathToFileURL(folder).href })),
    }));
  if (onElicit)
    client.setRequestHandler('elicitation/create', async (request) => ({
      action: 'accept',
      content: onElicit((request.params as { message: string }).message) as never,
    }));
  const transport = new StdioClientTransport({
    command: testNode,
    args: HUB_TEST_ARGS,
    env: { ...(process.env as Record<string, string>), MCP_BEACON_HOME: fx.home },
    stderr: 'pipe',
  });
  await client.connect(transport);
  fx.trackClient(client);
  return client;
}

/**
 * A pinned client that answers every elicitation `ok: true` (the messages kept in `asked`), once
 * instance `name` is active.
 */
async function askingClient(name: string) {
  const asked: string[] = [];
  const client = await modernClient((message) => {
    asked.push(message);
    return { ok: true };
  });
  await waitFor(
    async () => (await instances(client)).some((i) => i.name === name && i.state === 'active'),
    { what: `${name} active` },
  );
  return { client, asked };
}

const text = (result: unknown) =>
  ((result as CallToolResult).content[0] as { text?: string } | undefined)?.text ?? '';

async function instances(client: Client): Promise<InstanceSummary[]> {
  const result = await client.callTool({ name: 'instances_list', arguments: {} });
  return (result.structuredContent as { instances: InstanceSummary[] }).instances;
}

/** Starts fixture `script` in its own project folder and waits for its record, `name`. */
async function startAnnounced(script: string, marker: string, name: string) {
  const cwd = await fx.makeProject(`${name}-home`);
  fx.track(
    startProcess(testNode, [script, marker], {
      cwd,
      env: { ...process.env, MCP_BEACON_HOME: fx.home },
    }),
  );
  return waitFor(async () => (await fx.records()).find((r) => r.name === name), {
    what: `the ${name} record`,
  });
}

/** Starts the SDK 1.x fixture server (confirm, wait, cancelled, ...) announced as `fixture`. */
const startFixture = () => startAnnounced(SERVER, 'eras-fixture', 'fixture');

/** Starts the modern-only fixture (SDK 2, `legacy: 'reject'`), announced as `modern`. */
const startModernOnly = () => startAnnounced(MODERN_ONLY, 'eras-modern', 'modern');

describe('beacon-hub on MCP 2026-07-28', () => {
  it('answers server/discover on stdio, then serves that connection 2026-07-28 only', async () => {
    await fx.startInstance('web');
    const hub = rawHub();
    const discover = await hub.request('server/discover', { _meta: ENVELOPE });
    expect(discover.result?.supportedVersions).toContain(MODERN);
    expect(discover.result).toMatchObject({
      capabilities: {
        tools: { listChanged: true },
        resources: { listChanged: true, subscribe: true },
      },
      instructions: expect.stringMatching(/instances_list/),
      _meta: { [SERVER_INFO]: { name: 'beacon-hub' } },
    });

    // The first list waits for the instance already announced, as for a 2025 client.
    const list = await hub.request('tools/list', { _meta: ENVELOPE });
    expect(list.result).toMatchObject({ resultType: 'complete', cacheScope: 'private' });
    expect(Number.isInteger(list.result?.ttlMs)).toBe(true);
    const names = ((list.result?.tools ?? []) as { name: string }[]).map((t) => t.name);
    expect(names).toContain('instances_list');
    expect(names).toContain('scripts_run');

    const call = await hub.request('tools/call', {
      name: 'scripts_list',
      arguments: { instance: 'web' },
      _meta: ENVELOPE,
    });
    expect(call.result).toMatchObject({
      resultType: 'complete',
      _meta: { [SERVER_INFO]: { name: 'beacon-hub' } },
    });
    expect(JSON.stringify(call.result?.content)).toContain('hello');

    // Progress crosses both hops ahead of the result (read as raw lines: an SDK client may
    // drop progress that arrives in one chunk with its result).
    await startFixture();
    await hub.listed('count');
    const counted = await hub.request('tools/call', {
      name: 'count',
      arguments: { instance: 'fixture' },
      _meta: { ...ENVELOPE, progressToken: 7 },
    });
    expect(JSON.stringify(counted.result?.content)).toContain('counted');
    const wire = hub
      .lines()
      .map(
        (l) => JSON.parse(l) as { id?: number; method?: string; params?: { progress?: number } },
      );
    const answerAt = wire.findIndex((m) => m.id === counted.id);
    const progress = wire
      .slice(0, answerAt)
      .filter((m) => m.method === 'notifications/progress')
      .map((m) => m.params?.progress);
    expect(progress).toEqual([1, 2, 3]);

    // The era is chosen once: a 2025 handshake on this connection is refused.
    const late = await hub.request('initialize', {
      protocolVersion: '2025-11-25',
      capabilities: {},
      clientInfo: { name: 'raw', version: '1.0.0' },
    });
    expect(late.error?.code).toBe(-32022);
    // Nothing but JSON-RPC on stdout.
    for (const line of hub.lines()) expect(() => JSON.parse(line)).not.toThrow();
  });

  it('sends an instance’s log messages only to a call that asked for them, never unasked', async () => {
    const hub = rawHub();
    await hub.request('server/discover', { _meta: ENVELOPE });
    await startFixture();
    await hub.listed('log');
    const wire = () =>
      hub.lines().map(
        (l) =>
          JSON.parse(l) as {
            id?: number;
            method?: string;
            params?: { level?: string; logger?: string; data?: unknown };
          },
      );
    const logs = () => wire().filter((m) => m.method === 'notifications/message');

    // Asked for (`logLevel` in the call's `_meta`): the message of the call, ahead of its result.
    const asked = await hub.request('tools/call', {
      name: 'log',
      arguments: { instance: 'fixture' },
      _meta: { ...ENVELOPE, 'io.modelcontextprotocol/logLevel': 'info' },
    });
    expect(JSON.stringify(asked.result?.content)).toContain('logged');
    const answerAt = wire().findIndex((m) => m.id === asked.id);
    expect(
      wire()
        .slice(0, answerAt)
        .filter((m) => m.method === 'notifications/message'),
    ).toEqual([
      expect.objectContaining({
        params: { level: 'info', logger: 'fixture/fx', data: 'during the call' },
      }),
    ]);

    // Not asked for, and after any call: nothing. (The fixture lists the tool `logged_after`
    // after its message of each call, on the same stream: once the hub lists it, the hub has
    // read those messages.)
    const unasked = await hub.request('tools/call', {
      name: 'log',
      arguments: { instance: 'fixture', mark: 'logged_after' },
      _meta: ENVELOPE,
    });
    expect(JSON.stringify(unasked.result?.content)).toContain('logged');
    await hub.listed('logged_after');
    await hub.request('ping', { _meta: ENVELOPE });
    expect(logs()).toHaveLength(1);
  });

  it('lists, calls, reads, follows a resource and cancels through the hub to 2025 servers', async () => {
    await fx.startInstance('web', [], {
      tick: `node -e "let i=0;const t=setInterval(()=>{console.log('tick '+(++i));if(i===40)clearInterval(t)},100)"`,
    });
    await startFixture();
    const client = await modernClient();
    expect(client.getProtocolEra()).toBe('modern');
    expect(client.getNegotiatedProtocolVersion()).toBe(MODERN);

    const listed = await waitFor(
      async () => {
        const all = await instances(client);
        return all.filter((i) => i.state === 'active').length === 2 ? all : undefined;
      },
      { what: 'both instances active' },
    );
    const web = listed.find((i) => i.name === 'web')!;
    const names = (await client.listTools()).tools.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(['scripts_run', 'wait', 'confirm']));

    const run = await client.callTool({
      name: 'scripts_run',
      arguments: { instance: 'web', name: 'tick', waitFor: { pattern: 'tick 1' } },
    });
    expect(run.isError).toBeFalsy();
    const runId = (run.structuredContent as { id: string }).id;
    const uri = `beacon://${web.slug}/logs://${runId}`;

    // A listen that follows the run's log is told of each update; the hub subscribed for it.
    const updates: string[] = [];
    client.setNotificationHandler('notifications/resources/updated', async (n) => {
      updates.push(n.params.uri);
    });
    let toolChanges = 0;
    client.setNotificationHandler('notifications/tools/list_changed', async () => {
      toolChanges++;
    });
    const subscription = await client.listen({
      resourceSubscriptions: [uri],
      toolsListChanged: true,
    });
    expect(subscription.honoredFilter).toEqual({
      resourceSubscriptions: [uri],
      toolsListChanged: true,
    });
    await waitFor(() => updates.includes(uri), { what: 'a resources/updated on the listen' });
    const read = await client.readResource({ uri });
    expect((read.contents[0] as { text: string }).text).toContain('tick');

    // A project that starts meanwhile with tools of its own is announced on the same stream
    // (one with the same tools as web would change no list, and is not).
    await startModernOnly();
    await waitFor(() => toolChanges > 0, { what: 'list_changed on the listen' });
    await subscription.close();

    // Cancelling a call reaches the instance.
    const controller = new AbortController();
    const waiting = client
      .callTool({ name: 'wait', arguments: { instance: 'fixture' } }, { signal: controller.signal })
      .catch((error: Error) => error);
    // Cancelled once the call runs at the fixture, not after a guessed delay.
    await waitFor(
      async () =>
        text(await client.callTool({ name: 'waiting', arguments: { instance: 'fixture' } })) ===
        '1',
      { what: 'the call running at the fixture' },
    );
    controller.abort();
    expect(await waiting).toBeInstanceOf(Error);
    await waitFor(
      async () =>
        text(await client.callTool({ name: 'cancelled', arguments: { instance: 'fixture' } })) ===
        '1',
      { what: 'the cancellation reached the fixture' },
    );
  });

  it('carries an instance’s elicitation to the client as input_required, and its answer back', async () => {
    await startFixture();
    const { client, asked } = await askingClient('fixture');
    const confirm = await client.callTool({ name: 'confirm', arguments: { instance: 'fixture' } });
    expect(text(confirm)).toBe('answer {"action":"accept","content":{"ok":true}}');
    // Attributed to the instance, as for a 2025 client.
    expect(asked).toEqual(['[fixture] ok?']);
    // The same through instances_call.
    const viaCall = await client.callTool({
      name: 'instances_call',
      arguments: { instance: 'fixture', tool: 'confirm' },
    });
    expect(text(viaCall)).toBe('answer {"action":"accept","content":{"ok":true}}');
    expect(asked).toEqual(['[fixture] ok?', '[fixture] ok?']);

    // A client that cannot answer elicitation is not asked; the instance hears why.
    const mute = await modernClient();
    const refused = await mute.callTool({ name: 'confirm', arguments: { instance: 'fixture' } });
    expect(refused.isError).toBe(true);
    expect(text(refused)).toMatch(/does not support elicitation/);
  });
});

describe('beacon-hub routing a 2026-07-28 client by its roots', () => {
  it('asks for the roots within the call, and routes to the project that holds them', async () => {
    await fx.startInstance('web');
    const api = await fx.startInstance('api');
    const client = await modernClient(undefined, [api.record.path]);
    await waitFor(
      async () => (await instances(client)).filter((i) => i.state === 'active').length === 2,
      { what: 'both instances active' },
    );
    const result = await client.callTool({ name: 'project_info', arguments: {} });
    expect(result.isError).toBeFalsy();
    expect((result.structuredContent as { name: string }).name).toBe('api');
    expect(text({ content: result.content.slice(-1) })).toMatch(/^answered by api /);
  });
});

describe('beacon-hub and a server that speaks MCP 2026-07-28 only', () => {
  /** What {@link exercise} needs of a client of either SDK. */
  interface AnyClient {
    callTool(params: { name: string; arguments: Record<string, unknown> }): Promise<unknown>;
    listTools(): Promise<{ tools: { name: string }[] }>;
    readResource(params: { uri: string }): Promise<{ contents: unknown[] }>;
  }
  type Cancellable = (
    name: string,
    args: Record<string, unknown>,
    signal: AbortSignal,
  ) => Promise<unknown>;

  /**
   * Everything a client does with the modern-only server through the hub: list, call, an
   * elicitation (answered `ok: true`), a read, an update of a followed resource, a cancel.
   */
  async function exercise(
    client: AnyClient,
    follow: (uri: string) => Promise<() => boolean>,
    callCancellable: Cancellable,
  ) {
    const names = (await client.listTools()).tools.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(['echo', 'confirm', 'wait', 'touch']));
    const call = (name: string, args: Record<string, unknown> = {}) =>
      client.callTool({ name, arguments: { instance: 'modern', ...args } });
    expect(text(await call('echo', { text: 'hi' }))).toBe('echo hi');
    expect(text(await call('confirm'))).toBe('answer {"ok":true}');
    const listed = await client.callTool({ name: 'instances_list', arguments: {} });
    const modern = (
      listed as CallToolResult & { structuredContent: { instances: InstanceSummary[] } }
    ).structuredContent.instances.find((i) => i.name === 'modern');
    const uri = `beacon://${modern?.slug}/note://pad`;
    expect(JSON.stringify((await client.readResource({ uri })).contents)).toContain('pad touched');
    const updated = await follow(uri);
    await waitFor(
      async () => {
        await call('touch');
        return updated();
      },
      { what: 'resources/updated through the hub' },
    );
    const controller = new AbortController();
    const waiting = callCancellable('wait', { instance: 'modern' }, controller.signal).catch(
      (error: Error) => error,
    );
    // Cancelled once the call runs at the server, not after a guessed delay.
    await waitFor(async () => text(await call('waiting')) === '1', {
      what: 'the call running at the server',
    });
    controller.abort();
    expect(await waiting).toBeInstanceOf(Error);
    await waitFor(async () => text(await call('cancelled')) === '1', {
      what: 'the cancellation reached the server',
    });
    return names;
  }

  it('reaches it for a 2026-07-28 client: call, elicitation, resource, update, cancel', async () => {
    await startModernOnly();
    const { client, asked } = await askingClient('modern');
    await exercise(
      client,
      async (uri) => {
        const seen: string[] = [];
        client.setNotificationHandler('notifications/resources/updated', async (n) => {
          seen.push(n.params.uri);
        });
        await client.listen({ resourceSubscriptions: [uri] });
        return () => seen.includes(uri);
      },
      (name, args, signal) => client.callTool({ name, arguments: args }, { signal }),
    );
    expect(asked).toEqual(['[modern] ok?']);
  });

  it('reaches it for a 2025 SDK 1.x client, with the same tools', async () => {
    await startModernOnly();
    const asked: string[] = [];
    const hub = await fx.startHubClient([], {
      onElicit: (message) => {
        asked.push(message);
        return { action: 'accept', content: { ok: true } };
      },
    });
    await waitFor(
      async () => {
        const result = (await hub.client.callTool({
          name: 'instances_list',
          arguments: {},
        })) as CallToolResult;
        return (result.structuredContent as { instances: InstanceSummary[] }).instances.some(
          (i) => i.name === 'modern' && i.state === 'active',
        );
      },
      { what: 'the modern-only server active' },
    );
    const legacyNames = await exercise(
      hub.client as unknown as AnyClient,
      async (uri) => {
        const seen: string[] = [];
        hub.client.setNotificationHandler(ResourceUpdatedNotificationSchema, async (n) => {
          seen.push(n.params.uri);
        });
        await hub.client.subscribeResource({ uri });
        return () => seen.includes(uri);
      },
      (name, args, signal) =>
        hub.client.request(
          { method: 'tools/call', params: { name, arguments: args } },
          CallToolResultSchema,
          {
            signal,
          },
        ),
    );
    expect(asked).toEqual(['[modern] ok?']);
    const modern = await modernClient();
    const modernNames = (await modern.listTools()).tools.map((t) => t.name);
    expect(modernNames.sort()).toEqual([...legacyNames].sort());
  });
});
