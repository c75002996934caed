import { mkdir, readdir, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { type AddressInfo, connect, createServer } from 'node:net';
import path from 'node:path';
import { schemaOffences } from '@mcp-beacon/registry';
import { canMount, fillDisk, isGroupAlive, mountTmpfs, waitFor } from '@mcp-beacon/test-utils';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  type CallToolResult,
  LoggingMessageNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { CLI, call, INITIALIZE, rawPost, useCliFixture } from './_cli-fixture.js';

const fx = useCliFixture({
  hello: 'node -e "console.log(JSON.stringify(process.argv.slice(1)))"',
  both: "node -e \"console.log('to stdout'); console.error('to stderr')\"",
  serve: "node -e \"console.log('listening'); setInterval(() => console.log('tick'), 50)\"",
  fail: 'node -e "console.error(\'boom\'); process.exit(3)"',
});
const { startCli, records, startAndWaitForRecord, connectClient } = fx;

const rawRequest = async (url: string, headers: Record<string, string>) =>
  (await rawPost(url, { body: INITIALIZE, headers })).status;

/** Starts the `serve` script and waits until it prints, so its process group is running. */
async function startServing(client: Client): Promise<{ id: string; pid: number }> {
  const run = (await call(client, 'scripts_run', { name: 'serve' })).structuredContent as {
    id: string;
    pid: number;
  };
  await waitFor(
    async () =>
      JSON.stringify((await call(client, 'logs_get', { run: run.id })).structuredContent).includes(
        'tick',
      ),
    { what: 'output' },
  );
  return run;
}

describe('beacon-instance lifecycle', () => {
  it('writes its record only once the port accepts connections', async () => {
    const proc = startCli();
    const record = await waitFor(async () => (await records())[0], {
      intervalMs: 1,
      what: 'record',
    });
    // Connect the instant the record is visible: it must never be refused.
    await new Promise<void>((resolve, reject) => {
      const socket = connect(record.port, '127.0.0.1', () => {
        socket.end();
        resolve();
      });
      socket.on('error', reject);
    });
    expect(record).toMatchObject({
      name: 'my-app',
      path: fx.project,
      pid: proc.pid,
      has_package_json: true,
      version: 1,
    });
    expect(record.url).toBe(`http://127.0.0.1:${record.port}/mcp`);
    expect(record.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('removes its record and stops its scripts on SIGTERM', async () => {
    const { proc, record } = await startAndWaitForRecord();
    const client = await connectClient(record);
    const run = await startServing(client);
    proc.child.kill('SIGTERM');
    expect(await proc.exited).toEqual({ code: 0, signal: null });
    expect(await records()).toEqual([]);
    expect(isGroupAlive(run.pid)).toBe(false);
  });

  it('leaves its record but no orphaned script when SIGKILLed', async () => {
    const { proc, record } = await startAndWaitForRecord();
    const client = await connectClient(record);
    const run = await startServing(client);
    await proc.kill('SIGKILL');
    await waitFor(() => !isGroupAlive(run.pid), { what: 'script group gone' });
    expect((await records()).map((r) => r.id)).toEqual([record.id]);
  });

  it('keeps running with stdin closed, and exits with it when asked', async () => {
    const { proc } = await startAndWaitForRecord();
    expect(proc.child.exitCode).toBeNull(); // stdin is /dev/null here
    await proc.kill('SIGTERM');
    const supervised = startCli(['--exit-with-stdin'], {}, 'pipe');
    await waitFor(async () => (await records()).length === 1, { what: 'record' });
    supervised.child.stdin?.end();
    expect((await supervised.exited).code).toBe(0);
    expect(await records()).toEqual([]);
  });

  it('fails clearly on a port in use and writes no record', async () => {
    const { record } = await startAndWaitForRecord();
    const second = startCli(['--port', String(record.port)]);
    expect((await second.exited).code).toBe(1);
    expect(second.stderr()).toContain(`port ${record.port} on 127.0.0.1 is already in use`);
    expect((await records()).map((r) => r.id)).toEqual([record.id]);
  });

  it.runIf(canMount)('keeps serving when the record cannot be written (a full disk)', async () => {
    await using disk = await mountTmpfs(path.join(fx.tmp.path, 'disk'), { sizeKiB: 64 });
    await mkdir(path.join(disk.path, 'instances'), { recursive: true });
    await mkdir(path.join(disk.path, 'temp'), { recursive: true });
    await fillDisk(path.join(disk.path, 'filler'));
    const proc = startCli(['--log-level', 'info'], { MCP_BEACON_HOME: disk.path });
    await proc.waitForStderr('running without discovery');
    const url = /at (http:\S+)/.exec(proc.stderr())?.[1];
    expect(url).toBeDefined();
    expect(proc.child.exitCode).toBeNull();
    // Once there is room, the next heartbeat writes the record: the instance is found.
    await rm(path.join(disk.path, 'filler'));
    await waitFor(async () => (await readdir(path.join(disk.path, 'instances'))).length === 1, {
      what: 'the record, written by a heartbeat',
      intervalMs: 50,
      timeoutMs: 10_000,
    });
    await proc.kill();
  });

  it('refuses a bad data folder in one line with exit code 2, and expands ~/', async () => {
    await writeFile(path.join(fx.tmp.path, 'blocked'), 'not a directory');
    for (const [home, says] of [
      ['relative/dir', 'must be an absolute path'],
      ['~bob/beacon', 'only ~/ (your own home) is expanded'],
      [path.join(fx.tmp.path, 'blocked', 'home'), 'a parent is not a directory'],
    ] as const) {
      const proc = startCli([], { MCP_BEACON_HOME: home });
      expect((await proc.exited).code).toBe(2);
      const lines = proc.stderr().trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(says);
      expect(proc.stderr()).not.toMatch(/\n\s+at /); // no stack trace
    }
    const { record } = await fx.startAndWaitForRecord([], {
      HOME: fx.tmp.path,
      MCP_BEACON_HOME: '~/home',
    });
    expect(record.path).toBe(fx.project);
  });

  it('answers --help and --version, and rejects bad usage', async () => {
    const help = startCli(['--help']);
    expect((await help.exited).code).toBe(0);
    expect(help.stdout()).toContain('Usage:');
    const version = startCli(['--version']);
    await version.exited;
    expect(version.stdout().trim()).toMatch(/^\d+\.\d+\.\d+/);
    const bad = startCli(['--port', 'eighty']);
    expect((await bad.exited).code).toBe(2);
    expect(bad.stderr()).toContain('--port must be an integer');
  });

  it('lists every announce option in announce --help and refuses the other mode’s flags', async () => {
    const help = startCli(['announce', '--help']);
    expect((await help.exited).code).toBe(0);
    for (const flag of [
      '--url',
      '--name',
      '--path',
      '--token-file',
      '--token',
      '--interval',
      '--exit-with-stdin',
      '--log-level',
      '-- command',
    ])
      expect(help.stdout()).toContain(flag);
    expect(help.stdout()).not.toContain('--port');
    const instanceFlag = startCli(['announce', '--url', 'http://127.0.0.1:1/mcp', '--port', '5']);
    expect((await instanceFlag.exited).code).toBe(2);
    expect(instanceFlag.stderr()).toContain('--port is not an announce option');
    const announceFlag = startCli(['--url', 'http://127.0.0.1:1/mcp']);
    expect((await announceFlag.exited).code).toBe(2);
    expect(announceFlag.stderr()).toContain('--url is not an instance option');
  });

  it('records the real path of its folder when started through a symlink', async () => {
    // link -> my-app: one project, one path, however it was reached (a symlink, /var on macOS,
    // a subst drive on Windows), so the hub never takes it for two.
    const link = path.join(fx.tmp.path, 'link');
    await symlink(fx.project, link, 'dir');
    const real = await realpath(fx.project);
    const { record } = await startAndWaitForRecord(['--cwd', link]);
    expect(record.path).toBe(real);
  });

  it('uses --name and --no-register', async () => {
    const { record } = await startAndWaitForRecord(['--name', 'custom']);
    expect(record.name).toBe('custom');
    const quiet = startCli(['--no-register', '--log-level', 'info']);
    await quiet.waitForStderr('serving');
    expect((await records()).map((r) => r.id)).toEqual([record.id]);
  });
});

describe('beacon-instance security', () => {
  it('requires the bearer token', async () => {
    const { record } = await startAndWaitForRecord();
    expect(await rawRequest(record.url, {})).toBe(401);
    expect(await rawRequest(record.url, { authorization: 'Bearer wrong' })).toBe(401);
    expect(await rawRequest(record.url, { authorization: `Bearer ${record.token}` })).toBe(200);
    await expect(connectClient(record, 'wrong')).rejects.toThrow();
  });

  it('rejects a foreign Host or Origin (DNS rebinding) even with the token', async () => {
    const { record } = await startAndWaitForRecord();
    const auth = { authorization: `Bearer ${record.token}` };
    expect(await rawRequest(record.url, { ...auth, host: `evil.example:${record.port}` })).toBe(
      403,
    );
    expect(await rawRequest(record.url, { ...auth, host: '127.0.0.1:1' })).toBe(403);
    expect(await rawRequest(record.url, { ...auth, origin: 'http://evil.example' })).toBe(403);
    expect(await rawRequest(record.url, { ...auth, origin: 'http://localhost:3000' })).toBe(200);
    expect(await rawRequest(record.url, { ...auth, host: `localhost:${record.port}` })).toBe(200);
  });

  it('serves without a token only with --no-auth', async () => {
    const { record } = await startAndWaitForRecord(['--no-auth']);
    expect(record.token).toBeUndefined();
    expect(await rawRequest(record.url, {})).toBe(200);
  });
});

describe('beacon-instance tools', () => {
  it('lists schemas every model API takes: no $schema, additionalProperties or the like', async () => {
    const { record } = await startAndWaitForRecord();
    const client = await connectClient(record);
    const { tools } = await client.listTools();
    expect(tools.length).toBeGreaterThan(10);
    for (const tool of tools) {
      expect(schemaOffences(tool.inputSchema), tool.name).toEqual([]);
      expect(tool.outputSchema, tool.name).toBeUndefined();
    }
  });

  it('lists the project and its scripts', async () => {
    const { record } = await startAndWaitForRecord();
    const client = await connectClient(record);
    const tools = (await client.listTools()).tools.map((t) => t.name).sort();
    expect(tools).toEqual([
      'browser_eval',
      'browser_reload',
      'browser_report',
      'errors_get',
      'logs_get',
      'logs_search',
      'project_info',
      'scripts_list',
      'scripts_restart',
      'scripts_run',
      'scripts_status',
      'scripts_stop',
    ]);
    const info = await call(client, 'project_info');
    expect(info.structuredContent).toMatchObject({
      name: 'my-app',
      path: fx.project,
      packageManager: 'npm',
      hasPackageJson: true,
      scriptsCount: 4,
    });
    const list = await call(client, 'scripts_list');
    expect(list.structuredContent).toMatchObject({
      packageManager: 'npm',
      scripts: expect.arrayContaining([
        { name: 'fail', command: expect.stringContaining('exit(3)') },
      ]),
    });
  });

  it('runs a script with argv arguments, never through a shell', async () => {
    const { record } = await startAndWaitForRecord();
    const client = await connectClient(record);
    const args = ['a b', '; touch pwned', '$(id)'];
    const run = (await call(client, 'scripts_run', { name: 'hello', args })).structuredContent as {
      id: string;
      state: string;
    };
    expect(run.state).toBe('running');
    const status = await waitFor(
      async () => {
        const s = (await call(client, 'scripts_status')).structuredContent as {
          runs: Array<{ id: string; state: string; exitCode: number }>;
        };
        return s.runs.find((r) => r.id === run.id && r.state !== 'running');
      },
      { what: 'run end' },
    );
    expect(status).toMatchObject({ state: 'exited', exitCode: 0 });
    const logs = (await call(client, 'logs_get', { run: run.id })).structuredContent as {
      lines: Array<{ text: string; stream: string }>;
    };
    const printed = logs.lines.find((l) => l.text.startsWith('['));
    expect(JSON.parse(printed!.text)).toEqual(args);
    expect(await readdir(fx.project)).not.toContain('pwned');
  });

  it('marks stdout and stderr, filters with grep, pages with since', async () => {
    const { record } = await startAndWaitForRecord();
    const client = await connectClient(record);
    const run = (await call(client, 'scripts_run', { name: 'both' })).structuredContent as {
      id: string;
    };
    const all = await waitFor(
      async () => {
        const r = (await call(client, 'logs_get', { run: run.id })).structuredContent as {
          lines: Array<{ text: string; stream: string; seq: number }>;
          next: number;
          run: { state: string };
        };
        return r.run.state !== 'running' ? r : undefined;
      },
      { what: 'run end' },
    );
    expect(all.lines.filter((l) => l.text.startsWith('to '))).toEqual([
      expect.objectContaining({ text: 'to stdout', stream: 'stdout' }),
      expect.objectContaining({ text: 'to stderr', stream: 'stderr' }),
    ]);
    const grep = (await call(client, 'logs_get', { run: run.id, grep: '^TO STDERR$' }))
      .structuredContent as { lines: Array<{ text: string }> };
    expect(grep.lines.map((l) => l.text)).toEqual(['to stderr']);
    const after = (await call(client, 'logs_get', { run: run.id, since: all.next }))
      .structuredContent as { lines: unknown[] };
    expect(after.lines).toEqual([]);
  });

  it('reports a failing script with its exit code', async () => {
    const { record } = await startAndWaitForRecord();
    const client = await connectClient(record);
    const run = (await call(client, 'scripts_run', { name: 'fail' })).structuredContent as {
      id: string;
    };
    const ended = await waitFor(
      async () => {
        const s = (await call(client, 'scripts_status')).structuredContent as {
          runs: Array<{ id: string; state: string; exitCode: number }>;
        };
        return s.runs.find((r) => r.id === run.id && r.state !== 'running');
      },
      { what: 'run end' },
    );
    expect(ended).toMatchObject({ state: 'failed', exitCode: 3 });
  });

  it('tells every session when a run ends, over the GET stream', async () => {
    const { record } = await startAndWaitForRecord();
    const watcher = await connectClient(record);
    const messages: Array<{ level: string; logger?: string | undefined; data: unknown }> = [];
    watcher.setNotificationHandler(LoggingMessageNotificationSchema, async (n) => {
      messages.push(n.params);
    });
    const runner = await connectClient(record);
    const run = (await call(runner, 'scripts_run', { name: 'fail' })).structuredContent as {
      id: string;
    };
    const message = await waitFor(
      () => messages.find((m) => (m.data as { id?: string }).id === run.id),
      {
        what: 'run-ended log on the other session',
      },
    );
    expect(message).toMatchObject({
      level: 'warning',
      logger: 'scripts',
      data: { event: 'run-ended', id: run.id, state: 'failed', exitCode: 3 },
    });
  });

  it('does not start a running script twice, and stops it', async () => {
    const { record } = await startAndWaitForRecord();
    const client = await connectClient(record);
    const first = (await call(client, 'scripts_run', { name: 'serve' })).structuredContent as {
      id: string;
      pid: number;
    };
    const second = (await call(client, 'scripts_run', { name: 'serve' })).structuredContent as {
      id: string;
      alreadyRunning: boolean;
    };
    expect(second).toMatchObject({ id: first.id, alreadyRunning: true });
    const stopped = await call(client, 'scripts_stop', { run: first.id });
    expect(stopped.structuredContent).toMatchObject({ id: first.id, state: 'stopped' });
    expect(isGroupAlive(first.pid)).toBe(false);
  });

  it('answers bad input with a clear tool error and keeps serving', async () => {
    const { record } = await startAndWaitForRecord();
    const client = await connectClient(record);
    const unknown = await call(client, 'scripts_run', { name: 'nope' });
    expect(unknown.isError).toBe(true);
    expect(JSON.stringify(unknown.content)).toContain('package.json defines no script \\"nope\\"');
    const badType = await call(client, 'scripts_run', { name: 42 }).catch(
      (e: Error) =>
        ({ isError: true, content: [{ type: 'text', text: e.message }] }) as CallToolResult,
    );
    expect(badType.isError).toBe(true);
    const badRegex = await call(client, 'logs_get', { grep: '(' });
    expect(badRegex.isError).toBe(true);
    const noRun = await call(client, 'scripts_stop', { run: 'run-999' });
    expect(JSON.stringify(noRun.content)).toContain('no run');
    expect((await call(client, 'project_info')).isError).toBeFalsy();
  });

  it('serves several clients at once with their own sessions', async () => {
    const { record } = await startAndWaitForRecord();
    const [a, b] = await Promise.all([connectClient(record), connectClient(record)]);
    const [ra, rb] = await Promise.all([call(a!, 'project_info'), call(b!, 'project_info')]);
    expect(ra.structuredContent).toEqual(rb.structuredContent);
    await a!.close();
    expect((await call(b!, 'scripts_list')).isError).toBeFalsy();
  });

  it('ends a session on DELETE and refuses its id afterwards', async () => {
    const { record } = await startAndWaitForRecord();
    const transport = new StreamableHTTPClientTransport(new URL(record.url), {
      requestInit: { headers: { authorization: `Bearer ${record.token}` } },
    });
    const client = new Client({ name: 'test', version: '1.0.0' });
    await client.connect(transport);
    fx.track(client);
    const sessionId = transport.sessionId!;
    expect(sessionId).toMatch(/^[0-9a-f-]{36}$/);
    await transport.terminateSession();
    const { status } = await rawPost(record.url, {
      token: record.token,
      headers: { 'mcp-session-id': sessionId },
      body: { jsonrpc: '2.0', id: 2, method: 'tools/list' },
    });
    expect(status).toBe(404);
  });
});

describe('beacon-instance announce', () => {
  it('announces another server while it answers and removes the record when it stops', async () => {
    const target = startCli(['--no-register', '--no-auth', '--log-level', 'info']);
    await target.waitForStderr('serving');
    const url = /at (http:\S+)/.exec(target.stderr())![1]!;
    const announcer = startCli([
      'announce',
      '--url',
      url,
      '--name',
      'external',
      '--interval',
      '100',
    ]);
    const record = await waitFor(async () => (await records())[0], { what: 'announced record' });
    // The pid is the server's (it holds the port), so the hub's dead-pid rule covers it.
    expect(record).toMatchObject({
      name: 'external',
      url,
      pid: process.platform === 'linux' ? target.pid : announcer.pid,
      has_package_json: false,
    });
    await target.kill('SIGKILL');
    expect((await announcer.exited).code).toBe(1);
    expect(announcer.stderr()).toContain('record withdrawn');
    expect(await records()).toEqual([]);
  });

  it('speaks MCP: a 404 or a non-MCP answer is refused and writes nothing', async () => {
    const { createServer } = await import('node:http');
    const web = createServer((req, res) => {
      if (req.url === '/mcp') res.writeHead(200, { 'content-type': 'text/html' }).end('<html>');
      else res.writeHead(404).end('not found');
    });
    await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
    try {
      const port = (web.address() as import('node:net').AddressInfo).port;
      for (const url of [`http://127.0.0.1:${port}/typo`, `http://127.0.0.1:${port}/mcp`]) {
        const announcer = startCli(['announce', '--url', url]);
        expect((await announcer.exited).code).toBe(1);
        expect(announcer.stderr()).toContain(`no MCP server answers at ${url}`);
      }
      expect(await records()).toEqual([]);
    } finally {
      await new Promise((resolve) => web.close(resolve));
    }
  });

  it('starts the server after --, announces it with its pid, and withdraws when it exits', async () => {
    // A port the system just handed out and released: free now, and outside any range a
    // random pick could share with another test's sockets.
    const port = await new Promise<number>((resolve) => {
      const probe = createServer();
      probe.listen(0, '127.0.0.1', () => {
        const { port: free } = probe.address() as AddressInfo;
        probe.close(() => resolve(free));
      });
    });
    const tokenFile = path.join(fx.tmp.path, 'token');
    await writeFile(tokenFile, 'file-token\n');
    const announcer = startCli([
      'announce',
      '--url',
      `http://127.0.0.1:${port}/mcp`,
      '--name',
      'started',
      '--token-file',
      tokenFile,
      '--',
      process.execPath,
      CLI,
      '--no-register',
      '--no-auth',
      '--port',
      String(port),
    ]);
    const record = await waitFor(async () => (await records())[0], {
      what: 'announced record',
      timeoutMs: 20_000,
    }).catch((error: Error) => {
      throw new Error(`${error.message}; announce said:\n${announcer.stderr()}`);
    });
    expect(record.name).toBe('started');
    expect(record.token).toBe('file-token');
    expect(record.pid).not.toBe(announcer.pid);
    const client = await connectClient(record, undefined);
    expect((await call(client, 'project_info')).isError).toBeFalsy();
    process.kill(record.pid, 'SIGTERM'); // the server exits on its own
    expect((await announcer.exited).code).toBe(0);
    expect(await records()).toEqual([]);
  });

  it('refuses a non-loopback or silent url', async () => {
    const remote = startCli(['announce', '--url', 'http://10.1.2.3:80/mcp']);
    expect((await remote.exited).code).toBe(1);
    expect(remote.stderr()).toContain('loopback');
    const silent = startCli(['announce', '--url', 'http://127.0.0.1:1/mcp']);
    expect((await silent.exited).code).toBe(1);
    expect(silent.stderr()).toContain('no MCP server answers');
    expect(await records()).toEqual([]);
  });
});
