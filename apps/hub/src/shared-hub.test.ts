// One hub per user: beacon-hub as clients launch it is a bridge to the user's shared hub, which
// serves each client as its own session over one connection per instance. Real processes: the
// built CLI as bridges and hub, fixture MCP servers, SDK clients of both protocol eras.
import { cp, lstat, mkdir, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isProcessAlive } from '@mcp-beacon/runtime';
import { startProcess, testNode, waitFor } from '@mcp-beacon/test-utils';
import { Client as ModernClient } from '@modelcontextprotocol/client';
import { StdioClientTransport as ModernStdio } from '@modelcontextprotocol/client/stdio';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import {
  type CallToolResult,
  ElicitRequestSchema,
  LATEST_PROTOCOL_VERSION,
  ListRootsRequestSchema,
  ToolListChangedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { HUB, useHubFixture } from './_hub-fixture.js';

const SERVER = fileURLToPath(new URL('./_fixtures/session-server.mjs', import.meta.url));
const MARK = 'beacon-shared-hub-test';
/** Hub-wide flags every bridge of a test gives (so they share one hub). */
const HUB_FLAGS = ['--ping-interval', '200', '--ping-timeout', '300', '--idle-exit', '60000'];

const fx = useHubFixture();

/** The pids of the shared hubs of the test's data home (from their lock files). */
async function hubPids(): Promise<number[]> {
  const dir = path.join(fx.home, 'hub');
  const names = await readdir(dir).catch(() => [] as string[]);
  const pids: number[] = [];
  for (const name of names.filter((n) => n.endsWith('.lock'))) {
    const pid = Number.parseInt(await readFile(path.join(dir, name), 'utf8').catch(() => ''), 10);
    if (Number.isInteger(pid)) pids.push(pid);
  }
  return pids;
}

// The shared hubs a test started outlive its bridges by design: each test ends them.
afterEach(async () => {
  const pids = await hubPids();
  for (const pid of pids) if (isProcessAlive(pid)) process.kill(pid, 'SIGTERM');
  await waitFor(async () => pids.every((pid) => !isProcessAlive(pid)) || undefined, {
    what: 'shared hubs gone',
  });
});

/** Starts the session fixture `name` in a project folder of its own; resolves with that folder. */
async function startServer(name: string): Promise<string> {
  const cwd = await fx.makeProject(name);
  fx.track(
    startProcess(testNode, [SERVER, MARK, name], {
      cwd,
      env: { ...process.env, MCP_BEACON_HOME: fx.home },
    }),
  ).waitForStderr(/listening on/);
  await waitFor(async () => (await fx.records()).find((r) => r.name === name), {
    what: `${name} record`,
  });
  return cwd;
}

interface Seen {
  asked: string[];
  progress: string[];
  toolsChanged: number;
}

/** A 2025 SDK client launching beacon-hub (a bridge) in `cwd`, answering `who` when asked. */
async function legacyClient(
  who: string,
  options: { cwd?: string; roots?: string[]; args?: string[] } = {},
): Promise<{ client: Client; seen: Seen; stderr: () => string }> {
  const seen: Seen = { asked: [], progress: [], toolsChanged: 0 };
  let stderr = '';
  const transport = new StdioClientTransport({
    command: testNode,
    args: [HUB, '--log-level', 'debug', ...HUB_FLAGS, ...(options.args ?? [])],
    env: { ...(process.env as Record<string, string>), MCP_BEACON_HOME: fx.home },
    cwd: options.cwd ?? fx.tmp.path,
    stderr: 'pipe',
  });
  transport.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const client = new Client(
    { name: `legacy-${who}`, version: '1.0.0' },
    { capabilities: { elicitation: {}, ...(options.roots ? { roots: {} } : {}) } },
  );
  client.setRequestHandler(ElicitRequestSchema, async (request) => {
    seen.asked.push((request.params as { message: string }).message);
    return { action: 'accept', content: { who } };
  });
  const { roots } = options;
  if (roots)
    client.setRequestHandler(ListRootsRequestSchema, async () => ({
      roots: roots.map((folder) => ({ uri: pathToFileURL(folder).href })),
    }));
  client.setNotificationHandler(ToolListChangedNotificationSchema, async () => {
    seen.toolsChanged++;
  });
  await client.connect(transport);
  fx.trackClient(client);
  return { client, seen, stderr: () => stderr };
}

/** A 2026-07-28 SDK client launching beacon-hub (a bridge), answering `who` when asked. */
async function modernClient(who: string): Promise<{ client: ModernClient; seen: Seen }> {
  const seen: Seen = { asked: [], progress: [], toolsChanged: 0 };
  const client = new ModernClient(
    { name: `modern-${who}`, version: '1.0.0' },
    { versionNegotiation: { mode: { pin: '2026-07-28' } }, capabilities: { elicitation: {} } },
  );
  client.setRequestHandler('elicitation/create', async (request) => {
    seen.asked.push((request.params as { message: string }).message);
    return { action: 'accept', content: { who } };
  });
  const transport = new ModernStdio({
    command: testNode,
    args: [HUB, '--log-level', 'debug', ...HUB_FLAGS],
    env: { ...(process.env as Record<string, string>), MCP_BEACON_HOME: fx.home },
    cwd: fx.tmp.path,
    stderr: 'pipe',
  });
  await client.connect(transport);
  fx.trackClient(client as never);
  return { client, seen };
}

const text = (result: unknown) =>
  ((result as CallToolResult).content ?? [])
    .map((c) => (c.type === 'text' ? c.text : ''))
    .join('\n');

/** Waits until `client` lists instance `name` as active. */
async function waitActive(
  client: {
    callTool(params: { name: string; arguments: Record<string, unknown> }): Promise<unknown>;
  },
  name: string,
): Promise<void> {
  await waitFor(
    async () => {
      const result = await client.callTool({ name: 'instances_list', arguments: {} });
      const list = (
        (result as CallToolResult).structuredContent as {
          instances: { name: string; state: string }[];
        }
      ).instances;
      return list.some((i) => i.name === name && i.state === 'active') || undefined;
    },
    { what: `${name} active` },
  );
}

/**
 * A client whose bridge must refuse the hub's endpoint: it never gets a session of a hub. Its
 * `initialize` may be answered from what the hub said before; then its first request fails with
 * the refusal, and nothing reaches the endpoint.
 */
async function expectRefused(who: string, reason: RegExp): Promise<void> {
  let client: Client;
  try {
    ({ client } = await legacyClient(who));
  } catch (error) {
    expect((error as Error).message).toMatch(reason);
    return;
  }
  await expect(client.listTools()).rejects.toThrow(reason);
  await client.close();
}

/**
 * Lets a first client meet the hub (`seen` gets it before it leaves), then ends that hub: its
 * endpoint's files stay, and their paths are returned.
 */
async function metThenStopped(
  seen: (client: Client) => void = () => undefined,
): Promise<{ dir: string; sock: string; lock: string }> {
  const first = await legacyClient('first');
  seen(first.client);
  await first.client.close();
  const [pid] = await hubPids();
  process.kill(pid!, 'SIGTERM');
  await waitFor(async () => !isProcessAlive(pid!) || undefined, { what: 'hub gone' });
  const dir = path.join(fx.home, 'hub');
  const key = (await readdir(dir)).find((n) => n.endsWith('.log'))!.replace(/\.log$/, '');
  return { dir, sock: path.join(dir, `${key}.sock`), lock: path.join(dir, `${key}.lock`) };
}

describe('the shared hub', () => {
  it('serves three clients at once, each only its own results, input requests and progress, over one instance session', async () => {
    const alpha = await startServer('alpha');
    const beta = await startServer('beta');
    const inside = path.join(alpha, 'src');
    await mkdir(inside);

    const withRoots = await legacyClient('L', { roots: [beta] });
    const modern = await modernClient('M');
    const rootless = await legacyClient('R', { cwd: inside });
    await waitActive(withRoots.client, 'alpha');
    await waitActive(withRoots.client, 'beta');
    // A 2026-07-28 client has no handshake: the hub knows it once it asks something.
    await waitActive(modern.client, 'alpha');

    // One hub serves all three, started with the young generation's bound.
    const pids = await hubPids();
    expect(pids).toHaveLength(1);
    if (process.platform === 'linux')
      expect((await readFile(`/proc/${pids[0]}/cmdline`, 'utf8')).split('\0')).toContain(
        '--max-semi-space-size=1',
      );
    const status = startProcess(testNode, [HUB, 'status', '--json'], {
      env: { ...process.env, MCP_BEACON_HOME: fx.home },
    });
    expect((await status.exited).code).toBe(0);
    const hubs = JSON.parse(status.stdout()) as {
      pid: number;
      sessions: { client?: { name: string }; era?: string; workingFolder?: string }[];
    }[];
    expect(hubs).toHaveLength(1);
    expect(hubs[0]!.pid).toBe(pids[0]);
    expect(hubs[0]!.sessions.map((s) => s.client?.name).sort()).toEqual([
      'legacy-L',
      'legacy-R',
      'modern-M',
    ]);
    expect(hubs[0]!.sessions.find((s) => s.client?.name === 'modern-M')?.era).toBe('modern');
    expect(hubs[0]!.sessions.find((s) => s.client?.name === 'legacy-R')?.workingFolder).toBe(
      inside,
    );

    // The same instance tool, concurrently, from the three; plus a call cancelled meanwhile.
    const progressOf = (seen: Seen) => ({
      onprogress: (p: { message?: string | undefined }) => void seen.progress.push(p.message ?? ''),
    });
    const waiting = new AbortController();
    const cancelledCall = rootless.client
      .callTool({ name: 'wait', arguments: { instance: 'alpha' } }, undefined, {
        signal: waiting.signal,
      })
      .then(
        () => 'answered',
        (error: Error) => error.message,
      );
    const [l, m, r] = await Promise.all([
      withRoots.client.callTool(
        { name: 'work', arguments: { tag: 'L', instance: 'alpha' } },
        undefined,
        progressOf(withRoots.seen),
      ),
      modern.client.callTool({ name: 'work', arguments: { tag: 'M', instance: 'alpha' } }),
      rootless.client.callTool({ name: 'work', arguments: { tag: 'R' } }, undefined, {
        ...progressOf(rootless.seen),
      }),
    ]);
    waiting.abort('enough');
    expect(await cancelledCall).not.toBe('answered');

    expect(text(l)).toContain('done L at alpha: {"who":"L"}');
    expect(text(m)).toContain('done M at alpha: {"who":"M"}');
    // No `instance`, no roots: the project the client was launched in answers.
    expect(text(r)).toContain('done R at alpha: {"who":"R"}');
    expect(withRoots.seen.asked).toEqual([expect.stringContaining('confirm L')]);
    expect(modern.seen.asked).toEqual([expect.stringContaining('confirm M')]);
    expect(rootless.seen.asked).toEqual([expect.stringContaining('confirm R')]);
    expect(withRoots.seen.progress).toEqual(['L 1', 'L 2', 'L 3']);
    expect(rootless.seen.progress).toEqual(['R 1', 'R 2', 'R 3']);

    // The client with roots in beta gets beta without naming it.
    const byRoots = await withRoots.client.callTool({ name: 'work', arguments: { tag: 'L2' } });
    expect(text(byRoots)).toContain('done L2 at beta');

    // The cancellation reached the instance, and alpha saw one session: the hub's.
    await waitFor(
      async () =>
        text(
          await modern.client.callTool({ name: 'cancelled', arguments: { instance: 'alpha' } }),
        ).includes('1') || undefined,
      { what: 'the cancellation at alpha' },
    );
    const sessions = await withRoots.client.callTool({
      name: 'sessions',
      arguments: { instance: 'alpha' },
    });
    expect(text(sessions)).toMatch(/^1\b/);
  });

  it('starts one hub for ten bridges started at the same instant', async () => {
    const bridges = Array.from({ length: 10 }, () =>
      fx.track(
        startProcess(testNode, [HUB, ...HUB_FLAGS], {
          env: { ...process.env, MCP_BEACON_HOME: fx.home },
          stdio: ['pipe', 'pipe', 'pipe'],
        }),
      ),
    );
    for (const [i, bridge] of bridges.entries())
      bridge.child.stdin?.write(
        `${JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'initialize',
          params: {
            protocolVersion: '2025-06-18',
            capabilities: {},
            clientInfo: { name: `bridge-${i}`, version: '1' },
          },
        })}\n`,
      );
    await waitFor(() => bridges.every((bridge) => bridge.stdout().includes('"id":1')), {
      what: 'every bridge initialized',
    });
    for (const bridge of bridges) expect(bridge.stdout()).toContain('"serverInfo"');
    const pids = await hubPids();
    expect(pids).toHaveLength(1);
    const status = startProcess(testNode, [HUB, 'status', '--json'], {
      env: { ...process.env, MCP_BEACON_HOME: fx.home },
    });
    await status.exited;
    expect((JSON.parse(status.stdout()) as { sessions: unknown[] }[])[0]!.sessions).toHaveLength(
      10,
    );
    for (const bridge of bridges) bridge.child.stdin?.end();
    await Promise.all(bridges.map((bridge) => bridge.exited));
  });

  it('carries each session on when the hub is killed mid-call: a clear error, then a working session', async () => {
    await startServer('alpha');
    const legacy = await legacyClient('L');
    const modern = await modernClient('M');
    await waitActive(legacy.client, 'alpha');
    // It has listed tools, so it is told to list them again after the restart.
    await legacy.client.listTools();
    const [first] = await hubPids();
    expect(first).toBeDefined();

    const calls = [
      legacy.client.callTool({ name: 'wait', arguments: { instance: 'alpha' } }),
      modern.client.callTool({ name: 'wait', arguments: { instance: 'alpha' } }),
    ].map((call) =>
      call.then(
        () => 'answered',
        (error: Error) => error.message,
      ),
    );
    // Both calls are running on the instance before the hub dies (the fixture says so).
    await waitFor(
      async () => {
        const running = await legacy.client.callTool({
          name: 'waiting',
          arguments: { instance: 'alpha' },
        });
        // The fixture's count, then the hub's attribution line.
        return text(running).split('\n')[0] === '2' || undefined;
      },
      { what: 'both wait calls running at alpha' },
    );
    process.kill(first!, 'SIGKILL');
    const [legacyError, modernError] = await Promise.all(calls);
    expect(legacyError).toMatch(/Beacon hub \(pid \d+\) stopped while tools\/call was in flight/);
    expect(modernError).toMatch(/Beacon hub \(pid \d+\) stopped while tools\/call was in flight/);

    // The same sessions go on with a new hub; the 2025 client is told to list again.
    await waitActive(legacy.client, 'alpha');
    await waitActive(modern.client, 'alpha');
    const [second] = await hubPids();
    expect(second).not.toBe(first);
    await waitFor(async () => legacy.seen.toolsChanged > 0 || undefined, {
      what: 'tools/list_changed after the restart',
    });
    const result = await legacy.client.callTool({ name: 'work', arguments: { tag: 'again' } });
    expect(text(result)).toContain('done again at alpha: {"who":"L"}');
    expect(legacy.stderr()).toContain('stopped; starting a new one');
  });

  it('answers initialize at once from what the hub said before, and carries the session on once a hub comes', async () => {
    // A first client meets the hub; its bridge keeps what the hub answered.
    let capabilities: unknown;
    let instructions: string | undefined;
    const { dir, lock } = await metThenStopped((client) => {
      capabilities = client.getServerCapabilities();
      instructions = client.getInstructions();
    });
    expect((await readdir(dir)).some((n) => n.endsWith('.initialize.json'))).toBe(true);

    // Another process holds the hub's lock for now, so no hub can start yet.
    const holder = fx.track(startProcess(testNode, ['-e', 'setInterval(() => {}, 1000)']));
    await writeFile(lock, `${holder.pid}\n`);
    const bridge = fx.track(
      startProcess(testNode, [HUB, ...HUB_FLAGS], {
        env: { ...process.env, MCP_BEACON_HOME: fx.home },
        stdio: ['pipe', 'pipe', 'pipe'],
      }),
    );
    const send = (message: Record<string, unknown>) =>
      bridge.child.stdin?.write(`${JSON.stringify({ jsonrpc: '2.0', ...message })}\n`);
    send({
      id: 1,
      method: 'initialize',
      params: {
        protocolVersion: LATEST_PROTOCOL_VERSION,
        capabilities: {},
        clientInfo: { name: 'early', version: '1' },
      },
    });
    await waitFor(() => bridge.stdout().includes('"id":1'), { what: 'the initialize answer' });
    const answer = JSON.parse(bridge.stdout().split('\n')[0]!) as {
      result: { protocolVersion: string; capabilities: unknown; instructions: string };
    };
    expect(answer.result.protocolVersion).toBe(LATEST_PROTOCOL_VERSION);
    expect(answer.result.capabilities).toEqual(capabilities);
    expect(answer.result.instructions).toBe(instructions);
    // Answered with no hub running.
    expect(await hubPids()).toEqual([holder.pid]);

    // The lock's holder leaves and a hub starts: the session goes on there.
    await holder.kill();
    await rm(lock);
    fx.track(
      startProcess(testNode, [HUB, 'daemon', ...HUB_FLAGS], {
        env: { ...process.env, MCP_BEACON_HOME: fx.home },
      }),
    );
    send({ method: 'notifications/initialized' });
    send({ id: 2, method: 'tools/list' });
    await waitFor(() => bridge.stdout().includes('"id":2'), {
      what: 'tools/list through the hub that came',
      timeoutMs: 20_000,
    });
    // The hub's own answer to initialize was not relayed a second time.
    expect(bridge.stdout().match(/"id":1\b/g)).toHaveLength(1);
    expect(bridge.stdout()).toContain('"name":"instances_list"');
    bridge.child.stdin?.end();
    await bridge.exited;
  });

  it('never lets bridges of two versions share a hub', async () => {
    // A copy of the built hub that says it is another version, beside the real one.
    const other = path.join(path.dirname(HUB), '..', `.test-version-${process.pid}`);
    await rm(other, { recursive: true, force: true });
    await cp(path.dirname(HUB), path.join(other, 'dist'), { recursive: true });
    const manifest = JSON.parse(
      await readFile(path.join(path.dirname(HUB), '..', 'package.json'), 'utf8'),
    );
    await writeFile(
      path.join(other, 'package.json'),
      JSON.stringify({ ...manifest, version: '99.0.0' }),
    );
    try {
      const now = await legacyClient('now');
      const transport = new StdioClientTransport({
        command: testNode,
        args: [path.join(other, 'dist', 'cli.js'), ...HUB_FLAGS],
        env: { ...(process.env as Record<string, string>), MCP_BEACON_HOME: fx.home },
        stderr: 'pipe',
      });
      const later = new Client({ name: 'later', version: '1' });
      await later.connect(transport);
      fx.trackClient(later);
      expect(later.getServerVersion()?.version).toBe('99.0.0');
      expect(now.client.getServerVersion()?.version).not.toBe('99.0.0');
      const pids = await hubPids();
      expect(pids).toHaveLength(2);
      await later.close();
    } finally {
      const pids = await hubPids();
      for (const pid of pids) if (isProcessAlive(pid)) process.kill(pid, 'SIGTERM');
      await waitFor(async () => pids.every((pid) => !isProcessAlive(pid)) || undefined, {
        what: 'hubs gone',
      });
      await rm(other, { recursive: true, force: true });
    }
  });

  it('refuses a hub endpoint that answers as another version', async () => {
    // Learn the endpoint, then stand a fake hub in its place.
    const { sock } = await metThenStopped();
    const fake = createServer((socket) => {
      socket.once('data', () =>
        socket.write(`${JSON.stringify({ beacon: 'welcome', version: '99.0.0', pid: 1 })}\n`),
      );
    });
    await new Promise<void>((resolve) => fake.listen(sock, resolve));
    try {
      await expectRefused('second', /version 99\.0\.0, not /);
    } finally {
      await new Promise((resolve) => fake.close(resolve));
    }
  });

  it('refuses a planted endpoint: a symlink, another user’s socket, a folder others can write to', async () => {
    const { dir, sock } = await metThenStopped();

    // A symlink where the socket goes: refused, and left as it was.
    const elsewhere = path.join(fx.tmp.path, 'elsewhere.sock');
    await symlink(elsewhere, sock);
    await expectRefused('second', /refusing .*: it is a symlink/);
    expect((await lstat(sock)).isSymbolicLink()).toBe(true);
    await rm(sock);

    // Another user's socket (root can make one here).
    if (process.getuid?.() === 0) {
      const foreign = createServer();
      await new Promise<void>((resolve) => foreign.listen(sock, resolve));
      const { chown } = await import('node:fs/promises');
      await chown(sock, 4242, 4242);
      try {
        await expectRefused('third', /owned by another user \(uid 4242\)/);
      } finally {
        await new Promise((resolve) => foreign.close(resolve));
      }
    }

    // The hub folder made writable by others.
    const { chmod } = await import('node:fs/promises');
    await chmod(dir, 0o777);
    await expectRefused('fourth', /writable by other users/);
    await chmod(dir, 0o700);
  });
});
