import { makeRecord, waitFor, waitForState } from '@mcp-beacon/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { type ScriptedServer, startScriptedServer } from './_scripted.fixture.js';
import { HttpClientTransport } from './http-transport.js';
import { type ConnectionManager, createConnectionManager } from './index.js';

// Nothing silently lost: a lost event stream comes back (and shows meanwhile), a forgotten
// session is renewed with what the client had asked of it, a cancelled call frees its socket,
// and a list page is cut while it is read.

const closers: Array<() => Promise<void>> = [];
let manager: ConnectionManager | undefined;
afterEach(async () => {
  await manager?.close();
  manager = undefined;
  for (const close of closers.splice(0)) await close();
});

async function serve(tools: unknown[] = []): Promise<ScriptedServer> {
  const server = await startScriptedServer(tools);
  closers.push(() => server.close());
  return server;
}

const tool = (name: string) => ({ name, inputSchema: { type: 'object' } });

/** A manager whose transports reopen a lost stream after 20 ms, then 40 ms. */
async function connect(server: ScriptedServer) {
  manager = createConnectionManager({
    createTransport: (record) => new HttpClientTransport(record.url, { reopenDelaysMs: [20, 40] }),
  });
  const record = makeRecord({ port: Number(new URL(server.url).port), url: server.url });
  manager.upsert(record);
  await waitForState(manager, record.id, 'active');
  const transport = manager.client(record.id).transport as HttpClientTransport;
  return { id: record.id, manager, transport };
}

describe('the event stream is part of health', () => {
  it('reopens a stream refused 5 times, shows the connection degraded meanwhile, and takes list_changed after', async () => {
    const server = await serve([tool('one')]);
    server.streamStatus = (attempt) => (attempt < 5 ? 503 : 200);
    const { id, manager } = await connect(server);
    await waitFor(() => manager.get(id)?.degraded, { what: 'degraded' });
    expect(manager.get(id)?.degraded).toMatch(
      /event stream lost, \d+ reopens? failed .*HTTP|refused/,
    );
    expect(manager.get(id)?.state).toBe('active');
    await waitFor(() => server.streams() === 1, { what: 'the stream open' });
    await waitFor(() => manager.get(id)?.degraded === undefined, { what: 'whole again' });
    expect(server.count('GET')).toBe(6);
    // The reopened stream may have missed a list_changed: the lists are fetched again.
    await waitFor(() => server.count('tools/list') >= 2, { what: 'a refetch after the reopen' });
    server.tools.push(tool('two'));
    server.push({ jsonrpc: '2.0', method: 'notifications/tools/list_changed' });
    await waitFor(() => manager.get(id)?.catalog.tools.some((t) => t.name === 'two'), {
      what: 'the new tool',
    });
  });

  it('keeps reopening for as long as the connection lives (past the last delay)', async () => {
    const server = await serve();
    server.streamStatus = (attempt) => (attempt < 12 ? 500 : 200);
    const { id, manager } = await connect(server);
    await waitFor(() => server.streams() === 1, { what: 'the stream open', timeoutMs: 5_000 });
    expect(server.count('GET')).toBe(13);
    expect(manager.get(id)?.degraded).toBeUndefined();
  });
});

describe('a session the server forgot', () => {
  it('is renewed once, the request sent again, and the subscriptions and log level restored', async () => {
    const server = await serve([tool('echo')]);
    const { id, manager, transport } = await connect(server);
    const client = manager.client(id);
    await client.subscribeResource({ uri: 'logs://run-1' });
    await client.setLoggingLevel('debug');
    server.forgetSessions();
    const result = await client.callTool({ name: 'echo', arguments: {} });
    expect(result.content).toEqual([{ type: 'text', text: 'called' }]);
    expect(server.count('initialize')).toBe(2);
    expect(server.count('resources/subscribe')).toBe(2);
    expect(server.count('logging/setLevel')).toBe(2);
    // The 404 request was never taken; the resend was: one call in all.
    expect(server.count('tools/call')).toBe(1);
    expect(transport.sessionRenewals).toBe(1);
    await waitFor(() => server.streams() === 1, { what: 'the new session’s stream' });
    // The lost stream made the connection check itself with a ping; it is answered first.
    await waitFor(() => server.count('ping') === 1, { what: 'the ping after the lost stream' });
    // The direct path too, and each renewal is one initialize.
    server.forgetSessions();
    const answer = await transport.call('tools/call', { name: 'echo' });
    expect(answer).toMatchObject({ result: { content: [{ text: 'called' }] } });
    expect(server.count('initialize')).toBe(3);
    expect(server.count('tools/call')).toBe(2);
    expect(manager.get(id)?.state).toBe('active');
  });

  it('is not renewed twice for one request: a server that forgets at once fails it', async () => {
    const server = await serve();
    const { transport } = await connect(server);
    server.script((method) => {
      if (method === 'initialize') queueMicrotask(() => server.forgetSessions());
      return undefined;
    });
    server.forgetSessions();
    await expect(transport.call('tools/call', { name: 'x' })).rejects.toMatchObject({
      status: 404,
    });
    expect(server.count('tools/call')).toBe(0);
  });
});

