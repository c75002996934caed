import type { InstanceRecord } from '@mcp-beacon/registry';
import { makeRecord, manualClock, waitFor, waitForState } from '@mcp-beacon/test-utils';
import {
  InMemoryTransport,
  type JSONRPCMessage,
  McpServer,
  type Transport,
} from '@modelcontextprotocol/server';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type ConnectionManager, createConnectionManager, type TransitionEvent } from './index.js';
import { backoffDelay } from './retry.js';

const record = (patch: Partial<InstanceRecord> = {}): InstanceRecord =>
  makeRecord({ port: 1, url: 'http://127.0.0.1:1/mcp', ...patch });

function makeServer(): McpServer {
  const server = new McpServer({ name: 'fixture', version: '1.0.0' });
  server.registerTool(
    'echo',
    { description: 'echo', inputSchema: z.object({ text: z.string() }) },
    async ({ text }) => ({ content: [{ type: 'text', text }] }),
  );
  server.registerResource(
    'readme',
    'fixture://readme',
    { mimeType: 'text/plain' },
    async (uri) => ({ contents: [{ uri: uri.href, text: 'hi' }] }),
  );
  server.registerPrompt('greet', { description: 'greet' }, async () => ({
    messages: [{ role: 'user', content: { type: 'text', text: 'hello' } }],
  }));
  return server;
}

/** The client end of an in-memory pair whose other end `server` serves. */
function linkedTo(server: McpServer): Transport {
  const [client, serverSide] = InMemoryTransport.createLinkedPair();
  void server.connect(serverSide);
  return client;
}

/** A transport that never connects: every send is refused like a closed port. */
function refusingTransport(): Transport {
  return {
    start: async () => undefined,
    send: async () => {
      throw Object.assign(new Error('fetch failed'), { cause: { code: 'ECONNREFUSED' } });
    },
    close: async () => undefined,
  };
}

let manager: ConnectionManager | undefined;
afterEach(async () => {
  await manager?.close();
  manager = undefined;
});

function transitions(m: ConnectionManager): TransitionEvent[] {
  const events: TransitionEvent[] = [];
  m.onTransition((e) => events.push(e));
  return events;
}

describe('connection manager over in-memory transports', () => {
  it('connects, caches the catalog and reports every transition', async () => {
    const server = makeServer();
    manager = createConnectionManager({
      createTransport: () => linkedTo(server),
    });
    const events = transitions(manager);
    const r = record();
    manager.upsert(r);
    await waitForState(manager!, r.id, 'active');
    const info = manager.get(r.id)!;
    expect(info.catalog.tools.map((t) => t.name)).toEqual(['echo']);
    expect(info.catalog.resources.map((x) => x.uri)).toEqual(['fixture://readme']);
    expect(info.catalog.prompts.map((p) => p.name)).toEqual(['greet']);
    expect(info.serverInfo).toMatchObject({ name: 'fixture' });
    expect(events.map((e) => e.to)).toEqual(['discovered', 'connecting', 'active']);
    const result = await manager.client(r.id).callTool({ name: 'echo', arguments: { text: 'x' } });
    expect(result.content).toEqual([{ type: 'text', text: 'x' }]);
  });

  it('refreshes the catalog on the instance list_changed notification', async () => {
    const server = makeServer();
    manager = createConnectionManager({
      createTransport: () => linkedTo(server),
    });
    const r = record();
    manager.upsert(r);
    await waitForState(manager!, r.id, 'active');
    const changed = new Promise((resolve) => manager!.onCatalog(resolve));
    server.registerTool('later', { description: 'added later' }, async () => ({ content: [] }));
    await changed;
    expect(
      manager
        .get(r.id)!
        .catalog.tools.map((t) => t.name)
        .sort(),
    ).toEqual(['echo', 'later']);
  });

  it('removes a record whose process is gone, and deletes its file', async () => {
    const removed: string[] = [];
    manager = createConnectionManager({
      isAlive: () => false,
      removeRecord: async (rec) => {
        removed.push(rec.id);
      },
      createTransport: refusingTransport,
    });
    const events = transitions(manager);
    const r = record({ pid: 999_999 });
    manager.upsert(r);
    await waitFor(() => events.some((e) => e.to === 'removed'));
    expect(removed).toEqual([r.id]);
    expect(manager.get(r.id)).toBeUndefined();
    expect(events.at(-1)?.reason).toContain('process 999999 is gone');
  });

  it('disconnects on request and reconnects on request', async () => {
    const server = makeServer();
    manager = createConnectionManager({
      createTransport: () => {
        const [client, serverSide] = InMemoryTransport.createLinkedPair();
        void server.close().then(() => server.connect(serverSide));
        return client;
      },
    });
    const r = record();
    manager.upsert(r);
    await waitForState(manager!, r.id, 'active');
    const down = await manager.disconnect(r.id);
    expect(down).toMatchObject({ state: 'disconnected', reason: 'disconnected on request' });
    expect(down.catalog.tools).toEqual([]);
    expect(() => manager!.client(r.id)).toThrow(/is disconnected: disconnected on request/);
    const up = await manager.connect(r.id);
    expect(up.state).toBe('active');
    await expect(manager.connect('nope')).rejects.toMatchObject({ code: 'UNKNOWN_INSTANCE' });
  });

  it('reconnects a moved record from "connecting" on, and a disconnect meanwhile wins', async () => {
    const server = makeServer();
    let endSession: () => void = () => undefined;
    let oldClosed: () => void = () => undefined;
    const closed = new Promise<void>((resolve) => {
      oldClosed = resolve;
    });
    let made = 0;
    manager = createConnectionManager({
      createTransport: () => {
        const transport = linkedTo(server);
        if (made++ > 0) return transport;
        // The first connection's session ends only when the test says so.
        const close = transport.close.bind(transport);
        return Object.assign(transport, {
          terminateSession: () =>
            new Promise<void>((resolve) => {
              endSession = resolve;
            }),
          close: async () => {
            await close();
            oldClosed();
          },
        });
      },
    });
    const events = transitions(manager);
    const r = record();
    manager.upsert(r);
    await waitForState(manager!, r.id, 'active');
    manager.upsert({ ...r, token: 'rotated' });
    // At once, while the old session is still being ended.
    expect(manager.get(r.id)?.state).toBe('connecting');
    await manager.disconnect(r.id);
    endSession();
    await closed;
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(manager.get(r.id)?.state).toBe('disconnected');
    expect(events.map((e) => e.to).slice(-3)).toEqual(['active', 'connecting', 'disconnected']);
    expect(made).toBe(1);
    await manager.connect(r.id);
    expect(manager.get(r.id)?.state).toBe('active');
  });

  it('counts unanswered pings and retries after the configured misses', async () => {
    const server = makeServer();
    let dropPings = false;
    manager = createConnectionManager({
      ping: { intervalMs: 20, timeoutMs: 30, misses: 2 },
      backoff: { initialMs: 10_000 },
      createTransport: () => {
        const [client, serverSide] = InMemoryTransport.createLinkedPair();
        const send = client.send.bind(client);
        client.send = async (message: JSONRPCMessage) => {
          if (dropPings && 'method' in message && message.method === 'ping') return;
          await send(message);
        };
        void server.close().then(() => server.connect(serverSide));
        return client;
      },
    });
    const events = transitions(manager);
    const r = record();
    manager.upsert(r);
    await waitForState(manager!, r.id, 'active');
    dropPings = true;
    const retrying = await waitFor(() => events.find((e) => e.to === 'retrying'), {
      what: 'retrying',
    });
    expect(retrying.reason).toBe('2 pings unanswered');
    expect(retrying.from).toBe('active');
  });
});

