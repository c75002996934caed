import { randomUUID } from 'node:crypto';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type ConnectionManager, createConnectionManager } from '@mcp-beacon/connection-manager';
import { makeRecord, waitFor, waitForState } from '@mcp-beacon/test-utils';
import { NodeStreamableHTTPServerTransport } from '@modelcontextprotocol/node';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  type CallToolResult,
  ElicitRequestSchema,
  type LoggingMessageNotification,
  LoggingMessageNotificationSchema,
  ResourceUpdatedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { InMemoryTransport, type LoggingLevel, McpServer } from '@modelcontextprotocol/server';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  createHubServer,
  HUB_CLIENT_CAPABILITIES,
  type HubServer,
  type HubSession,
} from '../index.js';

/** What the instance was asked, in the order it was asked. */
interface InstanceLog {
  subscribed: string[];
  unsubscribed: string[];
  levels: LoggingLevel[];
}

/** A running {@link startInstance}. */
interface Instance {
  url: string;
  port: number;
  asked: InstanceLog;
  /** Resolves once `count` calls of `confirm` are running at once. */
  confirmsRunning(count: number): Promise<void>;
  /** Lets the running calls of `confirm` go on to log and elicit. */
  releaseConfirms(): void;
  /** Resolves once the hub's client holds the instance's own event stream (its GET) open. */
  eventStream: Promise<void>;
  /** Sends a log message on the instance's own event stream: outside any call. */
  log(level: LoggingLevel, data: string): Promise<void>;
}

/**
 * A real streamable-HTTP instance (one SDK 2 server per HTTP session) with resource
 * subscriptions and logging. Its tools: `confirm` logs, waits until the test releases it,
 * elicits and logs again, each on the call's own response stream; `poke` sends `resources/updated` for the
 * URIs it is given on the call's stream.
 */
async function startInstance(): Promise<Instance> {
  const asked: InstanceLog = { subscribed: [], unsubscribed: [], levels: [] };
  let running = 0;
  let releaseConfirms!: () => void;
  const released = new Promise<void>((resolve) => {
    releaseConfirms = resolve;
  });
  const waiters = new Set<{ count: number; resolve: () => void }>();
  const confirmsRunning = (count: number) =>
    new Promise<void>((resolve) => {
      if (running >= count) resolve();
      else waiters.add({ count, resolve });
    });
  const build = () => {
    const server = new McpServer(
      { name: 'fixture', version: '1.0.0' },
      { capabilities: { logging: {}, resources: { subscribe: true } } },
    );
    server.registerTool(
      'confirm',
      { description: 'elicits', inputSchema: z.object({ who: z.string() }) },
      async ({ who }, ctx) => {
        const log = (data: string) =>
          ctx.mcpReq.notify({
            method: 'notifications/message',
            params: { level: 'info', logger: 'confirm', data },
          });
        // Its stream is open (and carries a first message) before the call waits.
        await log(`asking ${who}`);
        running++;
        for (const waiter of waiters)
          if (running >= waiter.count) {
            waiters.delete(waiter);
            waiter.resolve();
          }
        await released;
        const answer = await ctx.mcpReq.send({
          method: 'elicitation/create',
          params: {
            message: `for ${who}`,
            requestedSchema: { type: 'object', properties: { by: { type: 'string' } } },
          },
        });
        await log(`${who} answered`);
        return {
          content: [{ type: 'text', text: `${who} got ${JSON.stringify(answer.content)}` }],
        };
      },
    );
    server.registerTool(
      'poke',
      { description: 'updates resources', inputSchema: z.object({ uris: z.array(z.string()) }) },
      async ({ uris }, ctx) => {
        for (const uri of uris)
          await ctx.mcpReq.notify({
            method: 'notifications/resources/updated',
            params: { uri },
          });
        return { content: [{ type: 'text', text: 'poked' }] };
      },
    );
    server.server.setRequestHandler('resources/subscribe', async (request) => {
      asked.subscribed.push(request.params.uri);
      return {};
    });
    server.server.setRequestHandler('resources/unsubscribe', async (request) => {
      asked.unsubscribed.push(request.params.uri);
      return {};
    });
    server.server.setRequestHandler('logging/setLevel', async (request) => {
      asked.levels.push(request.params.level);
      return {};
    });
    return server;
  };
  const transports = new Map<
    string,
    { transport: NodeStreamableHTTPServerTransport; server: McpServer }
  >();
  const servers = new Set<McpServer>();
  let streaming: McpServer | undefined;
  let streamOpened!: () => void;
  const eventStream = new Promise<void>((resolve) => {
    streamOpened = resolve;
  });
  const http: HttpServer = createServer(async (req, res) => {
    const id = req.headers['mcp-session-id'] as string | undefined;
    let session = id ? transports.get(id) : undefined;
    if (!session) {
      if (id) return void res.writeHead(404).end();
      const server = build();
      servers.add(server);
      const transport = new NodeStreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (sid) => void transports.set(sid, { transport, server }),
      });
      session = { transport, server };
      await server.connect(transport);
    }
    if (req.method === 'GET') {
      // The SDK takes the stream before it writes the head: from then on it carries messages.
      const { server } = session;
      const writeHead = res.writeHead.bind(res) as (...args: unknown[]) => typeof res;
      res.writeHead = ((...args: unknown[]) => {
        const written = writeHead(...args);
        if (res.statusCode === 200) {
          streaming = server;
          streamOpened();
        }
        return written;
      }) as typeof res.writeHead;
    }
    await session.transport.handleRequest(req, res);
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  cleanups.push(async () => {
    for (const server of servers) await server.close().catch(() => undefined);
    http.closeAllConnections();
    await new Promise((resolve) => http.close(resolve));
  });
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    port,
    asked,
    confirmsRunning,
    releaseConfirms,
    eventStream,
    async log(level, data) {
      await eventStream;
      await streaming?.server.notification({
        method: 'notifications/message',
        params: { level, logger: 'events', data },
      });
    },
  };
}

