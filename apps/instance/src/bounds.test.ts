import { randomUUID } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import path from 'node:path';
import { processesWith, waitFor } from '@mcp-beacon/test-utils';
import { describe, expect, it } from 'vitest';
import { call, INITIALIZE, rawPost, useCliFixture } from './_cli-fixture.js';

// Each test gets its own marker, passed to its scripts as an argument, to find their processes.
const STUBBORN = `node -e "process.on('SIGTERM', () => console.log('term ignored')); console.log('up'); setInterval(() => {}, 1000)"`;
const LEAVES_CHILD = `node -e "require('child_process').spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', process.argv[1]], { stdio: 'ignore' }).unref(); console.log('parent done')"`;
// 65 MiB on stdout without a newline, written as fast as the pipe takes it.
const LONG_LINE = `node -e "const s = 'x'.repeat(65536); let n = 0; const w = () => { while (n < 1040) { n++; if (!process.stdout.write(s)) return process.stdout.once('drain', w); } }; w()"`;
const BANNER = `node -e "for (let i = 0; i < 2000; i++) console.log('a'.repeat(30) + '!' + ' > my-app@1.0.0 dev /home/user/project'.repeat(20))"`;

// An uncaught error whose 40 stack lines are built to make a backtracking pattern take
// quadratic time (4 KiB each): "    at " + " (a:1:1" x 580 + "x".
const STACK_BOMB = `node -e "console.log('Error: x'); for (let i = 0; i < 40; i++) console.log('    at ' + ' (a:1:1'.repeat(580) + 'x')"`;

// Prints its arguments as JSON: what the script really received.
const ECHO_ARGS = `node -e "console.log(JSON.stringify(process.argv.slice(1)))"`;

const fx = useCliFixture({
  'echo-args': ECHO_ARGS,
  'stack-bomb': STACK_BOMB,
  stubborn: STUBBORN,
  'leaves-child': LEAVES_CHILD,
  'long-line': LONG_LINE,
  banner: BANNER,
  hello: 'node -e "console.log(42)"',
});

interface Run {
  id: string;
  state: string;
  pid: number;
}

async function runToEnd(client: Awaited<ReturnType<typeof fx.connectClient>>, name: string) {
  const run = (await call(client, 'scripts_run', { name })).structuredContent as unknown as Run;
  return waitFor(
    async () => {
      const { runs } = (await call(client, 'scripts_status')).structuredContent as {
        runs: Run[];
      };
      const now = runs.find((r) => r.id === run.id);
      return now && now.state !== 'running' ? now : undefined;
    },
    { what: `${name} to end`, timeoutMs: 30_000 },
  );
}

async function startStubborn(marker: string, args: string[] = []) {
  const { proc, record } = await fx.startAndWaitForRecord(['--grace-ms', '500', ...args]);
  const client = await fx.connectClient(record);
  const run = (await call(client, 'scripts_run', { name: 'stubborn', args: [marker] }))
    .structuredContent as unknown as Run;
  await waitFor(
    async () =>
      JSON.stringify((await call(client, 'logs_get', { run: run.id })).structuredContent).includes(
        '"up"',
      ),
    { what: 'stubborn script up' },
  );
  return { proc, client, run };
}

