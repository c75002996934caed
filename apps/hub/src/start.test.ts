import { chown, lstat, mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { InstanceSummary } from '@mcp-beacon/hub-mcp';
import { resolvePaths } from '@mcp-beacon/paths';
import { readValidRecords } from '@mcp-beacon/registry';
import {
  createTempDir,
  processesWith,
  startProcess,
  type TempDir,
  testNode,
  waitFor,
} from '@mcp-beacon/test-utils';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import {
  type CallToolResult,
  ListRootsRequestSchema,
  type Root,
} from '@modelcontextprotocol/sdk/types.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { launchLogFile } from './launch-logs.js';

const HUB = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const INSTANCE = fileURLToPath(new URL('../../instance/dist/cli.js', import.meta.url));

let tmp: TempDir;
let home: string;
const clients: Client[] = [];

beforeEach(async () => {
  tmp = await createTempDir('beacon-start-');
  home = path.join(tmp.path, 'home');
});
afterEach(async () => {
  await Promise.allSettled(clients.splice(0).map((c) => c.close()));
  // Started instances are detached and outlive the hub: stop them, then prove none is left.
  for (const pid of processesWith(tmp.path)) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // Gone already.
    }
  }
  await waitFor(() => processesWith(tmp.path).length === 0, { what: 'started instances gone' });
  await tmp.cleanup();
});

async function makeProject(name: string, packageJson = true): Promise<string> {
  const dir = path.join(tmp.path, name);
  await mkdir(dir, { recursive: true });
  if (packageJson)
    await writeFile(
      path.join(dir, 'package.json'),
      JSON.stringify({ name, scripts: { hello: 'node -e "console.log(1)"' } }),
    );
  return dir;
}

/** A real SDK client on the built hub; `roots` (when given) is what it reports. */
async function startHub(args: string[] = [], roots?: { list: Root[] }) {
  let stderr = '';
  const transport = new StdioClientTransport({
    command: testNode,
    args: [HUB, '--standalone', '--log-level', 'info', ...args],
    env: { ...(process.env as Record<string, string>), MCP_BEACON_HOME: home },
    stderr: 'pipe',
  });
  transport.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const client = new Client(
    { name: 'start-test', version: '1.0.0' },
    { capabilities: roots ? { roots: { listChanged: true } } : {} },
  );
  let rootLists = 0;
  if (roots)
    client.setRequestHandler(ListRootsRequestSchema, async () => {
      rootLists++;
      return { roots: roots.list };
    });
  await client.connect(transport);
  clients.push(client);
  return { client, stderr: () => stderr, rootLists: () => rootLists };
}

const call = async (client: Client, name: string, args: Record<string, unknown>) =>
  (await client.callTool({ name, arguments: args })) as CallToolResult;

const text = (result: CallToolResult) =>
  result.content.map((c) => (c.type === 'text' ? c.text : '')).join('');