/** One client of the hub (a 2025 client, as most are) and what it was sent. */
interface TestClient {
  name: string;
  client: Client;
  session: HubSession;
  elicited: string[];
  updates: string[];
  logs: LoggingMessageNotification['params'][];
  call(name: string, args?: Record<string, unknown>): Promise<string>;
}

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

let manager: ConnectionManager;
let hub: HubServer;
let instance: Instance;
let asked: InstanceLog;

async function connectClient(name: string): Promise<TestClient> {
  const client = new Client({ name, version: '1.0.0' }, { capabilities: { elicitation: {} } });
  const [ours, theirs] = InMemoryTransport.createLinkedPair();
  const session = await hub.connect(theirs, { label: name });
  const test: TestClient = {
    name,
    client,
    session,
    elicited: [],
    updates: [],
    logs: [],
    async call(tool, args = {}) {
      const result = (await client.callTool({ name: tool, arguments: args })) as CallToolResult;
      const first = result.content[0];
      return first?.type === 'text' ? first.text : JSON.stringify(result);
    },
  };
  client.setRequestHandler(ElicitRequestSchema, async (request) => {
    test.elicited.push(request.params.message);
    return { action: 'accept', content: { by: name } };
  });
  client.setNotificationHandler(ResourceUpdatedNotificationSchema, async (n) => {
    test.updates.push(n.params.uri);
  });
  client.setNotificationHandler(LoggingMessageNotificationSchema, async (n) => {
    test.logs.push(n.params);
  });
  await client.connect(ours);
  cleanups.push(() => client.close());
  return test;
}

/** The hub's URI of the instance's `uri`. */
const hubUri = (uri: string) => `beacon://fixture/${uri}`;
const DOC = 'fixture://doc';
const MARKER = 'fixture://marker';
const SOLO = 'fixture://solo';

let a: TestClient;
let b: TestClient;

beforeEach(async () => {
  instance = await startInstance();
  asked = instance.asked;
  manager = createConnectionManager({ clientCapabilities: HUB_CLIENT_CAPABILITIES });
  cleanups.push(() => manager.close());
  hub = createHubServer({ manager, debounceMs: 5 });
  cleanups.push(() => hub.close());
  const record = makeRecord({ name: 'fixture', url: instance.url, port: instance.port });
  manager.upsert(record);
  await waitForState(manager, record.id, 'active');
  a = await connectClient('client-a');
  b = await connectClient('client-b');
});

/**
 * `caller` has the instance update `uris`, then the marker; resolves once every client in
 * `followers` (all subscribed to the marker) got it, with the updates each got before it. An
 * update the hub sent a client goes before the marker's, so none is missed.
 */
async function poke(caller: TestClient, uris: string[], followers: TestClient[]) {
  for (const client of followers) client.updates.length = 0;
  expect(await caller.call('poke', { uris: [...uris, MARKER] })).toBe('poked');
  for (const client of followers)
    await waitFor(() => client.updates.includes(hubUri(MARKER)), {
      what: `${client.name} told of the marker`,
    });
  return followers.map((client) => client.updates.filter((uri) => uri !== hubUri(MARKER)));
}