describe('beacon-instance leaves no process behind', () => {
  it('kills a SIGTERM-ignoring script when the instance is SIGKILLed', async () => {
    const marker = `beacon-orphan-${randomUUID()}`;
    const { proc } = await startStubborn(marker);
    expect(processesWith(marker).length).toBeGreaterThan(0);
    await proc.kill('SIGKILL');
    // Gone within the grace period (500 ms) plus a second; the wait allows for a loaded machine.
    await waitFor(() => processesWith(marker).length === 0, {
      what: 'no process of the script',
      timeoutMs: 10_000,
    });
  });

  it('kills it when the instance is SIGKILLed during scripts_stop', async () => {
    const marker = `beacon-orphan-${randomUUID()}`;
    const { proc, client, run } = await startStubborn(marker, ['--grace-ms', '2000']);
    // The stop is under way once the script reports the SIGTERM it ignores.
    void call(client, 'scripts_stop', { run: run.id }).catch(() => undefined);
    await waitFor(
      async () =>
        JSON.stringify(
          (await call(client, 'logs_get', { run: run.id })).structuredContent,
        ).includes('term ignored'),
      { what: 'the stop under way' },
    );
    await proc.kill('SIGKILL');
    await waitFor(() => processesWith(marker).length === 0, {
      what: 'no process of the script',
      timeoutMs: 10_000,
    });
  });

  it('stops a SIGTERM-ignoring script with SIGKILL after the grace period', async () => {
    const marker = `beacon-orphan-${randomUUID()}`;
    const { client, run } = await startStubborn(marker);
    const stopped = (await call(client, 'scripts_stop', { run: run.id }))
      .structuredContent as unknown as Run;
    expect(stopped.state).toBe('stopped');
    expect(processesWith(marker)).toEqual([]);
  });

  it('ends what a script left running when it exits', async () => {
    const marker = `beacon-orphan-${randomUUID()}`;
    const { record } = await fx.startAndWaitForRecord(['--grace-ms', '500']);
    const client = await fx.connectClient(record);
    await call(client, 'scripts_run', { name: 'leaves-child', args: [marker] });
    const ended = await waitFor(
      async () => {
        const { runs } = (await call(client, 'scripts_status')).structuredContent as {
          runs: Run[];
        };
        return runs[0]?.state === 'running' ? undefined : runs[0];
      },
      { what: 'run end' },
    );
    expect(ended.state).toBe('exited');
    expect(processesWith(marker)).toEqual([]);
  });
});

describe('beacon-instance calls cannot hang', () => {
  it('answers a catastrophic pattern, and other requests meanwhile', async () => {
    const { record } = await fx.startAndWaitForRecord();
    const client = await fx.connectClient(record);
    const run = await runToEnd(client, 'banner');
    const other = await fx.connectClient(record);
    const [grep, info] = await Promise.all([
      call(client, 'logs_get', { run: run.id, grep: '(.+)+X', limit: 2000 }),
      call(other, 'project_info'),
    ]);
    expect(info.isError).toBeFalsy();
    // Either every line was scanned (none matches) or the budget ran out with a clear error.
    if (grep.isError) expect(JSON.stringify(grep.content)).toContain('took over');
    else expect((grep.structuredContent as { lines: unknown[] }).lines).toEqual([]);
    const nested = await call(client, 'logs_get', { run: run.id, grep: '(a+)+$', limit: 5 });
    expect(nested.isError).toBeFalsy();
    expect((nested.structuredContent as { lines: unknown[] }).lines).toEqual([]);
    const found = await call(client, 'logs_get', { run: run.id, grep: '^a{30}!', limit: 3 });
    expect((found.structuredContent as { lines: unknown[] }).lines).toHaveLength(3);
  });

  it('refuses backreferences with a clear tool error', async () => {
    const { record } = await fx.startAndWaitForRecord();
    const client = await fx.connectClient(record);
    await runToEnd(client, 'hello');
    const result = await call(client, 'logs_get', { grep: '(a)\\1' });
    expect(result.isError).toBe(true);
    expect(JSON.stringify(result.content)).toContain('RE2');
  });
});

describe('beacon-instance memory stays bounded', () => {
  it('keeps one cut line of an endless line, and only the newest runs', async () => {
    const { record } = await fx.startAndWaitForRecord(['--max-runs', '3']);
    const client = await fx.connectClient(record);
    const long = await runToEnd(client, 'long-line');
    const { lines } = (await call(client, 'logs_get', { run: long.id })).structuredContent as {
      lines: Array<{ text: string }>;
    };
    // Besides the package manager's banner, one line: the first 4,096 characters, marked.
    const own = lines.filter((l) => l.text.startsWith('x'));
    expect(own.map((l) => l.text)).toEqual([`${'x'.repeat(4096)}… [line cut at 4096 characters]`]);
    expect(lines.length).toBeLessThan(6);
    for (let i = 0; i < 3; i++) await runToEnd(client, 'hello');
    const { runs } = (await call(client, 'scripts_status')).structuredContent as { runs: Run[] };
    expect(runs.map((r) => r.id)).toEqual(['run-2', 'run-3', 'run-4']);
    const gone = await call(client, 'logs_get', { run: long.id });
    expect(gone.isError).toBe(true);
    expect(JSON.stringify(gone.content)).toContain('the newest 3');
  });
});

