import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from '@modelcontextprotocol/client';
import { NodeStreamableHTTPServerTransport } from '@modelcontextprotocol/node';
import {
  type EventId,
  type EventStore,
  type JSONRPCMessage,
  McpServer,
  type StreamId,
} from '@modelcontextprotocol/server';
import { afterEach, describe, expect, it } from 'vitest';
import { ConnectionError } from './errors.js';
import { HttpClientTransport } from './http-transport.js';

interface Fixture {
  url: string;
  /** Set when the `wait` tool starts; resolves when the server sees its cancellation. */
  cancelled?: Promise<void>;
  methods: string[];
  sessionsClosed: number;
  server: () => McpServer | undefined;
  close(): Promise<void>;
}

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.allSettled(closers.splice(0).map((c) => c()));
});

async function listen(
  handler: (req: IncomingMessage, res: import('node:http').ServerResponse) => void,
  host = '127.0.0.1',
) {
  const http: Server = createServer(handler);
  await new Promise<void>((resolve) => http.listen(0, host, resolve));
  const close = () =>
    new Promise<void>((resolve) => {
      http.close(() => resolve());
      http.closeAllConnections();
    });
  closers.push(close);
  const port = (http.address() as AddressInfo).port;
  return { url: `http://${host.includes(':') ? `[${host}]` : host}:${port}/mcp`, close };
}

/**
 * Events kept in memory, so that the server's streams are resumable (SDK 2 defines
 * `EventStore` but ships no store): enough for the priming events these tests look at.
 */
class MemoryEventStore implements EventStore {
  private readonly events: Array<{ id: EventId; streamId: StreamId; message: JSONRPCMessage }> = [];

  async storeEvent(streamId: StreamId, message: JSONRPCMessage): Promise<EventId> {
    const id = `${this.events.length}`;
    this.events.push({ id, streamId, message });
    return id;
  }

  async replayEventsAfter(
    lastEventId: EventId,
    { send }: { send: (eventId: EventId, message: JSONRPCMessage) => Promise<void> },
  ): Promise<StreamId> {
    const index = this.events.findIndex((e) => e.id === lastEventId);
    const last = this.events[index];
    if (!last) return '';
    for (const e of this.events.slice(index + 1))
      if (e.streamId === last.streamId) await send(e.id, e.message);
    return last.streamId;
  }
}

/**
 * A real SDK streamable-HTTP MCP server (SSE answers, or JSON with `json: true`); with
 * `resumable: true` it keeps an event store, so each stream opens with a priming event.
 */
async function startFixture(
  options: { json?: boolean; resumable?: boolean } = {},
): Promise<Fixture> {
  const fixture = { methods: [] as string[], sessionsClosed: 0 } as Fixture;
  const transports = new Map<string, NodeStreamableHTTPServerTransport>();
  let last: McpServer | undefined;
  const { url, close } = await listen(async (req, res) => {
    fixture.methods.push(req.method ?? '');
    const id = req.headers['mcp-session-id'];
    let transport = typeof id === 'string' ? transports.get(id) : undefined;
    if (!transport) {
      if (typeof id === 'string') return void res.writeHead(404).end('no such session');
      const t = new NodeStreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        enableJsonResponse: options.json ?? false,
        ...(options.resumable ? { eventStore: new MemoryEventStore() } : {}),
        onsessioninitialized: (sid) => void transports.set(sid, t),
        onsessionclosed: () => {
          fixture.sessionsClosed++;
        },
      });
      transport = t;
      const server = new McpServer(
        { name: 'fixture', version: '1.0.0' },
        { capabilities: { logging: {} } },
      );
      server.registerTool('slow', { description: 'progress, then a result' }, async (ctx) => {
        for (let i = 1; i <= 3; i++)
          await ctx.mcpReq.notify({
            method: 'notifications/progress',
            params: { progressToken: ctx.mcpReq._meta?.progressToken ?? 0, progress: i, total: 3 },
          });
        return { content: [{ type: 'text', text: 'done' }] };
      });
      server.registerTool('wait', { description: 'answers when cancelled' }, async (ctx) => {
        fixture.cancelled = new Promise<void>((resolve) =>
          ctx.mcpReq.signal.addEventListener('abort', () => resolve()),
        );
        await fixture.cancelled;
        return { content: [] };
      });
      server.registerTool('log', { description: 'a log message, then a result' }, async (ctx) => {
        await ctx.mcpReq.notify({
          method: 'notifications/message',
          params: { level: 'info', data: 'working' },
        });
        return { content: [{ type: 'text', text: 'logged' }] };
      });
      last = server;
      await server.connect(transport);
    }
    await transport.handleRequest(req, res);
  });
  Object.assign(fixture, { url, close, server: () => last });
  return fixture;
}