describe('cancel frees everything', () => {
  it('ends the exchange of a cancelled, a timed-out and an SDK-cancelled call, freeing each socket', async () => {
    const server = await serve([tool('slow')]);
    server.script((method) => (method === 'tools/call' ? 'hang' : undefined));
    const { id, manager, transport } = await connect(server);
    const abort = new AbortController();
    const cancelled = transport.call('tools/call', { name: 'slow' }, { signal: abort.signal });
    await waitFor(() => server.hanging() === 1, { what: 'the call hanging' });
    abort.abort('changed my mind');
    await expect(cancelled).rejects.toBe('changed my mind');
    await waitFor(() => server.hanging() === 0, { what: 'its socket closed', timeoutMs: 1_000 });
    expect(server.count('notifications/cancelled')).toBe(1);

    const timedOut = transport.call('tools/call', { name: 'slow' }, { timeoutMs: 100 });
    await expect(timedOut).rejects.toMatchObject({ code: 'TIMEOUT' });
    await waitFor(() => server.hanging() === 0, { what: 'its socket closed', timeoutMs: 1_000 });

    const sdkAbort = new AbortController();
    const viaSdk = manager
      .client(id)
      .callTool({ name: 'slow', arguments: {} }, { signal: sdkAbort.signal });
    await waitFor(() => server.hanging() === 1, { what: 'the SDK call hanging' });
    sdkAbort.abort();
    await expect(viaSdk).rejects.toThrow();
    await waitFor(() => server.hanging() === 0, { what: 'its socket closed', timeoutMs: 1_000 });
    expect(server.count('notifications/cancelled')).toBe(3);
    // The connection is untouched by any of it.
    expect(manager.get(id)?.state).toBe('active');
    server.script(() => undefined);
    expect(await transport.call('tools/call', { name: 'slow' })).toMatchObject({
      result: { content: [{ text: 'called' }] },
    });
  });
});

describe('catalog work is bounded while it is read', () => {
  it('cuts a page of 1,000,000 empty entries, and one over the byte bound, before parsing either', async () => {
    const server = await serve();
    const dense = `{"jsonrpc":"2.0","id":"ID","result":{"tools":[${Array(1_000_000).fill('{}').join(',')}]}}`;
    const long = `{"jsonrpc":"2.0","id":"ID","result":{"tools":[{"name":"x","inputSchema":{"type":"object"},"description":"${'d'.repeat(9 * 1024 * 1024)}"}]}}`;
    let body = dense;
    server.script((method) => (method === 'tools/list' ? { body } : undefined));
    manager = createConnectionManager();
    const record = makeRecord({ port: Number(new URL(server.url).port), url: server.url });
    manager.upsert(record);
    await waitForState(manager, record.id, 'active');
    const info = manager.get(record.id)!;
    expect(info.catalog.tools).toEqual([]);
    expect(info.catalogTruncated).toMatch(/tools: a page was cut while read .*150000 objects/);
    body = long;
    await manager.disconnect(record.id);
    await manager.connect(record.id);
    expect(manager.get(record.id)?.catalogTruncated).toMatch(
      /tools: a page was cut while read .*over 8454144 characters/,
    );
  });

  it('counts invalid entries towards the entry bound', async () => {
    const server = await serve([
      ...Array.from({ length: 30 }, () => ({ name: 5 })),
      ...Array.from({ length: 30 }, (_, i) => tool(`t${i}`)),
    ]);
    manager = createConnectionManager({ catalogLimits: { tools: 40 } });
    const record = makeRecord({ port: Number(new URL(server.url).port), url: server.url });
    manager.upsert(record);
    await waitForState(manager, record.id, 'active');
    const info = manager.get(record.id)!;
    expect(info.catalog.tools).toHaveLength(10);
    expect(info.catalogTruncated).toBe('tools: more than 40 (30 invalid)');
  });
});