describe('beacon-instance sessions and connections', () => {
  const initialize = (url: string, token: string | undefined) =>
    rawPost(url, { token, body: INITIALIZE });
  const post = async (url: string, token: string | undefined, session: string, method = 'POST') =>
    (
      await rawPost(url, {
        token,
        method,
        headers: { 'mcp-session-id': session },
        ...(method === 'POST' ? { body: { jsonrpc: '2.0', id: 2, method: 'ping' } } : {}),
      })
    ).status;

  it('caps concurrent sessions with a clear 503, logged once a minute; DELETE makes room', async () => {
    const { proc, record } = await fx.startAndWaitForRecord(['--max-sessions', '50']);
    const opened = await Promise.all(
      Array.from({ length: 50 }, () => initialize(record.url, record.token)),
    );
    expect(opened.every((o) => o.status === 200 && o.session)).toBe(true);
    for (let i = 0; i < 20; i++)
      expect((await initialize(record.url, record.token)).status).toBe(503);
    // A client retrying against the full table does not flood the log: one line a minute.
    await proc.waitForStderr(/refused a new session/);
    expect(proc.stderr().match(/refused a new session/g)).toHaveLength(1);
    expect(await post(record.url, record.token, opened[0]!.session!, 'DELETE')).toBe(200);
    expect((await initialize(record.url, record.token)).status).toBe(200);
  });

  it('expires 200 abandoned sessions and keeps serving', async () => {
    const { record } = await fx.startAndWaitForRecord([
      '--session-idle-ms',
      '300',
      '--max-sessions',
      '500',
    ]);
    const opened = await Promise.all(
      Array.from({ length: 200 }, () => initialize(record.url, record.token)),
    );
    expect(opened.every((o) => o.status === 200 && o.session)).toBe(true);
    // Each abandoned session ends after 300 ms without a request: its id is then unknown.
    // A check is a request too, so checks are spaced wider than the idle time.
    await waitFor(
      async () => {
        const statuses = await Promise.all(
          opened.map((o) => post(record.url, record.token, o.session!)),
        );
        return statuses.every((status) => status === 404);
      },
      { what: 'every abandoned session expired', intervalMs: 1_000 },
    );
    const client = await fx.connectClient(record);
    expect((await call(client, 'project_info')).isError).toBeFalsy();
  });

  it('keeps answering authenticated calls while 2,000 idle connections are held', async () => {
    const { record } = await fx.startAndWaitForRecord();
    const idle: Socket[] = [];
    let closedByServer = 0;
    try {
      for (let i = 0; i < 2000; i++) {
        const socket = connect(record.port, '127.0.0.1');
        socket.on('error', () => undefined);
        socket.on('close', () => closedByServer++);
        idle.push(socket);
      }
      await Promise.all(
        idle.map(
          (s) => new Promise((resolve) => s.once('connect', resolve).once('close', resolve)),
        ),
      );
      const client = await fx.connectClient(record);
      for (let i = 0; i < 5; i++) expect((await call(client, 'project_info')).isError).toBeFalsy();
      expect(closedByServer).toBe(0); // held, not dropped yet
    } finally {
      for (const socket of idle) socket.destroy();
    }
  });

  it('escapes control characters in a hostile project name', async () => {
    await writeFile(
      path.join(fx.project, 'package.json'),
      JSON.stringify({ name: 'evil\x1b]0;pwned\x07\x1b[2J\nfake row', scripts: {} }),
    );
    const { proc, record } = await fx.startAndWaitForRecord(['--log-level', 'info']);
    expect(record.name).toBe('evil\\x0afake row');
    await proc.waitForStderr('serving');
    expect(proc.stderr()).not.toContain('\x1b');
    expect(proc.stderr()).not.toContain('\x07');
  });

  // A bound in ms on a busy 2-core machine: retried twice so one noisy moment is not a failure
  // (before the fix every attempt took 200-290 ms).
  // The scan has a wall-clock budget (1 s): on a machine loaded enough to exceed it, errors_get
  // says so instead of answering, and the test is run again.
  it('answers another session while errors_get scans 20 runs built to backtrack, before the scan ends', {
    retry: 2,
  }, async () => {
    const { record } = await fx.startAndWaitForRecord();
    const scanner = await fx.connectClient(record);
    const other = await fx.connectClient(record);
    for (let i = 0; i < 20; i++) await runToEnd(scanner, 'stack-bomb');
    const order: string[] = [];
    const errors = call(scanner, 'errors_get', { limit: 100 }).then((r) => {
      order.push('errors_get');
      return r;
    });
    // Sent once the scan is under way: it must not wait for the scan to end.
    await new Promise((resolve) => setImmediate(resolve));
    const info = call(other, 'project_info').then((r) => {
      order.push('project_info');
      return r;
    });
    const [found, answered] = await Promise.all([errors, info]);
    // The scan gives the loop back every 2 ms (SLICE_MS, also inside one error's 40 lines), so
    // the other session is served while it runs; a scan that held the loop would answer first.
    // The order, not a time, is the check: a loaded machine slows both sides alike.
    expect(answered.isError).toBeFalsy();
    expect(found.isError, JSON.stringify(found.content)).toBeFalsy();
    expect((found.structuredContent as { total: number }).total).toBe(20);
    expect(order).toEqual(['project_info', 'errors_get']);
  });

  it('runs the package manager from PATH by absolute path, never one the project plants', async () => {
    const marker = path.join(fx.tmp.path, `planted-${randomUUID()}`);
    const plant = `#!/bin/sh\ntouch ${marker}\n`;
    await mkdir(path.join(fx.project, 'node_modules', '.bin'), { recursive: true });
    for (const file of ['npm', path.join('node_modules', '.bin', 'npm')])
      await writeFile(path.join(fx.project, file), plant, { mode: 0o755 });
    const { record } = await fx.startAndWaitForRecord([], {
      PATH: `.:./node_modules/.bin::${process.env.PATH}`,
    });
    const client = await fx.connectClient(record);
    const run = await runToEnd(client, 'hello');
    expect(run.state).toBe('exited');
    const logs = (await call(client, 'logs_get', { run: run.id })).structuredContent as {
      lines: { text: string }[];
    };
    expect(logs.lines.map((l) => l.text)).toContain('42');
    await expect(readFile(marker)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it.each(['npm', 'pnpm'])(
    'passes $(…), backticks and ; to a script as text with %s, running nothing',
    async (manager) => {
      const lock = manager === 'pnpm' ? 'pnpm-lock.yaml' : 'package-lock.json';
      await writeFile(
        path.join(fx.project, lock),
        manager === 'pnpm' ? "lockfileVersion: '9.0'\n" : '{}',
      );
      const { record } = await fx.startAndWaitForRecord();
      const client = await fx.connectClient(record);
      const marker = path.join(fx.tmp.path, `pwned-${manager}`);
      const args = [`$(touch ${marker})`, `\`touch ${marker}\``, `; touch ${marker}`, "it's"];
      const run = (await call(client, 'scripts_run', { name: 'echo-args', args }))
        .structuredContent as unknown as Run;
      expect(run).toMatchObject({ state: expect.any(String) });
      const ended = await waitFor(
        async () => {
          const { runs } = (await call(client, 'scripts_status')).structuredContent as {
            runs: Run[];
          };
          const now = runs.find((r) => r.id === run.id);
          return now && now.state !== 'running' ? now : undefined;
        },
        { what: 'echo-args to end', timeoutMs: 30_000 },
      );
      expect(ended.state).toBe('exited');
      const { lines } = (await call(client, 'logs_get', { run: run.id })).structuredContent as {
        lines: { text: string }[];
      };
      const printed = lines.map((l) => l.text).find((t) => t.startsWith('['));
      expect(JSON.parse(printed!)).toEqual(args);
      await expect(readFile(marker)).rejects.toMatchObject({ code: 'ENOENT' });
    },
  );

  it('refuses script arguments for a bun project, with a clear tool error', async () => {
    await writeFile(path.join(fx.project, 'bun.lock'), '');
    const { record } = await fx.startAndWaitForRecord();
    const client = await fx.connectClient(record);
    const refused = await call(client, 'scripts_run', { name: 'echo-args', args: ['$(id)'] });
    expect(refused.isError).toBe(true);
    expect(JSON.stringify(refused.content)).toContain('does not quote script arguments');
  });
});
