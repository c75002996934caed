import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { HUB_CLIENT_CAPABILITIES } from '@mcp-beacon/hub-mcp';
import { resolvePaths } from '@mcp-beacon/paths';
import { readInstanceDir } from '@mcp-beacon/registry';
import {
  createTempDir,
  freePort,
  startProcess,
  type TempDir,
  type TestProcess,
  testNode,
  waitFor,
} from '@mcp-beacon/test-utils';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The ext-apps project's example MCP App server, announced with `beacon-instance announce`:
// an MCP Apps host reads the UI resource a tool names, so that read must work through the hub.
const HUB = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const INSTANCE = fileURLToPath(new URL('../../instance/dist/cli.js', import.meta.url));
const LOOPBACK = fileURLToPath(new URL('./_fixtures/loopback-only.mjs', import.meta.url));
// Its main export is dist/server.js; the program beside it starts the HTTP server.
const APP_SERVER = fileURLToPath(
  import.meta.resolve('@modelcontextprotocol/server-basic-vanillajs'),
).replace(/server\.js$/, 'index.js');

const uiUri = (tool: Tool | undefined) =>
  (tool?._meta?.ui as { resourceUri?: string } | undefined)?.resourceUri;

let tmp: TempDir;
let app: TestProcess;
let announcer: TestProcess;
let hub: Client;
let direct: Client;

beforeAll(async () => {
  tmp = await createTempDir();
  const home = path.join(tmp.path, 'home');
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/mcp`;
  app = startProcess(testNode, [LOOPBACK, APP_SERVER], {
    env: { ...process.env, PORT: String(port) },
  });
  await waitFor(
    () =>
      fetch(url).then(
        () => true,
        () => false,
      ),
    { what: 'the app server listening' },
  );
  announcer = startProcess(
    testNode,
    [INSTANCE, 'announce', '--url', url, '--name', 'apps-demo', '--interval', '200'],
    { cwd: tmp.path, env: { ...process.env, MCP_BEACON_HOME: home } },
  );
  await waitFor(
    async () => (await readInstanceDir(resolvePaths({ home }).instances)).length === 1,
    { what: 'announced' },
  );
  hub = new Client({ name: 'apps-host', version: '1.0.0' });
  await hub.connect(
    new StdioClientTransport({
      command: testNode,
      args: [HUB, '--standalone', '--standalone'],
      env: { ...(process.env as Record<string, string>), MCP_BEACON_HOME: home },
      stderr: 'ignore',
    }),
  );
  direct = new Client(
    { name: 'direct', version: '1.0.0' },
    { capabilities: HUB_CLIENT_CAPABILITIES },
  );
  await direct.connect(new StreamableHTTPClientTransport(new URL(url)));
  await waitFor(async () => (await hub.listTools()).tools.some((t) => uiUri(t) !== undefined), {
    what: 'the app tool through the hub',
  });
});

afterAll(async () => {
  await hub?.close();
  await direct?.close();
  await announcer?.kill();
  await app?.kill();
  await tmp?.cleanup();
});

describe('an MCP App through the hub', () => {
  it('names its UI resource with a ui:// URI that reads exactly as direct', async () => {
    const own = (await direct.listTools()).tools.find((t) => uiUri(t) !== undefined)!;
    const viaHub = (await hub.listTools()).tools.find((t) => t.name === own.name)!;
    expect(uiUri(own)).toBe('ui://get-time/mcp-app.html');
    expect(uiUri(viaHub)).toBe('ui://apps-demo/get-time/mcp-app.html');
    const want = await direct.readResource({ uri: uiUri(own)! });
    const got = await hub.readResource({ uri: uiUri(viaHub)! });
    expect(got.contents).toHaveLength(1);
    const [content] = got.contents;
    expect(content).toEqual({ ...want.contents[0], uri: uiUri(viaHub) });
    expect(content?.mimeType).toBe('text/html;profile=mcp-app');
    expect((content as { text: string }).text).toContain('<html');
    // The hub lists it under the same URI, so a host that lists resources finds it too.
    const listed = (await hub.listResources()).resources.map((r) => r.uri);
    expect(listed).toContain(uiUri(viaHub));
  });

  it('calls the app tool by its own name, as the app inside the host does', async () => {
    const own = (await direct.listTools()).tools.find((t) => uiUri(t) !== undefined)!;
    const result = await hub.callTool({ name: own.name, arguments: {} });
    expect(result.isError).toBeFalsy();
    expect(JSON.stringify(result.content)).toMatch(/\d{4}-\d{2}-\d{2}/);
  });

  // Last: it stops the app's announcer.
  it('fails a UI resource URI once the instance that served it is gone, naming it', async () => {
    const viaHub = (await hub.listTools()).tools.find((t) => uiUri(t) !== undefined)!;
    // SIGTERM: the announcer withdraws its record, and the hub drops the instance.
    await announcer.kill('SIGTERM');
    await waitFor(async () => !(await hub.listTools()).tools.some((t) => uiUri(t) !== undefined), {
      what: 'the app gone from the hub',
    });
    await expect(hub.readResource({ uri: uiUri(viaHub)! })).rejects.toThrow(
      /Unknown resource: ui:\/\/apps-demo\/get-time\/mcp-app\.html: it was served by apps-demo \(.*\), which has left the hub/,
    );
  });
});
