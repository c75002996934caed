// beacon-instance serves both protocol eras on one endpoint: 2026-07-28 requests statelessly
// (no session is opened), 2025 clients with sessions as before; the Host, Origin and token
// checks come first for both.
import type { InstanceRecord } from '@mcp-beacon/registry';
import { waitFor } from '@mcp-beacon/test-utils';
import {
  type CallToolResult,
  Client,
  StreamableHTTPClientTransport,
} from '@modelcontextprotocol/client';
import { describe, expect, it } from 'vitest';
import { INITIALIZE, rawPost, useCliFixture } from './_cli-fixture.js';

const MODERN = '2026-07-28';
const ENVELOPE = {
  'io.modelcontextprotocol/protocolVersion': MODERN,
  'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1.0.0' },
  'io.modelcontextprotocol/clientCapabilities': {},
};

const fx = useCliFixture({
  tick: `node -e "let i=0;const t=setInterval(()=>{console.log('tick '+(++i));if(i===40)clearInterval(t)},100)"`,
});

let served: InstanceRecord;
const start = async () => {
  served = (await fx.startAndWaitForRecord()).record;
};
const auth = (): Record<string, string> => ({ authorization: `Bearer ${served.token}` });

async function modernClient(): Promise<Client> {
  const client = new Client(
    { name: 'modern-test', version: '1.0.0' },
    { versionNegotiation: { mode: { pin: MODERN } } },
  );
  await client.connect(
    new StreamableHTTPClientTransport(new URL(served.url), { requestInit: { headers: auth() } }),
  );
  return fx.track(client);
}

const post = (body: { method: string }, headers: Record<string, string>) =>
  fetch(served.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': MODERN,
      'mcp-method': body.method,
      ...headers,
    },
    body: JSON.stringify(body),
  });

describe('beacon-instance on MCP 2026-07-28', () => {
  it('serves a pinned client without a session: tools, a run, its log, and its updates', async () => {
    await start();
    const client = await modernClient();
    expect(client.getProtocolEra()).toBe('modern');
    const names = (await client.listTools()).tools.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(['scripts_run', 'logs_get', 'project_info']));

    const run = (await client.callTool({
      name: 'scripts_run',
      arguments: { name: 'tick', waitFor: { pattern: 'tick 1' } },
    })) as CallToolResult;
    expect(run.isError).toBeFalsy();
    const runId = (run.structuredContent as { id: string }).id;
    const uri = `logs://${runId}`;

    const updates: string[] = [];
    client.setNotificationHandler('notifications/resources/updated', async (n) => {
      updates.push(n.params.uri);
    });
    const subscription = await client.listen({ resourceSubscriptions: [uri] });
    expect(subscription.honoredFilter).toEqual({ resourceSubscriptions: [uri] });
    await waitFor(() => updates.includes(uri), { what: 'resources/updated on the listen' });
    const read = await client.readResource({ uri });
    expect((read.contents[0] as { text: string }).text).toContain('tick');
    await subscription.close();
  });

  it('keeps 2025 sessions as they were, next to 2026-07-28 requests, which hold none', async () => {
    served = (await fx.startAndWaitForRecord(['--max-sessions', '1'])).record;
    const legacy = await fx.connectClient(served);
    const modern = await modernClient();
    const [a, b] = await Promise.all([
      legacy.callTool({ name: 'scripts_list', arguments: {} }),
      modern.callTool({ name: 'scripts_list', arguments: {} }),
    ]);
    expect(a.structuredContent).toEqual(b.structuredContent);
    expect(legacy.getServerVersion()?.name).toBe('beacon-instance');
    // The one session allowed is the 2025 client's: 2026-07-28 calls hold none, and keep working.
    for (let i = 0; i < 5; i++) await modernClient();
    expect((await modern.callTool({ name: 'scripts_list', arguments: {} })).isError).toBeFalsy();
    const second = await rawPost(served.url, { body: INITIALIZE, token: served.token });
    expect(second.status).toBe(503);
  });

  it('checks the token, Host and Origin of a 2026-07-28 request as of any other', async () => {
    await start();
    const discover = {
      jsonrpc: '2.0',
      id: 1,
      method: 'server/discover',
      params: { _meta: ENVELOPE },
    };
    const ok = await post(discover, auth());
    expect(ok.status).toBe(200);
    expect(JSON.stringify(await ok.json())).toContain(MODERN);
    expect((await post(discover, {})).status).toBe(401);
    expect((await post(discover, { ...auth(), origin: 'https://evil.example' })).status).toBe(403);
    const wrongHost = await rawPost(served.url, {
      body: discover,
      token: served.token,
      headers: { host: `evil.example:${served.port}`, 'mcp-protocol-version': MODERN },
    });
    expect(wrongHost.status).toBe(403);
  });
});
