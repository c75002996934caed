import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { InstanceRecord } from '@mcp-beacon/registry';
import { makeRecord, startProcess, testNode, waitFor, waitForState } from '@mcp-beacon/test-utils';
import { NodeStreamableHTTPServerTransport } from '@modelcontextprotocol/node';
import { McpServer } from '@modelcontextprotocol/server';
import { afterEach, describe, expect, it } from 'vitest';
import { type ConnectionManager, createConnectionManager, type TransitionEvent } from './index.js';

/** A real streamable-HTTP MCP server on 127.0.0.1, one MCP session per client. */
async function startServer(
  token?: string,
): Promise<{ url: string; close(): Promise<void>; requests: () => number; deletes: () => number }> {
  let requests = 0;
  let deletes = 0;
  const transports = new Map<string, NodeStreamableHTTPServerTransport>();
  const http: Server = createServer(async (req, res) => {
    requests++;
    if (req.method === 'DELETE') deletes++;
    if (token && req.headers.authorization !== `Bearer ${token}`) {
      res.writeHead(401).end();
      return;
    }
    const id = req.headers['mcp-session-id'];
    let transport = typeof id === 'string' ? transports.get(id) : undefined;
    if (!transport) {
      transport = new NodeStreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (sid) => {
          transports.set(sid, transport!);
        },
      });
      const server = new McpServer({ name: 'http-fixture', version: '1.0.0' });
      server.registerTool('hello', { description: 'hello' }, async () => ({
        content: [{ type: 'text', text: 'hi' }],
      }));
      await server.connect(transport);
    }
    await transport.handleRequest(req, res);
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    requests: () => requests,
    deletes: () => deletes,
    close: async () => {
      await Promise.allSettled([...transports.values()].map((t) => t.close()));
      await new Promise((resolve) => {
        http.close(resolve);
        http.closeAllConnections();
      });
    },
  };
}

const record = (url: string, token?: string): InstanceRecord =>
  makeRecord({
    path: '/p',
    port: Number(new URL(url).port),
    name: 'http',
    has_package_json: false,
    url,
    ...(token ? { token } : {}),
  });

let manager: ConnectionManager | undefined;
afterEach(async () => {
  await manager?.close();
  manager = undefined;
});

describe('connection manager over real HTTP', () => {
  it('sends the bearer token and connects', async () => {
    const server = await startServer('s3cret');
    try {
      manager = createConnectionManager();
      const r = record(server.url, 's3cret');
      manager.upsert(r);
      await waitForState(manager!, r.id, 'active');
      expect(manager.get(r.id)!.catalog.tools.map((t) => t.name)).toEqual(['hello']);
    } finally {
      await server.close();
    }
  });

  it.runIf(process.platform === 'linux')(
    'never sends the token to a port held by another process than the record’s',
    async () => {
      const server = await startServer('s3cret');
      // A live process of ours that does not hold the port: the record's "owner" is gone from
      // it, and whoever listens there now must not get the token.
      await using other = startProcess(testNode, ['-e', 'setInterval(() => {}, 1000)']);
      try {
        manager = createConnectionManager({ backoff: { initialMs: 60_000 } });
        const r = { ...record(server.url, 's3cret'), pid: other.pid };
        manager.upsert(r);
        await waitForState(manager!, r.id, 'retrying');
        expect(manager.get(r.id)!.reason).toContain(`held by a process other than ${other.pid}`);
        expect(server.requests()).toBe(0);
      } finally {
        await server.close();
      }
    },
  );

  it('resolves a second, concurrent close() only once the session is ended', async () => {
    const server = await startServer();
    try {
      const m = createConnectionManager();
      const r = record(server.url);
      m.upsert(r);
      await waitForState(m, r.id, 'active');
      const first = m.close();
      await m.close();
      expect(server.deletes()).toBe(1);
      await first;
    } finally {
      await server.close();
    }
  });

  it('notices a server that goes away at once, not at the next ping', async () => {
    const server = await startServer();
    const events: TransitionEvent[] = [];
    // Pings every minute: only the transport's own error can explain a quick transition.
    manager = createConnectionManager({
      ping: { intervalMs: 60_000 },
      backoff: { initialMs: 60_000 },
    });
    manager.onTransition((e) => events.push(e));
    const r = record(server.url);
    manager.upsert(r);
    await waitForState(manager!, r.id, 'active');
    await server.close();
    const retrying = await waitFor(() => events.find((e) => e.to === 'retrying'), {
      what: 'retrying',
      timeoutMs: 10_000,
    });
    expect(retrying.from).toBe('active');
    // What this transport says of a server that went away (it has no fetch to fail).
    expect(retrying.reason).toMatch(
      /ECONNREFUSED|connection closed|closed the connection|connection was reset/,
    );
  });

  it('reports a wrong token as the reason, and never reports active', async () => {
    const server = await startServer('right');
    try {
      const events: TransitionEvent[] = [];
      manager = createConnectionManager({ backoff: { initialMs: 60_000 } });
      manager.onTransition((e) => events.push(e));
      const r = record(server.url, 'wrong');
      manager.upsert(r);
      const retrying = await waitFor(() => events.find((e) => e.to === 'retrying'), {
        what: 'retrying',
      });
      expect(retrying.reason).toContain('(HTTP 401)');
      expect(events.some((e) => e.to === 'active')).toBe(false);
    } finally {
      await server.close();
    }
  });

  it('ends its session on the instance on reconnect, disconnect and close', async () => {
    const server = await startServer();
    try {
      manager = createConnectionManager();
      const r = record(server.url);
      manager.upsert(r);
      await waitForState(manager!, r.id, 'active');
      // A rewritten record that points elsewhere (here: a new token) reconnects.
      manager.upsert({ ...r, token: 'rotated' });
      await waitFor(() => server.deletes() === 1, { what: 'DELETE on reconnect' });
      await waitForState(manager!, r.id, 'active');
      await manager.disconnect(r.id);
      expect(server.deletes()).toBe(2);
      await manager.connect(r.id);
      await manager.close();
      expect(server.deletes()).toBe(3);
    } finally {
      await server.close();
    }
  });
});