const recordsAt = async (dir: string) =>
  (await readValidRecords(resolvePaths({ home }).instances)).filter((r) => r.path === dir);

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('instances_start', () => {
  it('starts an instance that outlives the hub, and answers the running one on a second call', async () => {
    const dir = await makeProject('shop');
    const hub = await startHub();
    const result = await call(hub.client, 'instances_start', { path: dir });
    expect(result.isError).toBeFalsy();
    const started = result.structuredContent as InstanceSummary & {
      tools: string[];
      launched: boolean;
    };
    expect(started).toMatchObject({ name: 'shop', state: 'active', path: dir, launched: true });
    expect(started.tools).toContain('scripts_run');
    expect(text(result)).toMatch(/^started shop \(pid \d+/);
    // Its tools are offered at once, and the record is the instance's own.
    const listed = (await hub.client.listTools()).tools.find((t) => t.name === 'scripts_list');
    expect(listed?.description).toMatch(/^\[project\] /);
    expect((await recordsAt(dir)).map((r) => r.pid)).toEqual([started.pid]);
    const hello = await call(hub.client, 'scripts_list', { instance: 'shop' });
    expect(text(hello)).toContain('hello');

    const again = await call(hub.client, 'instances_start', { path: dir });
    expect(again.structuredContent).toMatchObject({ launched: false, pid: started.pid });
    expect(text(again)).toMatch(/already running/);

    // Detached: closing the hub leaves it running, announced, for the next hub.
    await hub.client.close();
    expect(alive(started.pid)).toBe(true);
    const next = await startHub();
    const list = await call(next.client, 'instances_list', {});
    expect((list.structuredContent as { instances: InstanceSummary[] }).instances).toEqual([
      expect.objectContaining({ pid: started.pid, state: 'active' }),
    ]);
    // Its stderr goes to one log file per project under the data folder.
    expect(await readdir(path.join(home, 'logs'))).toEqual([
      expect.stringMatching(/^shop-[0-9a-f]{8}\.log$/),
    ]);
  });

  it('answers the instance of a folder started through a symlink, by either path', async () => {
    const dir = await makeProject('linked');
    const via = path.join(tmp.path, 'via');
    await symlink(dir, via, 'dir');
    const byHand = startProcess(testNode, [INSTANCE, '--cwd', via], {
      env: { ...process.env, MCP_BEACON_HOME: home },
    });
    const hub = await startHub();
    await waitFor(
      async () => {
        const list = await call(hub.client, 'instances_list', {});
        return (list.structuredContent as { instances: InstanceSummary[] }).instances.some(
          (i) => i.pid === byHand.pid && i.state === 'active',
        );
      },
      { what: 'the instance started by hand' },
    );
    for (const folder of [dir, via]) {
      const again = await call(hub.client, 'instances_start', { path: folder });
      expect(again.isError, text(again)).toBeFalsy();
      expect(again.structuredContent).toMatchObject({ launched: false, pid: byHand.pid });
    }
    expect(processesWith(dir)).toEqual([]); // no second instance was launched
  });

  it('writes a launch log as a new 0600 file, never through a symlink planted at its name', async () => {
    const dir = await makeProject('planted');
    const victim = path.join(tmp.path, 'victim.txt');
    await writeFile(victim, 'precious\n');
    const logFile = launchLogFile(resolvePaths({ home }), dir);
    await mkdir(path.dirname(logFile), { recursive: true, mode: 0o700 });
    await symlink(victim, logFile);
    const hub = await startHub();
    const result = await call(hub.client, 'instances_start', { path: dir });
    expect(result.isError).toBeFalsy();
    expect(await readFile(victim, 'utf8')).toBe('precious\n');
    const log = await lstat(logFile);
    expect(log.isFile()).toBe(true);
    expect(log.mode & 0o777).toBe(0o600);
  });

  it('refuses a folder without package.json, a relative path and a missing folder, touching nothing', async () => {
    const bare = await makeProject('bare', false);
    const hub = await startHub();
    const noPackage = await call(hub.client, 'instances_start', { path: bare });
    expect(noPackage.isError).toBe(true);
    expect(text(noPackage)).toBe(
      `${bare} has no package.json; beacon-instance serves a project's package.json scripts`,
    );
    const relative = await call(hub.client, 'instances_start', { path: 'some/project' });
    expect(relative.isError).toBe(true);
    expect(text(relative)).toMatch(/is not an absolute path/);
    const missing = await call(hub.client, 'instances_start', {
      path: path.join(tmp.path, 'nope'),
    });
    expect(missing.isError).toBe(true);
    expect(text(missing)).toMatch(/nope is not a folder$/);
    const unc = await call(hub.client, 'instances_start', { path: '//fileserver/share/web' });
    expect(unc.isError).toBe(true);
    expect(text(unc)).toBe(
      '//fileserver/share/web is a network path; start instances in local folders',
    );
    // As root the test can hand a folder to another user; a user cannot, so it checks its own.
    const foreign = await makeProject('foreign');
    if (process.getuid?.() === 0) {
      await chown(foreign, 65534, 65534);
      const refused = await call(hub.client, 'instances_start', { path: foreign });
      expect(refused.isError).toBe(true);
      expect(text(refused)).toMatch(/belongs to another user \(uid 65534\)/);
    }
    expect(processesWith(tmp.path)).toEqual([]);
    expect(await recordsAt(bare)).toEqual([]);
  });

  it('reports a beacon-instance that exits at once, with the end of its output', async () => {
    const dir = await makeProject('broken');
    const bin = path.join(tmp.path, 'crash.mjs');
    await writeFile(bin, 'console.error("cannot bind: EADDRINUSE"); process.exit(3);\n');
    const hub = await startHub(['--instance-bin', bin]);
    const result = await call(hub.client, 'instances_start', { path: dir });
    expect(result.isError).toBe(true);
    expect(text(result)).toMatch(
      /^beacon-instance in .*broken exited \(code 3\) before it became active; its output ends: cannot bind: EADDRINUSE$/,
    );
  });

  it('reports a beacon-instance that cannot be run', async () => {
    const dir = await makeProject('nobin');
    const hub = await startHub([
      '--instance-bin',
      path.join(tmp.path, 'missing', 'beacon-instance'),
    ]);
    const result = await call(hub.client, 'instances_start', { path: dir });
    expect(result.isError).toBe(true);
    expect(text(result)).toMatch(/^cannot run .*missing\/beacon-instance: spawn .* ENOENT$/);
  });

  it('kills a launch that never becomes active at the timeout', async () => {
    const dir = await makeProject('silent');
    const bin = path.join(tmp.path, 'hang.mjs');
    await writeFile(bin, 'setInterval(() => {}, 1000);\n');
    const hub = await startHub(['--instance-bin', bin, '--start-timeout', '1000']);
    const result = await call(hub.client, 'instances_start', { path: dir });
    expect(result.isError).toBe(true);
    expect(text(result)).toMatch(/silent did not become active within 1000 ms$/);
    // The launch ran with `--cwd <dir>` in its command line (the hub's has no such thing).
    await waitFor(() => processesWith(dir).length === 0, { what: 'launch killed' });

    // A cancelled call kills its launch too.
    const other = await makeProject('cancelled');
    const controller = new AbortController();
    const pending = hub.client.callTool(
      { name: 'instances_start', arguments: { path: other } },
      undefined,
      {
        signal: controller.signal,
      },
    );
    await waitFor(() => processesWith(other).length === 1, { what: 'launch running' });
    controller.abort();
    await expect(pending).rejects.toThrow(/abort/i);
    await waitFor(() => processesWith(other).length === 0, { what: 'cancelled launch killed' });
  });
});

describe('concurrent instances_start for one folder', () => {
  it('shares one launch; one caller’s cancel ends only its own wait', async () => {
    const dir = await makeProject('shared');
    // The real beacon-instance, started 800 ms late: time for two calls to wait on one launch.
    const bin = path.join(tmp.path, 'late-instance.mjs');
    await writeFile(
      bin,
      `await new Promise((r) => setTimeout(r, 800));\nawait import(${JSON.stringify(pathToFileURL(INSTANCE).href)});\n`,
    );
    const hub = await startHub(['--instance-bin', bin]);
    const controller = new AbortController();
    const cancelled = hub.client.callTool(
      { name: 'instances_start', arguments: { path: dir } },
      undefined,
      { signal: controller.signal },
    );
    const patient = call(hub.client, 'instances_start', { path: dir });
    await waitFor(() => processesWith(dir).length === 1, { what: 'one launch running' });
    controller.abort();
    await expect(cancelled).rejects.toThrow(/abort/i);
    const result = await patient;
    expect(result.isError, text(result)).toBeFalsy();
    expect(result.structuredContent).toMatchObject({
      name: 'shared',
      launched: true,
      state: 'active',
    });
    expect(await recordsAt(dir)).toHaveLength(1);
  });
});

describe('--start-roots', () => {
  it('starts an instance in each root with a package.json before answering the first tools/list, and again when roots change', async () => {
    const web = await makeProject('web');
    const notes = await makeProject('notes', false);
    const api = await makeProject('api');
    const roots = { list: [web, notes].map((dir) => ({ uri: pathToFileURL(dir).href })) };
    const hub = await startHub(['--start-roots', '--first-list-timeout', '15000'], roots);

    // The client lists once, right away: web is already there (no other instance offers it).
    const offeredBy = async (name: string) => {
      const list = await call(hub.client, 'instances_list', {});
      return (list.structuredContent as { instances: InstanceSummary[] }).instances.some(
        (i) => i.name === name && i.state === 'active',
      );
    };
    const first = (await hub.client.listTools()).tools.find((t) => t.name === 'scripts_run');
    expect(first).toBeDefined();
    expect(await offeredBy('web')).toBe(true);
    expect(await recordsAt(web)).toHaveLength(1);
    expect(await recordsAt(notes)).toEqual([]);

    roots.list.push({ uri: pathToFileURL(api).href });
    await hub.client.sendRootsListChanged();
    await waitFor(async () => (await recordsAt(api)).length === 1, { what: 'api started' });
    await waitFor(() => offeredBy('api'), { what: 'api tools' });
    // web already had a live instance: not started twice.
    expect(await recordsAt(web)).toHaveLength(1);
    expect(hub.rootLists()).toBe(2);
    expect(hub.stderr()).toMatch(/started web in root /);
    expect(hub.stderr()).not.toMatch(/notes/);
  });

  it('does nothing for a client without roots, and serves as usual', async () => {
    await makeProject('web');
    const hub = await startHub(['--start-roots']);
    expect((await hub.client.listTools()).tools.map((t) => t.name)).toContain('instances_start');
    await waitFor(() => /does not report roots/.test(hub.stderr()), { what: 'log line' });
    expect(processesWith(tmp.path)).toEqual([]);
  });
});