describe('retry schedule on fake time', () => {
  it('backs off exponentially with jitter, capped', () => {
    expect(
      [0, 1, 2, 3, 10].map((n) => backoffDelay(n, { initialMs: 100, maxMs: 1_000 }, () => 1)),
    ).toEqual([100, 200, 400, 800, 1_000]);
    expect(backoffDelay(3, { initialMs: 100, maxMs: 1_000 }, () => 0)).toBe(400);
  });

  it('retries a refusing instance on schedule, then declares it dead, then revives on a new record', async () => {
    const clock = manualClock(0);
    let refuse = true;
    const server = makeServer();
    manager = createConnectionManager({
      clock,
      random: () => 1,
      backoff: { initialMs: 100, maxMs: 800, giveUpAfterMs: 1_000 },
      createTransport: () => {
        if (refuse) return refusingTransport();
        return linkedTo(server);
      },
    });
    const events = transitions(manager);
    const r = record();
    manager.upsert(r);
    await waitForState(manager!, r.id, 'retrying');
    const attemptsAt: number[] = [];
    manager.onTransition((e) => {
      if (e.to === 'connecting') attemptsAt.push(clock.now());
    });
    await clock.advance(1_000);
    expect(attemptsAt).toEqual([100, 300, 700]);
    await clock.advance(800);
    expect(manager.get(r.id)?.state).toBe('dead');
    expect(manager.get(r.id)?.reason).toMatch(/^unreachable for \d+ s: .*ECONNREFUSED/);
    refuse = false;
    manager.upsert({ ...r, last_seen: new Date().toISOString() });
    await waitForState(manager!, r.id, 'active');
    expect(events.map((e) => e.to)).toContain('dead');
  });

  it('knocks before each retry: a port that refuses costs a probe, no client and no transport', async () => {
    const clock = manualClock(0);
    let transports = 0;
    let probes = 0;
    let open = false;
    const server = makeServer();
    manager = createConnectionManager({
      clock,
      random: () => 1,
      backoff: { initialMs: 100, maxMs: 800, giveUpAfterMs: 1_000 },
      probe: async () => {
        probes++;
        return open;
      },
      createTransport: () => {
        transports++;
        return open ? linkedTo(server) : refusingTransport();
      },
    });
    const r = record();
    manager.upsert(r);
    await waitForState(manager!, r.id, 'retrying');
    expect(transports).toBe(1); // the first attempt goes straight in
    await clock.advance(2_000);
    expect(probes).toBeGreaterThanOrEqual(3);
    expect(transports).toBe(1);
    expect(manager.get(r.id)?.reason).toMatch(/nothing accepts connections on port 1/);
    open = true;
    await clock.advance(800);
    await waitForState(manager!, r.id, 'active');
    expect(transports).toBe(2);
  });

  it('pings active connections on the injected clock', async () => {
    const clock = manualClock(0);
    const server = makeServer();
    let pings = 0;
    manager = createConnectionManager({
      clock,
      ping: { intervalMs: 5_000, timeoutMs: 1_000, misses: 3 },
      createTransport: () => {
        const [client, serverSide] = InMemoryTransport.createLinkedPair();
        const send = client.send.bind(client);
        client.send = async (message: JSONRPCMessage) => {
          if ('method' in message && message.method === 'ping') pings++;
          await send(message);
        };
        void server.connect(serverSide);
        return client;
      },
    });
    const r = record();
    manager.upsert(r);
    await waitForState(manager!, r.id, 'active');
    await clock.advance(4_999);
    expect(pings).toBe(0);
    await clock.advance(1);
    await waitFor(() => pings === 1, { what: 'first ping' });
    await clock.advance(5_000);
    await waitFor(() => pings === 2, { what: 'second ping' });
    await clock.advance(15_000);
    await waitFor(() => pings === 5, { what: 'three more pings' });
    expect(manager.get(r.id)?.state).toBe('active');
  });
});

