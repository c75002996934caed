import { randomUUID } from 'node:crypto';
import { type ConnectionManager, createConnectionManager } from '@mcp-beacon/connection-manager';
import {
  type McpHttpServer,
  makeRecord,
  startMcpHttpServer,
  waitFor,
} from '@mcp-beacon/test-utils';
import {
  Client,
  InMemoryTransport,
  ProtocolErrorCode,
  specTypeSchemas,
} from '@modelcontextprotocol/client';
import { Server } from '@modelcontextprotocol/server';
import { afterEach, describe, expect, it } from 'vitest';
import { ChannelTable } from './channels.js';
import { METHODS, onNotification, REMOTE_CAPABILITY, REMOTE_OFFER } from './protocol.js';
import { serveRemoteProtocol } from './serve.js';
import { TunnelTransport } from './tunnel.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

/**
 * A hub serving the remote protocol (a real SDK server, a real manager with one real local
 * MCP server as its instance, and one instance it reaches through a remote of its own), and
 * the other hub's client on an in-memory link, with its channel table.
 */
async function setup() {
  const instance: McpHttpServer = await startMcpHttpServer([
    { name: 'echo', inputSchema: { type: 'object' } },
  ]);
  cleanups.push(() => instance.close());
  const manager: ConnectionManager = createConnectionManager();
  cleanups.push(() => manager.close());
  const local = makeRecord({ name: 'web', url: instance.url, port: instance.port });
  manager.upsert(local);
  const routed = makeRecord({ name: 'far/web', url: 'http://127.0.0.1:1/mcp' });
  manager.upsert(routed, {
    remote: 'far',
    createTransport: () => new TunnelTransport(new ChannelTable('far', () => undefined), 'x'),
  });
  await waitFor(() => manager.get(local.id)?.state === 'active', { what: 'instance active' });

  const server = new Server({ name: 'beacon-hub', version: '1.0.0' }, { capabilities: {} });
  const served = serveRemoteProtocol({ server, manager });
  cleanups.push(() => served.close());
  const client = new Client(
    { name: 'beacon-hub', version: '1.0.0' },
    { capabilities: { experimental: { [REMOTE_CAPABILITY]: REMOTE_OFFER } } },
  );
  const channels = new ChannelTable('box', () => client);
  onNotification(client, METHODS.message, (p) => channels.delivered(p.channel, p.message));
  onNotification(client, METHODS.fragment, (p) => channels.fragment(p.channel, p.data, p.last));
  onNotification(client, METHODS.close, (p) => channels.closedByRemote(p.channel, p.reason));
  const [a, b] = InMemoryTransport.createLinkedPair();
  await server.connect(a);
  await client.connect(b);
  cleanups.push(() => client.close());
  cleanups.push(() => server.close());
  return { manager, local, routed, client, channels, instance };
}

const refusal = async (promise: Promise<unknown>) => {
  try {
    await promise;
  } catch (error) {
    return error as { code: number; message: string };
  }
  throw new Error('not refused');
};

describe('serveRemoteProtocol', () => {
  it('offers this machine’s instances only, never those it reaches through a remote', async () => {
    const { client, local } = await setup();
    const { instances } = (await client.request(
      { method: METHODS.instances },
      specTypeSchemas.Result,
    )) as { instances: Array<{ id: string; name: string; state: string }> };
    expect(instances.map((i) => [i.id, i.name, i.state])).toEqual([[local.id, 'web', 'active']]);
    // The record's token stays on this machine.
    expect(JSON.stringify(instances)).not.toContain('token');
  });

  it('carries an MCP session to the instance over a channel, both ways', async () => {
    const { local, channels, instance } = await setup();
    const tunnel = new TunnelTransport(channels, local.id);
    const far = new Client({ name: 'far', version: '1.0.0' });
    await far.connect(tunnel);
    cleanups.push(() => far.close());
    expect((await far.listTools()).tools.map((t) => t.name)).toEqual(['echo']);
    expect(await far.callTool({ name: 'echo', arguments: {} })).toMatchObject({
      content: [{ type: 'text', text: 'called echo' }],
    });
    expect(instance.lists()).toBeGreaterThan(0);
  });

  it('refuses, by the params checked once at the edge, what a hostile hub asks', async () => {
    const { client, routed } = await setup();
    const open = (params: Record<string, unknown>) =>
      refusal(client.request({ method: METHODS.open, params }, specTypeSchemas.EmptyResult));
    for (const params of [
      { channel: 1.5, instance: randomUUID() },
      { channel: 1, instance: 'x'.repeat(65) },
      { channel: '1', instance: randomUUID() },
      {},
    ]) {
      const error = await open(params);
      expect(error.code).toBe(ProtocolErrorCode.InvalidParams);
      expect(error.message).toMatch(/beacon\/open: /);
    }
    // An instance this hub reaches through its own remote is not this machine's to lend.
    expect((await open({ channel: 2, instance: routed.id })).message).toMatch(
      /no instance .* on this machine/,
    );
    const start = await refusal(
      client.request({ method: METHODS.start, params: { path: '/x' } }, specTypeSchemas.Result),
    );
    expect(start.message).toMatch(/this hub cannot start instances/);
    const path = await refusal(
      client.request({ method: METHODS.start, params: { path: '' } }, specTypeSchemas.Result),
    );
    expect(path.code).toBe(ProtocolErrorCode.InvalidParams);
  });
});

describe('ChannelTable', () => {
  it('fails an open the remote refuses, with its reason cleaned, and keeps no channel', async () => {
    const { channels, routed } = await setup();
    const tunnel = new TunnelTransport(channels, routed.id);
    await expect(tunnel.start()).rejects.toThrow(
      new RegExp(`^remote box: no instance ${routed.id} on this machine$`),
    );
    await expect(channels.send(1, { jsonrpc: '2.0', method: 'x' })).rejects.toThrow(/closed/);
  });

  it('ends a channel whose fragments do not join into JSON, saying why', async () => {
    const { local, channels } = await setup();
    const tunnel = new TunnelTransport(channels, local.id);
    const errors: string[] = [];
    let closed = 0;
    tunnel.onerror = (error) => errors.push(error.message);
    tunnel.onclose = () => {
      closed++;
    };
    await tunnel.start();
    channels.fragment(1, '{"jsonrpc":', false);
    channels.fragment(1, 'nope', true);
    expect(errors).toEqual(['remote box: fragments that do not join into JSON']);
    expect(closed).toBe(1);
    // A message that is not JSON-RPC, for a channel that is gone or never was, is dropped.
    channels.delivered(1, { jsonrpc: '2.0', id: 1, result: {} });
    channels.delivered(99, 'garbage');
    channels.fragment(99, '{}', true);
    expect(closed).toBe(1);
  });

  it('shows a remote’s close reason as text, and ends every channel when the link drops', async () => {
    const { local, channels } = await setup();
    const ends: Array<string | undefined> = [];
    const open = async () => {
      const tunnel = new TunnelTransport(channels, local.id);
      tunnel.onerror = (error) => ends.push(error.message);
      await tunnel.start();
      return tunnel;
    };
    await open();
    await open();
    await open();
    channels.closedByRemote(1, 'bye\u001b[2J\u0007');
    expect(ends).toEqual(['remote box: bye\\x07']);
    channels.endAll('the link dropped');
    expect(ends.slice(1)).toEqual(['remote box: the link dropped', 'remote box: the link dropped']);
  });
});
