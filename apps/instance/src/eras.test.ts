// beacon-instance serves both protocol eras on one endpoint: 2026-07-28 requests statelessly
// (no session is opened), 2025 clients with sessions as before; the Host, Origin and token
// checks come first for both.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createLogger } from '@mcp-beacon/registry';
import { createTempDir, type TempDir, waitFor } from '@mcp-beacon/test-utils';
import {
  type CallToolResult,
  Client,
  StreamableHTTPClientTransport,
} from '@modelcontextprotocol/client';
import { Client as LegacyClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as LegacyHttp } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Instance, startInstance } from './instance.js';

const MODERN = '2026-07-28';
const ENVELOPE = {
  'io.modelcontextprotocol/protocolVersion': MODERN,
  'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1.0.0' },
  'io.modelcontextprotocol/clientCapabilities': {},
};

let tmp: TempDir;
let served: Instance;
const closers: Array<() => Promise<unknown>> = [];

beforeEach(async () => {
  tmp = await createTempDir();
  const project = path.join(tmp.path, 'shop');
  await mkdir(project);
  await writeFile(
    path.join(project, 'package.json'),
    JSON.stringify({
      name: 'shop',
      scripts: {
        tick: `node -e "let i=0;const t=setInterval(()=>{console.log('tick '+(++i));if(i===40)clearInterval(t)},100)"`,
      },
    }),
  );
  served = await startInstance({ cwd: project, logger: createLogger('silent'), register: false });
});
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close().catch(() => undefined);
  await served.close();
  await tmp[Symbol.asyncDispose]();
});

const auth = () => ({ authorization: `Bearer ${served.token}` });

async function modernClient(): Promise<Client> {
  const client = new Client(
    { name: 'modern-test', version: '1.0.0' },
    { versionNegotiation: { mode: { pin: MODERN } } },
  );
  await client.connect(
    new StreamableHTTPClientTransport(new URL(served.url), { requestInit: { headers: auth() } }),
  );
  closers.push(() => client.close());
  return client;
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

  it('keeps 2025 sessions as they were, next to 2026-07-28 requests', async () => {
    const legacy = new LegacyClient({ name: 'legacy-test', version: '1.0.0' });
    await legacy.connect(new LegacyHttp(new URL(served.url), { requestInit: { headers: auth() } }));
    closers.push(() => legacy.close());
    const modern = await modernClient();
    const [a, b] = await Promise.all([
      legacy.callTool({ name: 'scripts_list', arguments: {} }),
      modern.callTool({ name: 'scripts_list', arguments: {} }),
    ]);
    expect(a.structuredContent).toEqual(b.structuredContent);
    expect(legacy.getServerVersion()?.name).toBe('beacon-instance');
  });

  it('checks the token, Host and Origin of a 2026-07-28 request as of any other', async () => {
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
    const wrongHost = await fetch(served.url.replace('127.0.0.1', 'localhost'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...auth() },
      body: JSON.stringify(discover),
    });
    expect(wrongHost.status).toBe(403);
  });
});
