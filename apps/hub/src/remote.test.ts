// Remotes, end to end: a second hub in a network namespace of its own (a stand-in for another
// machine: the local hub cannot reach its instances' ports), reached only through the
// command's stdio.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { InstanceSummary, RemoteSummary } from '@mcp-beacon/hub-mcp';
import { resolvePaths } from '@mcp-beacon/paths';
import { type InstanceRecord, readValidRecords } from '@mcp-beacon/registry';
import { isProcessAlive } from '@mcp-beacon/runtime';
import {
  processesWith,
  splitAnswer,
  startProcess,
  type TestProcess,
  testNode,
  waitFor,
} from '@mcp-beacon/test-utils';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { type CallToolResult, CallToolResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HUB, INSTANCE, useHubFixture } from './_hub-fixture.js';

const SERVER = fileURLToPath(new URL('./_fixtures/remote-server.mjs', import.meta.url));
const STDIO_SERVER = fileURLToPath(new URL('./_fixtures/stdio-server.mjs', import.meta.url));
const THROTTLE = fileURLToPath(new URL('./_fixtures/throttle.mjs', import.meta.url));
const MARKER = `beacon-test-remote-${randomBytes(4).toString('hex')}`;
/** A Node option that does nothing but carry the marker in the command line. */
const MARK = `--disable-warning=${MARKER}`;

/**
 * A named network namespace with its loopback up, or undefined where that is not allowed
 * (or `BEACON_TEST_NO_NETNS` is set, to run the fallback on purpose).
 */
function createNamespace(): string | undefined {
  if (process.env.BEACON_TEST_NO_NETNS) return undefined;
  const name = `beacon-test-${randomBytes(4).toString('hex')}`;
  try {
    execFileSync('ip', ['netns', 'add', name], { stdio: 'ignore' });
    execFileSync('ip', ['netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up'], {
      stdio: 'ignore',
    });
    return name;
  } catch {
    try {
      execFileSync('ip', ['netns', 'delete', name], { stdio: 'ignore' });
    } catch {
      // It was never made.
    }
    return undefined;
  }
}

const ns = createNamespace();
if (!ns)
  console.warn(
    'remote.test: no network namespace (not permitted here, or BEACON_TEST_NO_NETNS is set); the remote hub runs on this machine with a separate data folder instead',
  );
afterAll(() => {
  if (ns) execFileSync('ip', ['netns', 'delete', ns], { stdio: 'ignore' });
});

/** `command args` run inside the namespace (when there is one). */
const inside = (command: string, args: string[]): [string, string[]] =>
  ns ? ['ip', ['netns', 'exec', ns, command, ...args]] : [command, args];

const quote = (word: string) => `'${word.replaceAll("'", "'\\''")}'`;

async function call(client: Client, name: string, args: Record<string, unknown>) {
  return (await client.callTool({ name, arguments: args })) as CallToolResult;
}

async function listed(client: Client) {
  const result = await call(client, 'instances_list', {});
  return result.structuredContent as { instances: InstanceSummary[]; remotes?: RemoteSummary[] };
}

/** What the instance wrote (the hub's closing `answered by` line taken off). */
const text = (result: CallToolResult) =>
  splitAnswer(result)
    .own.content.map((c) => (c.type === 'text' ? c.text : ''))
    .join('');

/** The remote hubs a local hub runs: its children (env, ip and node each exec the next). */
const remoteHubsOf = (hubPid: number) =>
  processesWith(MARKER).filter((pid) => {
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      return /^PPid:\s+(\d+)$/m.exec(status)?.[1] === String(hubPid);
    } catch {
      return false;
    }
  });

const refused = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });

describe('remotes', () => {
  const fx = useHubFixture();
  let remoteHome: string | undefined;

  beforeAll(() => {
    expect(processesWith(MARKER)).toEqual([]);
  });
  // Runs before the fixture's cleanup. Instances the remote hub launched outlive it, as they
  // do locally: they are ended by the pids in the remote's records.
  afterEach(async () => {
    if (remoteHome === undefined) return;
    const pids = (await remoteRecords().catch(() => [])).map((r) => r.pid);
    remoteHome = undefined;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // Gone already.
      }
    }
    await waitFor(() => pids.every((pid) => !isProcessAlive(pid)), {
      what: 'remote instances ended',
    });
  });
  afterAll(async () => {
    await waitFor(() => processesWith(MARKER).length === 0, {
      what: 'no process of the remote tests left',
      timeoutMs: 10_000,
    });
  });

  /** Runs `node args` inside the namespace with the remote's data folder. */
  const startRemoteProcess = (args: string[], cwd?: string): TestProcess => {
    const [command, argv] = inside(testNode, args);
    return fx.track(
      startProcess(command, argv, {
        ...(cwd ? { cwd } : {}),
        env: { ...process.env, MCP_BEACON_HOME: remoteHome! },
      }),
    );
  };
  const remoteRecords = () => readValidRecords(resolvePaths({ home: remoteHome! }).instances);
  /** The command that runs the remote hub (what `ssh devbox beacon-hub` is for a real box). */
  const remoteCommand = () => {
    const [command, argv] = inside(testNode, [MARK, HUB, '--idle-exit', '0']);
    return ['env', `MCP_BEACON_HOME=${remoteHome}`, command, ...argv].map(quote).join(' ');
  };
  const setupRemote = async () => {
    const home = path.join(fx.tmp.path, 'remote-home');
    remoteHome = home;
    await mkdir(home, { recursive: true });
    const web = await fx.makeProject('web', {
      hello: `node -e "console.log('hello from the box')"`,
    });
    startRemoteProcess([MARK, INSTANCE], web);
    startRemoteProcess([MARK, SERVER]);
    const records = await waitFor(
      async () => {
        const all = await remoteRecords();
        return all.length === 2 ? all : undefined;
      },
      { what: 'remote records' },
    );
    return records;
  };
  const waitActive = (client: Client, names: string[]) =>
    waitFor(
      async () => {
        const { instances } = await listed(client);
        return names.every((n) => instances.some((i) => i.name === n && i.state === 'active'))
          ? instances
          : undefined;
      },
      { what: `${names.join(', ')} active`, timeoutMs: 20_000 },
    );

  it('lists, calls, reads logs, elicits and cancels through the remote, never by its ports', async () => {
    const records: InstanceRecord[] = await setupRemote();
    if (ns) for (const r of records) expect(await refused(r.port)).toBe(true);
    const elicited: string[] = [];
    const hub = await fx.startHubClient(['--remote', `box=${remoteCommand()}`], {
      onElicit: (message) => {
        elicited.push(message);
        return { action: 'accept', content: { ok: true } };
      },
    });

    const instances = await waitActive(hub.client, ['box/web', 'box/fixture']);
    const web = instances.find((i) => i.name === 'box/web')!;
    expect(web.remote).toBe('box');
    expect(web.path).toBe(records.find((r) => r.name === 'web')!.path);
    const { remotes } = await listed(hub.client);
    expect(remotes).toEqual([
      expect.objectContaining({ name: 'box', state: 'connected', instances: 2, reason: null }),
    ]);
    // The remote hub's own tools are not listed again: one instances_list.
    const names = (await hub.client.listTools()).tools.map((t) => t.name);
    expect(names.filter((n) => n === 'instances_list')).toHaveLength(1);
    expect(names).toContain('scripts_run');

    const run = await call(hub.client, 'scripts_run', {
      instance: 'box/web',
      name: 'hello',
      waitFor: { pattern: 'hello from the box' },
    });
    expect(run.isError).toBeFalsy();
    const runId = (run.structuredContent as { id: string }).id;
    const uri = `beacon://${web.slug}/logs://${runId}`;
    await waitFor(
      async () => {
        const read = await hub.client.readResource({ uri });
        return (read.contents[0] as { text: string }).text.includes('hello from the box');
      },
      { what: 'the log read through both hops' },
    );

    const confirm = await call(hub.client, 'confirm', { instance: 'box/fixture' });
    expect(text(confirm)).toBe('answer {"action":"accept","content":{"ok":true}}');
    expect(elicited).toEqual(['[box/fixture] ok?']);

    // Progress sent right before a result crosses both hops ahead of it. Read as raw lines,
    // since an SDK client drops progress that shares a chunk with its result.
    const raw = spawn(testNode, [HUB, '--standalone', '--remote', `box=${remoteCommand()}`], {
      env: { ...process.env, MCP_BEACON_HOME: fx.home },
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    try {
      const progressLines: string[] = [];
      const answers = new Map<number, (line: string) => void>();
      let buffered = '';
      raw.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        const lines = (buffered + chunk).split('\n');
        buffered = lines.pop() ?? '';
        for (const line of lines) {
          if (line.includes('notifications/progress')) progressLines.push(line);
          const { id } = JSON.parse(line) as { id?: number };
          if (id !== undefined) answers.get(id)?.(line);
        }
      });
      let next = 0;
      const request = async (method: string, params: Record<string, unknown>) => {
        const id = ++next;
        const answer = new Promise<string>((resolve) => answers.set(id, resolve));
        raw.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id, method, params })}\n`);
        return { line: await answer };
      };
      await request('initialize', {
        protocolVersion: '2025-06-18',
        capabilities: {},
        clientInfo: { name: 'raw', version: '1' },
      });
      raw.stdin.write(
        `${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' })}\n`,
      );
      await waitFor(async () => {
        const { line } = await request('tools/call', { name: 'instances_list', arguments: {} });
        return line.includes('"box/fixture"') && line.includes('"active"');
      });
      const { line } = await request('tools/call', {
        name: 'count',
        arguments: { instance: 'box/fixture' },
        _meta: { progressToken: 7 },
      });
      expect(line).toContain('counted');
      expect(progressLines.map((l) => JSON.parse(l).params.progress)).toEqual([1, 2, 3]);
    } finally {
      raw.stdin.end();
      await new Promise((resolve) => raw.once('exit', resolve));
    }

    const fixture = instances.find((i) => i.name === 'box/fixture')!;
    const prompt = `${fixture.slug}__greet`;
    const completion = await hub.client.complete({
      ref: { type: 'ref/prompt', name: prompt },
      argument: { name: 'who', value: 'w' },
    });
    expect(completion.completion.values).toEqual(['world', 'wide']);
    const greeting = await hub.client.getPrompt({ name: prompt, arguments: { who: 'world' } });
    expect(greeting.messages[0]?.content).toEqual({ type: 'text', text: 'hello world' });

    const controller = new AbortController();
    const waiting = hub.client
      .request(
        { method: 'tools/call', params: { name: 'wait', arguments: { instance: 'box/fixture' } } },
        CallToolResultSchema,
        { signal: controller.signal },
      )
      .catch((error: Error) => error);
    // Cancelled once the call runs at the remote server, not after a guessed delay.
    await waitFor(
      async () => text(await call(hub.client, 'waiting', { instance: 'box/fixture' })) === '1',
      { what: 'the call running at the remote server' },
    );
    controller.abort();
    expect(await waiting).toBeInstanceOf(Error);
    await waitFor(
      async () => text(await call(hub.client, 'cancelled', { instance: 'box/fixture' })) === '1',
      { what: 'the cancellation reached the remote server' },
    );
    expect(hub.transportErrors).toEqual([]);
    // The remote instances' tokens stay on the remote: the local hub never had them.
    const seen = hub.stderr() + JSON.stringify(await listed(hub.client));
    const tokens = records.flatMap((r) => (r.token ? [r.token] : []));
    expect(tokens).toHaveLength(1); // beacon-instance's; the fixture takes none
    for (const token of tokens) expect(seen).not.toContain(token);
  });

  it('offers remote instances under namespaced names too', async () => {
    await setupRemote();
    const hub = await fx.startHubClient([
      '--tools',
      'namespaced',
      '--remote',
      `box=${remoteCommand()}`,
    ]);
    const instances = await waitActive(hub.client, ['box/web']);
    const slug = instances.find((i) => i.name === 'box/web')!.slug;
    expect(slug).toBe('box.web');
    const listedTools = (await hub.client.listTools()).tools.map((t) => t.name);
    expect(listedTools).toContain('box.web__scripts_list');
    const scripts = await call(hub.client, 'box.web__scripts_list', {});
    expect(scripts.isError).toBeFalsy();
    expect(text(scripts)).toContain('hello');
  });

  it('answers a remote instance’s roots request with none of this machine’s folders', async () => {
    await setupRemote();
    const root = await fx.makeProject('here');
    const hub = await fx.startHubClient(['--remote', `box=${remoteCommand()}`], { roots: [root] });
    await waitActive(hub.client, ['box/fixture']);
    const remote = await call(hub.client, 'roots', { instance: 'box/fixture' });
    expect(remote.isError, text(remote)).toBeFalsy();
    expect(text(remote)).toBe('roots: []');
  });

  it('never lets a local project named like a remote instance catch its calls', async () => {
    await setupRemote();
    // Announced before the remote connects; `@box/web` reduces to the slug box_web.
    const { record: poser } = await fx.startInstance('@box/web', [], {
      hello: `node -e "console.log('hello from the poser')"`,
    });
    const hub = await fx.startHubClient(['--remote', `box=${remoteCommand()}`]);
    const instances = await waitActive(hub.client, ['box/web', '@box/web']);
    const remote = instances.find((i) => i.name === 'box/web')!;
    expect(remote.slug).toBe('box.web');
    expect(instances.find((i) => i.id === poser.id)!.slug).toBe('box_web');
    for (const instance of ['box/web', 'box.web', `box:${remote.path}`]) {
      const out = await call(hub.client, 'scripts_list', { instance });
      expect(text(out), instance).toContain('hello from the box');
      expect(out.content.at(-1)).toEqual({
        type: 'text',
        text: `answered by box/web (box:${remote.path})`,
      });
    }
    expect(text(await call(hub.client, 'box.web__scripts_list', {}))).toContain(
      'hello from the box',
    );
    // The local project keeps its own names, and its folder is matched on this machine only.
    expect(text(await call(hub.client, 'box_web__scripts_list', {}))).toContain(
      'hello from the poser',
    );
    expect(text(await call(hub.client, 'scripts_list', { instance: poser.path }))).toContain(
      'hello from the poser',
    );
  });

  it('starts an instance on the remote with instances_start REMOTE:/path', async () => {
    await setupRemote();
    const hub = await fx.startHubClient(['--remote', `box=${remoteCommand()}`]);
    await waitActive(hub.client, ['box/web']);
    const api = await fx.makeProject('api');
    const started = await call(hub.client, 'instances_start', { path: `box:${api}` });
    expect(started.isError, text(started)).toBeFalsy();
    const record = (await remoteRecords()).find((r) => r.path === api);
    expect(record).toBeDefined();
    if (ns) expect(await refused(record!.port)).toBe(true);
    const instances = await waitActive(hub.client, ['box/api']);
    expect(instances.find((i) => i.name === 'box/api')?.path).toBe(api);
    const run = await call(hub.client, 'scripts_run', {
      instance: 'box/api',
      name: 'hello',
      waitFor: { pattern: 'hello from api' },
    });
    expect(run.isError, text(run)).toBeFalsy();
    // The local machine got no record of it: it lives on the remote.
    expect((await fx.records()).some((r) => r.path === api)).toBe(false);
  });

  it('shows remote instances in beacon-hub list and list --watch', async () => {
    await setupRemote();
    await fx.startInstance('here');
    const env = { ...process.env, MCP_BEACON_HOME: fx.home };
    const list = fx.track(
      startProcess(testNode, [HUB, 'list', '--json', '--remote', `box=${remoteCommand()}`], {
        env,
      }),
    );
    expect((await list.exited).code).toBe(0);
    const { instances, remotes } = JSON.parse(list.stdout()) as {
      instances: Array<{ name: string; remote: string | null; path: string }>;
      remotes: RemoteSummary[];
    };
    expect(instances.map((i) => [i.name, i.remote]).sort()).toEqual([
      ['box/fixture', 'box'],
      ['box/web', 'box'],
      ['here', null],
    ]);
    expect(remotes).toEqual([
      expect.objectContaining({ name: 'box', state: 'connected', instances: 2 }),
    ]);

    const table = fx.track(
      startProcess(testNode, [HUB, 'list', '--remote', `box=${remoteCommand()}`], { env }),
    );
    expect((await table.exited).code).toBe(0);
    expect(table.stdout()).toMatch(
      /^box\/web\s+box\.web\s+\S+\s+box:http:\/\/127\.0\.0\.1:\d+\/mcp/m,
    );
    expect(table.stdout()).toContain('remote box: 2 instance(s)');

    const watch = fx.track(
      startProcess(testNode, [HUB, 'list', '--watch', '--remote', `box=${remoteCommand()}`], {
        env,
      }),
    );
    await waitFor(() => /box\/web \(\w+\) active/.test(watch.stdout()), {
      what: 'box/web active in list --watch',
    });
    expect(watch.stdout()).toMatch(/remote box connected/);
    await watch.kill('SIGTERM');
  });

  it('shows a killed remote command as unreachable, then brings its instances back', async () => {
    await setupRemote();
    const hub = await fx.startHubClient(['--remote', `box=${remoteCommand()}`]);
    await waitActive(hub.client, ['box/web', 'box/fixture']);
    const remoteHub = () => remoteHubsOf(hub.pid)[0];
    const first = remoteHub();
    expect(first).toBeDefined();
    process.kill(first!, 'SIGKILL');
    await waitFor(
      async () => {
        const { instances, remotes } = await listed(hub.client);
        return remotes?.[0]?.state === 'unreachable' && !instances.some((i) => i.remote === 'box');
      },
      { what: 'the remote unreachable and its instances gone' },
    );
    expect((await listed(hub.client)).remotes?.[0]?.reason).toMatch(/exited/);
    await waitActive(hub.client, ['box/web', 'box/fixture']);
    expect(remoteHub()).not.toBe(first);
  });

  it('shows a remote hub that stops answering as unreachable, then brings it back', async () => {
    await setupRemote();
    const hub = await fx.startHubClient([
      '--remote',
      `box=${remoteCommand()}`,
      '--remote-timeout',
      '1000',
    ]);
    await waitActive(hub.client, ['box/web']);
    const [stopped] = remoteHubsOf(hub.pid);
    expect(stopped).toBeDefined();
    process.kill(stopped!, 'SIGSTOP'); // alive, but answers nothing
    const remote = await waitFor(
      async () => {
        const r = (await listed(hub.client)).remotes?.[0];
        return r?.state === 'unreachable' ? r : undefined;
      },
      { what: 'the remote unreachable' },
    );
    expect(remote.reason).toMatch(/^stopped answering \(no ping answer within 1000 ms\)/);
    await waitActive(hub.client, ['box/web']);
    // A new remote hub serves it; the stopped one was killed (it cannot take SIGTERM).
    await waitFor(() => !isProcessAlive(stopped!), { what: 'the stopped hub gone' });
    expect(remoteHubsOf(hub.pid)).toEqual([expect.any(Number)]);
    expect(remoteHubsOf(hub.pid)[0]).not.toBe(stopped);
  });

  it('leaves no remote command behind when the hub exits, a hung one included', async () => {
    await setupRemote();
    const hub = await fx.startHubClient(['--remote', `box=${remoteCommand()}`]);
    await waitActive(hub.client, ['box/web']);
    const [hung] = remoteHubsOf(hub.pid);
    expect(hung).toBeDefined();
    process.kill(hung!, 'SIGSTOP');
    await hub.client.close();
    await waitFor(() => !isProcessAlive(hub.pid), { what: 'the hub gone' });
    await waitFor(() => !isProcessAlive(hung!), { what: 'the hung remote hub gone' });
  });

  it('reports a command that fails at once, with its last stderr line, and keeps the local instances', async () => {
    await fx.startInstance('here');
    const hub = await fx.startHubClient([
      '--remote',
      `gone=sh -c 'echo "ssh: connect to host devbox port 22: Connection refused" >&2; exit 255'`,
    ]);
    const state = await waitFor(
      async () => {
        const { instances, remotes } = await listed(hub.client);
        return remotes?.[0]?.state === 'unreachable' && instances.some((i) => i.name === 'here')
          ? remotes[0]
          : undefined;
      },
      { what: 'the remote unreachable' },
    );
    expect(state.reason).toContain('code 255');
    expect(state.reason).toContain('ssh: connect to host devbox port 22: Connection refused');
  });

  it('builds the reason of a failed command once its stderr has ended, so a late last line is in it', async () => {
    // The command exits first; its last stderr line comes 300 ms later, from a process it left
    // holding stderr (as ssh's own helpers can).
    const hub = await fx.startHubClient([
      '--remote',
      `late=sh -c '(sleep 0.3; echo "git@devbox: Permission denied (publickey)." >&2) & exit 255'`,
    ]);
    const remote = await waitFor(
      async () => {
        const r = (await listed(hub.client)).remotes?.[0];
        return r?.state === 'unreachable' ? r : undefined;
      },
      { what: 'the remote unreachable' },
    );
    expect(remote.reason).toContain('code 255');
    expect(remote.reason).toContain('git@devbox: Permission denied (publickey).');
  });

  it('carries an 8 MB result over a link throttled to 1 MB/s while its pings keep it connected', async () => {
    await setupRemote();
    const throttled = `${quote(testNode)} ${quote(THROTTLE)} 1000000 ${remoteCommand()}`;
    const states: string[] = [];
    // The link is pinged every 3 s, each ping bounded by 3 s, and each instance connection
    // through it every second with the same bound: one queued behind 8 MB at 1 MB/s would wait
    // about 8 s; between fragments it waits for what the pipes and sockets on the way hold
    // (about a second, measured).
    const hub = await fx.startHubClient([
      '--remote',
      `slow=${throttled}`,
      '--remote-timeout',
      '3000',
      '--ping-interval',
      '1000',
      '--ping-timeout',
      '3000',
    ]);
    await waitActive(hub.client, ['slow/fixture']);
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const state = (await listed(hub.client)).remotes?.[0]?.state;
        if (state) states.push(state);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    })();
    const t0 = Date.now();
    const big = await hub.client.callTool(
      { name: 'big', arguments: { instance: 'slow/fixture', chars: 8_000_000 } },
      CallToolResultSchema,
      { timeout: 60_000 },
    );
    const took = Date.now() - t0;
    watching = false;
    await watcher;
    expect(text(big as CallToolResult)).toHaveLength(8_000_000);
    // It really crossed the slow link, for several ping periods.
    expect(took).toBeGreaterThan(4_000);
    expect(states.length).toBeGreaterThan(10);
    expect(new Set(states)).toEqual(new Set(['connected']));
    expect(hub.stderr()).not.toMatch(/stopped answering|pings unanswered/);
  });

  it('shows a command that never answers as unreachable once its bound passes', async () => {
    const hub = await fx.startHubClient(['--remote', 'slow=sleep 30', '--remote-timeout', '300']);
    const remote = await waitFor(
      async () => {
        const r = (await listed(hub.client)).remotes?.[0];
        return r?.state === 'unreachable' ? r : undefined;
      },
      { what: 'the remote unreachable' },
    );
    expect(remote.reason).toBe('no MCP answer within 300 ms');
  });

  it('refuses what is not a Beacon hub, and says why', async () => {
    const hub = await fx.startHubClient([
      '--remote',
      `echo=sh -c 'echo hello; sleep 5'`,
      '--remote',
      `cat=cat`,
    ]);
    const remotes = await waitFor(
      async () => {
        const list = (await listed(hub.client)).remotes ?? [];
        return list.every((r) => r.state === 'refused') ? list : undefined;
      },
      { what: 'both refused' },
    );
    expect(remotes.find((r) => r.name === 'echo')?.reason).toMatch(
      /not a Beacon hub: not JSON-RPC on stdout: "hello"/,
    );
    // cat sends the hub's own initialize back: something answered, and not as a hub.
    expect(remotes.find((r) => r.name === 'cat')?.reason).toMatch(
      /not a Beacon hub: initialize failed: .*Method not found/,
    );
  });

  it('refuses an older beacon-hub and another MCP server by what they answered', async () => {
    const hub = await fx.startHubClient([
      '--remote',
      `old=${quote(testNode)} ${quote(STDIO_SERVER)} beacon-hub 0.0.1`,
      '--remote',
      `other=${quote(testNode)} ${quote(STDIO_SERVER)} some-server 2.0.0`,
    ]);
    const remotes = await waitFor(
      async () => {
        const list = (await listed(hub.client)).remotes ?? [];
        return list.every((r) => r.state === 'refused') ? list : undefined;
      },
      { what: 'both refused' },
    );
    expect(remotes.find((r) => r.name === 'old')?.reason).toBe(
      'beacon-hub 0.0.1 there is too old to serve as a remote; upgrade it on that machine',
    );
    expect(remotes.find((r) => r.name === 'other')?.reason).toBe(
      'not a Beacon hub: it answered as some-server 2.0.0',
    );
  });

  it("never starts the remote hub's own remotes, so two hubs cannot start each other", async () => {
    await setupRemote();
    // The remote's own kept remote: a process found by the marker in its command line from the
    // moment that hub decides to start its remotes (at the client's `initialized`, while it
    // handles that notification), long before any of its instances can be active here.
    const marker = path.join(fx.tmp.path, 'kept-remote-of-the-remote');
    await writeFile(
      path.join(remoteHome!, 'remotes.json'),
      JSON.stringify({
        remotes: { loop: { command: [testNode, '-e', 'setTimeout(() => {}, 30_000)', marker] } },
      }),
    );
    const hub = await fx.startHubClient(['--remote', `box=${remoteCommand()}`]);
    await waitActive(hub.client, ['box/web']);
    expect(processesWith(marker)).toEqual([]);
    expect((await listed(hub.client)).instances.some((i) => i.name.startsWith('box/loop'))).toBe(
      false,
    );
  });

  it('tells the client what is wrong with a bad --remote, as the answer to initialize', async () => {
    await expect(fx.startHubClient(['--remote', 'ssh devbox beacon-hub'])).rejects.toThrow(
      /--remote takes NAME=COMMAND, got "ssh devbox beacon-hub"/,
    );
  });

  it('reports a password prompt as such instead of waiting for it', async () => {
    const hub = await fx.startHubClient([
      '--remote',
      `box=sh -c 'echo "devbox password: " >&2; read -r answer < /dev/tty; echo "$answer"'`,
    ]);
    const remote = await waitFor(
      async () => {
        const r = (await listed(hub.client)).remotes?.[0];
        return r?.state === 'unreachable' ? r : undefined;
      },
      { what: 'the remote unreachable' },
    );
    expect(remote.reason).toMatch(/asks for a password/);
  });
});