describe('routed instances (a remote hub relays them)', () => {
  it('connect through the route, and none of the local checks apply to their pid or port', async () => {
    const removed: string[] = [];
    const portChecks: number[] = [];
    const localTransports: string[] = [];
    manager = createConnectionManager({
      // Every local check says "gone" or "someone else's": a routed record must not care.
      isAlive: () => false,
      portOwner: async (_pid, port) => {
        portChecks.push(port);
        return 'other';
      },
      probe: async () => false,
      removeRecord: async (r) => void removed.push(r.id),
      createTransport: (r) => {
        localTransports.push(r.id);
        return refusingTransport();
      },
    });
    const server = makeServer();
    let routes = 0;
    const routed = record({ name: 'box/web', pid: 999_999 });
    manager.upsert(routed, {
      remote: 'box',
      createTransport: () => {
        routes++;
        return linkedTo(server);
      },
    });
    await waitForState(manager, routed.id, 'active');
    const info = manager.get(routed.id)!;
    expect(info.location).toEqual({ kind: 'remote', remote: 'box', path: routed.path });
    expect(info.catalog.tools.map((t) => t.name)).toEqual(['echo']);
    expect(routes).toBe(1);
    expect({ removed, portChecks, localTransports }).toEqual({
      removed: [],
      portChecks: [],
      localTransports: [],
    });

    // A local record with the same checks is removed at once: the checks were live.
    const local = record({ name: 'here' });
    manager.upsert(local);
    expect(manager.get(local.id)?.location).toEqual({ kind: 'local', path: local.path });
    await waitForState(manager, local.id, 'removed');
    expect(removed).toEqual([local.id]);
  });
});

describe('message order', () => {
  /**
   * The client end of an in-memory pair whose server messages arrive in bursts: all those
   * sent in one turn are delivered back to back on the next, as a stream reader delivers the
   * lines of one chunk (or a remote's channel the messages of one read).
   */
  function bursty(server: McpServer): Transport {
    const [client, serverSide] = InMemoryTransport.createLinkedPair();
    const held: JSONRPCMessage[] = [];
    const send = serverSide.send.bind(serverSide);
    serverSide.send = async (message) => {
      held.push(message);
      if (held.length === 1)
        setImmediate(() => {
          for (const m of held.splice(0)) void send(m);
        });
    };
    void server.connect(serverSide);
    return client;
  }

  it('hands progress sent right before a result to the caller before the result', async () => {
    const server = new McpServer({ name: 'fixture', version: '1.0.0' });
    server.registerTool('count', { description: 'count' }, async (ctx) => {
      for (let i = 1; i <= 3; i++)
        await ctx.mcpReq.notify({
          method: 'notifications/progress',
          params: { progressToken: ctx.mcpReq._meta!.progressToken!, progress: i, total: 3 },
        });
      return { content: [{ type: 'text', text: 'counted' }] };
    });
    manager = createConnectionManager({ createTransport: () => bursty(server) });
    const r = record();
    manager.upsert(r);
    await waitForState(manager, r.id, 'active');
    const progress: number[] = [];
    const result = await manager.client(r.id).callTool(
      { name: 'count', arguments: {} },
      {
        onprogress: (p) => void progress.push(p.progress),
      },
    );
    expect(result.content).toEqual([{ type: 'text', text: 'counted' }]);
    expect(progress).toEqual([1, 2, 3]);
  });
});