async function connect(url: string, token?: string) {
  const transport = new HttpClientTransport(url, { token });
  const client = new Client({ name: 'test', version: '1.0.0' });
  await client.connect(transport);
  closers.push(() => client.close());
  return { client, transport };
}

describe('HttpClientTransport', () => {
  it.each([
    ['SSE', false],
    ['JSON', true],
  ])('talks MCP to the SDK server (%s answers)', async (_mode, json) => {
    const fixture = await startFixture({ json });
    const { client, transport } = await connect(fixture.url);
    expect(transport.sessionId).toMatch(/[0-9a-f-]{36}/);
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(['slow', 'wait', 'log']);
    const progress: number[] = [];
    const result = await client.callTool(
      { name: 'slow', arguments: {} },
      { onprogress: (p) => progress.push(p.progress) },
    );
    expect(result.content).toEqual([{ type: 'text', text: 'done' }]);
    // Notifications written before the answer are all seen, even when they arrive in one read.
    if (!json) expect(progress).toEqual([1, 2, 3]);
  });

  it('takes a priming event (an id, empty data) as no message and no error', async () => {
    const fixture = await startFixture({ resumable: true });
    const { client } = await connect(fixture.url);
    const errors: Error[] = [];
    client.onerror = (error) => errors.push(error);
    for (let i = 0; i < 3; i++) {
      const result = await client.callTool(
        { name: 'slow', arguments: {} },
        { onprogress: () => undefined },
      );
      expect(result.content).toEqual([{ type: 'text', text: 'done' }]);
    }
    expect(errors).toEqual([]);
  });

  describe('call(): one request outside the client', () => {
    it('answers with the result as sent, notifications first to onmessage', async () => {
      const fixture = await startFixture();
      const { client, transport } = await connect(fixture.url);
      const seen: string[] = [];
      client.fallbackNotificationHandler = async (n) => {
        seen.push(n.method);
      };
      const answer = await transport.call('tools/call', { name: 'log', arguments: {} });
      expect(answer).toMatchObject({
        jsonrpc: '2.0',
        id: expect.stringMatching(/^direct-/),
        result: { content: [{ type: 'text', text: 'logged' }] },
      });
      expect(seen).toContain('notifications/message');
      // The client's own requests still work beside it.
      expect((await client.listTools()).tools.length).toBeGreaterThan(0);
    });

    it('answers with the server’s error as sent', async () => {
      const fixture = await startFixture();
      const { transport } = await connect(fixture.url);
      const answer = await transport.call('nope/method', {});
      expect(answer).toMatchObject({ error: { code: -32601, message: expect.any(String) } });
    });

    it('cancels on the server when the signal aborts', async () => {
      const fixture = await startFixture();
      const { transport } = await connect(fixture.url);
      const controller = new AbortController();
      const call = transport.call(
        'tools/call',
        { name: 'wait', arguments: {} },
        {
          signal: controller.signal,
        },
      );
      await expect.poll(() => fixture.cancelled !== undefined).toBe(true);
      controller.abort(new Error('stop'));
      await expect(call).rejects.toThrow('stop');
      await fixture.cancelled; // the server saw notifications/cancelled
    });

    it('cancels on the server and rejects with TIMEOUT after timeoutMs', async () => {
      const fixture = await startFixture();
      const { transport } = await connect(fixture.url);
      const call = transport.call(
        'tools/call',
        { name: 'wait', arguments: {} },
        { timeoutMs: 200 },
      );
      await expect(call).rejects.toMatchObject({ code: 'TIMEOUT' });
      await fixture.cancelled;
    });

    it('times out a short call made after a long one on time, and each call on its own', async () => {
      const fixture = await startFixture();
      const { transport } = await connect(fixture.url);
      const args = { name: 'wait', arguments: {} };
      const long = transport.call('tools/call', args, { timeoutMs: 60_000 });
      // Were the shared timer not brought forward, this would wait for the long call's deadline,
      // past the test's timeout.
      const short = transport.call('tools/call', args, { timeoutMs: 100 });
      await expect(short).rejects.toMatchObject({ code: 'TIMEOUT' });
      const second = transport.call('tools/call', args, { timeoutMs: 100 });
      await expect(second).rejects.toMatchObject({ code: 'TIMEOUT' });
      // The long call is still waiting for its answer.
      const state = await Promise.race([
        long.then(
          () => 'settled',
          () => 'settled',
        ),
        'pending',
      ]);
      expect(state).toBe('pending');
      await transport.close();
      await expect(long).rejects.toMatchObject({ code: 'CLOSED' });
    });

    it('rejects pending calls when the transport closes', async () => {
      const fixture = await startFixture();
      const { transport } = await connect(fixture.url);
      const call = transport.call('tools/call', { name: 'wait', arguments: {} });
      await expect.poll(() => fixture.cancelled !== undefined).toBe(true);
      await transport.close();
      await expect(call).rejects.toMatchObject({ code: 'CLOSED' });
    });
  });

  it('receives notifications on the server’s GET stream', async () => {
    const fixture = await startFixture();
    const { client } = await connect(fixture.url);
    const changed = new Promise<void>((resolve) =>
      client.setNotificationHandler('notifications/tools/list_changed', async () => resolve()),
    );
    await expect.poll(() => fixture.methods.includes('GET')).toBe(true);
    fixture.server()!.registerTool('late', { description: 'added later' }, async () => ({
      content: [],
    }));
    await changed;
  });

  it('ends its session with DELETE, and never throws doing so', async () => {
    const fixture = await startFixture();
    const { transport } = await connect(fixture.url);
    await transport.terminateSession();
    expect(fixture.methods).toContain('DELETE');
    expect(fixture.sessionsClosed).toBe(1);
    expect(transport.sessionId).toBeUndefined();
    await fixture.close();
    const other = new HttpClientTransport(fixture.url);
    other.sessionId = 'gone';
    await expect(other.terminateSession()).resolves.toBeUndefined();
  });

  it('bounds the DELETE of a server that never answers', async () => {
    const { url } = await listen(() => undefined); // accepts and never answers
    const transport = new HttpClientTransport(url, { terminateTimeoutMs: 100 });
    transport.sessionId = 'stuck';
    await expect(transport.terminateSession()).resolves.toBeUndefined();
    await transport.close();
  });

  it('reports an HTTP error status with the status', async () => {
    const { url } = await listen((_req, res) => void res.writeHead(404).end('nothing here'));
    const client = new Client({ name: 'test', version: '1.0.0' });
    const error = await client.connect(new HttpClientTransport(url)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error).toMatchObject({ code: 'HTTP_STATUS', status: 404 });
    expect((error as Error).message).toContain('nothing here');
  });

  it('reports an answer that is not JSON', async () => {
    const { url } = await listen(
      (_req, res) =>
        void res.writeHead(200, { 'content-type': 'text/html' }).end('<html>hello</html>'),
    );
    const client = new Client({ name: 'test', version: '1.0.0' });
    await expect(client.connect(new HttpClientTransport(url))).rejects.toMatchObject({
      code: 'NOT_MCP',
    });
  });

  it('fails a request at once when its event stream ends unanswered', async () => {
    const { url } = await listen((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(
        'event: message\ndata: {"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":"x"}}\n\n',
      );
    });
    const transport = new HttpClientTransport(url);
    const answers: unknown[] = [];
    transport.onmessage = (m) => answers.push(m);
    await transport.start();
    await transport.send({ jsonrpc: '2.0', id: 7, method: 'ping' });
    await expect.poll(() => answers.length).toBe(2);
    expect(answers[1]).toMatchObject({ id: 7, error: { code: -32000 } });
    await transport.close();
  });

  it('sends the bearer token', async () => {
    const seen: Array<string | undefined> = [];
    const { url } = await listen((req, res) => {
      seen.push(req.headers.authorization);
      res.writeHead(202).end();
    });
    const transport = new HttpClientTransport(url, { token: 's3cret' });
    await transport.send({
      jsonrpc: '2.0',
      method: 'notifications/cancelled',
      params: { requestId: 1 },
    });
    expect(seen).toEqual(['Bearer s3cret']);
    await transport.close();
  });

  it.each([
    ['an IPv6 literal', '::1', '[::1]'],
    ['a host name', '127.0.0.1', 'localhost'],
  ])(
    'reaches a server by %s, with the Host header and path as in the URL',
    async (_what, bind, host) => {
      const hosts: Array<string | undefined> = [];
      const { url } = await listen((req, res) => {
        hosts.push(req.headers.host, req.url);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ jsonrpc: '2.0', id: 'direct-1', result: { ok: true } }));
      }, bind);
      const port = new URL(url).port;
      const transport = new HttpClientTransport(`http://${host}:${port}/mcp?x=1`);
      expect(await transport.call('ping', {})).toMatchObject({ result: { ok: true } });
      expect(hosts).toEqual([`${host}:${port}`, '/mcp?x=1']);
      await transport.close();
    },
  );

  it('reads an SSE event written in many small pieces, line breaks split between them', async () => {
    const text = 'x'.repeat(200_000);
    const event = `event: message\r\ndata: ${JSON.stringify({ jsonrpc: '2.0', id: 'direct-1', result: { text } })}\r\n\r\n`;
    const { url } = await listen(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      // 997-character pieces: every kind of split, the \r\n pairs included.
      for (let i = 0; i < event.length; i += 997) {
        res.write(event.slice(i, i + 997));
        await new Promise((r) => setImmediate(r));
      }
      res.end();
    });
    const transport = new HttpClientTransport(url);
    const answer = await transport.call('tools/call', {});
    expect(answer).toMatchObject({ result: { text } });
    await transport.close();
  });

  it('cuts an SSE event or a JSON body over maxMessageLength, and fails its request', async () => {
    const big = JSON.stringify({
      jsonrpc: '2.0',
      id: 'direct-1',
      result: { text: 'y'.repeat(5_000) },
    });
    let json = false;
    const { url } = await listen((_req, res) => {
      if (json) {
        res.writeHead(200, { 'content-type': 'application/json' }).end(big);
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      // No line break ever: the event grows until the transport stops reading it.
      const timer = setInterval(() => res.write('z'.repeat(1_000)), 1);
      res.on('close', () => clearInterval(timer));
      res.write('data: ');
    });
    const errors: Error[] = [];
    const transport = new HttpClientTransport(url, { maxMessageLength: 4_096 });
    transport.onerror = (error) => errors.push(error);
    await expect(transport.call('tools/call', {})).rejects.toMatchObject({
      code: 'TOO_LARGE',
      message: expect.stringMatching(/event over 4096 characters/),
    });
    expect(errors[0]).toMatchObject({ code: 'TOO_LARGE' });
    json = true;
    await expect(transport.call('tools/call', {})).rejects.toMatchObject({
      code: 'TOO_LARGE',
      message: expect.stringMatching(/body over 4096 characters/),
    });
    await transport.close();
  });

  it('refuses a URL that is not http', () => {
    expect(() => new HttpClientTransport('https://127.0.0.1/mcp')).toThrow(ConnectionError);
  });
});