describe('hub sessions: each client session is its own', () => {
  it('lists every session, then the ones left', async () => {
    expect(hub.sessions()).toMatchObject([
      { id: 1, era: 'legacy', label: 'client-a', client: { name: 'client-a' } },
      { id: 2, era: 'legacy', label: 'client-b', client: { name: 'client-b' } },
    ]);
    await a.client.close();
    await a.session.ended;
    expect(hub.sessions()).toMatchObject([{ id: 2, label: 'client-b' }]);
  });

  it('asks each session only for the elicitation of its own call, and logs to it only its own', async () => {
    const fromA = a.call('confirm', { who: 'a' });
    const fromB = b.call('confirm', { who: 'b' });
    await instance.confirmsRunning(2);
    // B calls the instance again, in a later millisecond: B is its latest caller, so a request
    // sent to whoever called last, rather than to the session of its own call, goes to B.
    const at = Date.now();
    await waitFor(() => Date.now() > at, { what: 'the next millisecond' });
    expect(await b.call('poke', { uris: [] })).toBe('poked');
    instance.releaseConfirms();
    expect(await fromA).toBe('a got {"by":"client-a"}');
    expect(await fromB).toBe('b got {"by":"client-b"}');
    expect(a.elicited).toEqual(['[fixture] for a']);
    expect(b.elicited).toEqual(['[fixture] for b']);
    await waitFor(() => a.logs.length > 1 && b.logs.length > 1, { what: 'each call’s logs' });
    expect(a.logs).toEqual([
      { level: 'info', logger: 'fixture/confirm', data: 'asking a' },
      { level: 'info', logger: 'fixture/confirm', data: 'a answered' },
    ]);
    expect(b.logs).toEqual([
      { level: 'info', logger: 'fixture/confirm', data: 'asking b' },
      { level: 'info', logger: 'fixture/confirm', data: 'b answered' },
    ]);
  });

  it('tells only subscribed sessions of an update, and keeps a subscription on the instance until its last holder leaves', async () => {
    await a.client.subscribeResource({ uri: hubUri(MARKER) });
    await b.client.subscribeResource({ uri: hubUri(MARKER) });
    await a.client.subscribeResource({ uri: hubUri(DOC) });
    expect([...new Set(asked.subscribed)]).toEqual([MARKER, DOC]);
    // B's own call changes the resource: only A, who follows it, is told.
    expect(await poke(b, [DOC], [a, b])).toEqual([[hubUri(DOC)], []]);

    await b.client.subscribeResource({ uri: hubUri(DOC) });
    expect(await poke(a, [DOC], [a, b])).toEqual([[hubUri(DOC)], [hubUri(DOC)]]);

    // A leaves it: B still follows it, so the instance keeps it (the hub answers A at once).
    await a.client.unsubscribeResource({ uri: hubUri(DOC) });
    expect(asked.unsubscribed).toEqual([]);
    expect(await poke(a, [DOC], [a, b])).toEqual([[], [hubUri(DOC)]]);

    // The last one leaves it: the instance is told.
    await b.client.unsubscribeResource({ uri: hubUri(DOC) });
    expect(asked.unsubscribed).toEqual([DOC]);
    expect(await poke(a, [DOC], [a, b])).toEqual([[], []]);
  });

  it('releases the subscriptions of a session that closed, ending on the instance only those no session holds', async () => {
    await a.client.subscribeResource({ uri: hubUri(MARKER) });
    await a.client.subscribeResource({ uri: hubUri(DOC) });
    await b.client.subscribeResource({ uri: hubUri(DOC) });
    await b.client.subscribeResource({ uri: hubUri(SOLO) });

    await b.client.close();
    await b.session.ended;
    await waitFor(() => asked.unsubscribed.length > 0, { what: 'the instance told of the end' });
    expect(asked.unsubscribed).toEqual([SOLO]);
    // A still follows the document, on the instance too.
    expect(await poke(a, [DOC], [a])).toEqual([[hubUri(DOC)]]);
    expect(asked.unsubscribed).toEqual([SOLO]);

    await a.client.close();
    await a.session.ended;
    await waitFor(() => asked.unsubscribed.length === 3, { what: 'the last holder’s end' });
    expect(asked.unsubscribed.slice(1).sort()).toEqual([DOC, MARKER]);
    expect(hub.sessions()).toEqual([]);
  });

  it('sends an instance’s own log messages to every session at its own level, the instance at the least severe', async () => {
    await a.client.setLoggingLevel('error');
    await waitFor(() => asked.levels.length === 1, { what: 'the instance’s level' });
    await b.client.setLoggingLevel('debug');
    await waitFor(() => asked.levels.length === 2, { what: 'the instance’s level' });
    // More severe than the least: the instance stays at debug.
    await a.client.setLoggingLevel('critical');
    // The least severe session raises its level: the instance follows.
    await b.client.setLoggingLevel('notice');
    await waitFor(() => asked.levels.length === 3, { what: 'the instance’s level' });
    expect(asked.levels).toEqual(['error', 'debug', 'notice']);

    await instance.eventStream;
    for (const level of ['debug', 'warning', 'error', 'critical'] as const)
      await instance.log(level, level);
    // Each session is sent a log message before the next one: waiting for the last is enough.
    await waitFor(() => a.logs.length > 0 && b.logs.at(-1)?.data === 'critical', {
      what: 'the logs',
    });
    expect(a.logs).toEqual([{ level: 'critical', logger: 'fixture/events', data: 'critical' }]);
    expect(b.logs).toEqual([
      { level: 'warning', logger: 'fixture/events', data: 'warning' },
      { level: 'error', logger: 'fixture/events', data: 'error' },
      { level: 'critical', logger: 'fixture/events', data: 'critical' },
    ]);
  });
});
