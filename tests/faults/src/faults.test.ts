import { randomUUID } from 'node:crypto';
import { chown, mkdir, rename, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { writeInstance } from '@mcp-beacon/registry';
import {
  createTempDir,
  makeRecord,
  processesWith,
  startProcess,
  type TempDir,
  type TestProcess,
  testNode,
  waitFor,
} from '@mcp-beacon/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INSTANCE, World } from './_harness.js';

let tmp: TempDir;
let world: World;

beforeAll(async () => {
  tmp = await createTempDir('beacon-faults-');
  world = new World(tmp.path);
  // Namespaced names (<slug>__<tool>) let each fault name the instance it hits in the list.
  await world.startHub(['--tools', 'namespaced']);
});

afterAll(async () => {
  await world.hub?.close();
  await Promise.allSettled(world.instances.map((p) => p.kill()));
  await tmp.cleanup();
  // Scripts started by these cases carry this marker in their command line: none may remain.
  await waitFor(() => processesWith('beacon-fault-').length === 0, {
    what: 'no script process left by the fault suite',
    timeoutMs: 15_000,
  });
});

const record = (patch: Record<string, unknown>) =>
  makeRecord({ path: tmp.path, port: 1, name: 'fixture', has_package_json: false, ...patch });

async function listen(server: Server, host: string): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return (server.address() as AddressInfo).port;
}

async function close(server: Server): Promise<void> {
  await new Promise((resolve) => {
    server.close(resolve);
    server.closeAllConnections();
  });
}

async function bareInstance(
  name: string,
): Promise<{ proc: TestProcess; url: string; cwd: string }> {
  const cwd = await world.project(name);
  const proc = startProcess(
    testNode,
    [INSTANCE, '--no-register', '--no-auth', '--log-level', 'info'],
    { cwd, env: { ...process.env, MCP_BEACON_HOME: world.home } },
  );
  world.instances.push(proc);
  await proc.waitForStderr(/at http:\S+/);
  return { proc, url: /at (http:\S+)/.exec(proc.stderr())![1]!, cwd };
}

describe('fault suite (built hub and instances as real processes)', () => {
  it('ignores corrupt, huge, symlinked and foreign-owned files and keeps serving', async () => {
    const dir = world.paths.instances;
    await mkdir(dir, { recursive: true });
    const good = await world.startInstance('survivor');
    const corrupt = path.join(dir, `${randomUUID()}.json`);
    await writeFile(corrupt, '{"id": "half a record');
    const huge = record({ pad: 'x'.repeat(100 * 1024) });
    await writeFile(path.join(dir, `${huge.id}.json`), JSON.stringify(huge));
    const elsewhere = path.join(tmp.path, 'elsewhere.json');
    const target = record({ url: good.record.url, pid: good.record.pid });
    await writeFile(elsewhere, JSON.stringify(target));
    await symlink(elsewhere, path.join(dir, `${target.id}.json`));
    const foreign = record({ url: good.record.url, pid: good.record.pid });
    const foreignFile = path.join(dir, `${foreign.id}.json`);
    await writeFile(foreignFile, JSON.stringify(foreign));
    const root = process.getuid?.() === 0;
    if (root) await chown(foreignFile, 65534, 65534);
    for (const reason of [
      'INVALID_JSON',
      'TOO_LARGE',
      'SYMLINK',
      ...(root ? ['FOREIGN_OWNER'] : []),
    ]) {
      await waitFor(() => world.transport.stderr.includes(reason), { what: `${reason} logged` });
    }
    const list = await world.list();
    expect(list.map((i) => i.id)).not.toContain(target.id);
    expect(list.map((i) => i.id)).not.toContain(foreign.id);
    await waitFor(async () => (await world.stateOf(good.record.id)) === 'active');
    expect((await world.call('survivor__project_info')).isError).toBeFalsy();
    for (const file of [
      corrupt,
      path.join(dir, `${huge.id}.json`),
      path.join(dir, `${target.id}.json`),
      foreignFile,
    ])
      await unlink(file);
    await good.proc.kill('SIGTERM');
  });

  it('rejects non-loopback urls without sending them anything', async () => {
    let connections = 0;
    const trap = createServer((_req, res) => res.end('trap'));
    trap.on('connection', () => {
      connections++;
    });
    const port = await listen(trap, '0.0.0.0');
    try {
      // Both addresses reach this machine, but neither is on the loopback allow-list.
      const sneaky = [
        record({ url: `http://0.0.0.0:${port}/mcp`, port }),
        record({ url: `http://[::ffff:127.0.0.1]:${port}/mcp`, port }),
      ];
      for (const r of sneaky)
        await writeFile(path.join(world.paths.instances, `${r.id}.json`), JSON.stringify(r));
      for (const r of sneaky)
        await waitFor(() => world.transport.stderr.includes(`${r.id}.json: INVALID_RECORD`), {
          what: 'rejection logged',
        });
      expect((await world.list()).map((i) => i.id)).not.toContain(sneaky[0]!.id);
      expect(connections).toBe(0);
      for (const r of sneaky) await unlink(path.join(world.paths.instances, `${r.id}.json`));
    } finally {
      await close(trap);
    }
  });

  it('shows a record whose port serves something that is not MCP as unreachable, never active', async () => {
    const web = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<h1>not mcp</h1>');
    });
    const port = await listen(web, '127.0.0.1');
    try {
      const r = record({ url: `http://127.0.0.1:${port}/mcp`, port, name: 'impostor' });
      await writeInstance(world.paths, r);
      const seen = await waitFor(
        async () => {
          const i = (await world.list()).find((x) => x.id === r.id);
          return i && (i.state === 'retrying' || i.state === 'dead') ? i : undefined;
        },
        { what: 'impostor marked unreachable' },
      );
      expect(seen.reason).toBeTruthy();
      expect((await world.hub.listTools()).tools.some((t) => t.name.startsWith('impostor__'))).toBe(
        false,
      );
      await unlink(path.join(world.paths.instances, `${r.id}.json`));
      await waitFor(async () => (await world.stateOf(r.id)) === undefined, {
        what: 'impostor gone',
      });
    } finally {
      await close(web);
    }
  });

  it('survives an instance SIGKILLed in the middle of a tool call, and cleans its record', async () => {
    const victim = await world.startInstance('victim', [], {
      stubborn: `node -e "process.on('SIGTERM', () => console.log('term ignored')); console.log('ready'); setInterval(() => {}, 1000)"`,
    });
    await waitFor(async () => (await world.stateOf(victim.record.id)) === 'active');
    const marker = `beacon-fault-${randomUUID()}`;
    const run = (await world.call('victim__scripts_run', { name: 'stubborn', args: [marker] }))
      .structuredContent as { id: string };
    await waitFor(
      async () =>
        JSON.stringify(
          (await world.call('victim__logs_get', { run: run.id })).structuredContent,
        ).includes('"text":"ready"'),
      { what: 'script ready' },
    );
    // scripts_stop waits out the 3 s grace period for a script that ignores SIGTERM.
    const pending = world.call('victim__scripts_stop', { run: run.id }).then(
      (result) => ({ result, error: undefined }),
      (error: Error) => ({ result: undefined, error }),
    );
    // The stop is under way once the script reports the SIGTERM it ignores.
    await waitFor(
      async () =>
        JSON.stringify(
          (await world.call('victim__logs_get', { run: run.id })).structuredContent,
        ).includes('term ignored'),
      { what: 'the stop under way' },
    );
    await victim.proc.kill('SIGKILL');
    const outcome = await pending;
    expect(outcome.error !== undefined || outcome.result?.isError === true).toBe(true);
    await waitFor(async () => (await world.records()).every((r) => r.id !== victim.record.id), {
      what: 'record cleaned',
    });
    await waitFor(async () => (await world.stateOf(victim.record.id)) === undefined, {
      what: 'gone from the list',
    });
    expect(world.transport.child?.exitCode).toBeNull(); // the hub is still up
    // The script ignored SIGTERM; its guardian SIGKILLs it once the grace period is over.
    await waitFor(() => processesWith(marker).length === 0, {
      what: 'no process of the stubborn script',
      timeoutMs: 15_000,
    });
  });

  it('times calls out on a frozen instance, marks it, and brings it back after SIGCONT', async () => {
    const frozen = await world.startInstance('frozen');
    await waitFor(async () => (await world.stateOf(frozen.record.id)) === 'active');
    frozen.proc.child.kill('SIGSTOP');
    try {
      const hung = await world.call('frozen__scripts_list');
      expect(hung.isError).toBe(true);
      expect(JSON.stringify(hung.content)).toContain('did not answer within 1500 ms');
      await waitFor(
        async () => ['retrying', 'dead'].includes((await world.stateOf(frozen.record.id)) ?? ''),
        { what: 'marked by pings', timeoutMs: 30_000 },
      );
    } finally {
      frozen.proc.child.kill('SIGCONT');
    }
    await waitFor(async () => (await world.stateOf(frozen.record.id)) === 'active', {
      what: 'active again',
      timeoutMs: 60_000,
    });
    expect((await world.call('frozen__scripts_list')).isError).toBeFalsy();
    await frozen.proc.kill('SIGTERM');
  });

  it('ends right after 1,000 record writes and deletes as fast as possible', async () => {
    const target = await bareInstance('churn-target');
    const pool: string[] = Array.from({ length: 25 }, () => randomUUID());
    const present = new Set<string>();
    const temp = world.paths.temp;
    await mkdir(temp, { recursive: true });
    for (let i = 0; i < 1000; i++) {
      const id = pool[Math.floor(Math.random() * pool.length)]!;
      const file = path.join(world.paths.instances, `${id}.json`);
      if (present.has(id) && Math.random() < 0.5) {
        await unlink(file);
        present.delete(id);
      } else {
        const port = Number(new URL(target.url).port);
        const r = record({
          id,
          url: target.url,
          port,
          pid: target.proc.pid,
          name: `churn-${id.slice(0, 4)}`,
        });
        const t = path.join(temp, `${id}.${i}.tmp`);
        await writeFile(t, JSON.stringify(r));
        await rename(t, file);
        present.add(id);
      }
    }
    const churned = async () => (await world.list()).filter((i) => i.id && pool.includes(i.id));
    await waitFor(
      async () => {
        const list = await churned();
        return (
          list.length === present.size &&
          list.every((i) => present.has(i.id) && i.state === 'active')
        );
      },
      { what: 'hub converged on the final records', timeoutMs: 60_000 },
    );
    expect(new Set((await churned()).map((i) => i.id))).toEqual(present);
    for (const id of present) await unlink(path.join(world.paths.instances, `${id}.json`));
    await waitFor(async () => (await churned()).length === 0, { what: 'churn records gone' });
    await target.proc.kill('SIGTERM');
  });

  it('matches disk and processes exactly after 50 instances start and stop in random order', async () => {
    type Live = { proc: TestProcess; id: string };
    const live: Live[] = [];
    const ops = [...Array(50).fill('start'), ...Array(30).fill('stop')].sort(
      () => Math.random() - 0.5,
    );
    let started = 0;
    for (const op of ops) {
      if ((op === 'start' && started < 50) || live.length === 0) {
        const { proc, record } = await world.startInstance(`fleet${started++}`);
        live.push({ proc, id: record.id });
      } else {
        const victim = live.splice(Math.floor(Math.random() * live.length), 1)[0]!;
        // Mostly clean stops, some crashes: the hub must clean up after both.
        await victim.proc.kill(Math.random() < 0.7 ? 'SIGTERM' : 'SIGKILL');
      }
    }
    while (started < 50) {
      const { proc, record } = await world.startInstance(`fleet${started++}`);
      live.push({ proc, id: record.id });
    }
    const expected = new Set(live.map((l) => l.id));
    const fleet = async () => (await world.list()).filter((i) => i.name.startsWith('fleet'));
    await waitFor(
      async () => {
        const list = await fleet();
        const onDisk = (await world.records()).filter((r) => r.name.startsWith('fleet'));
        return (
          list.length === expected.size &&
          list.every((i) => expected.has(i.id) && i.state === 'active') &&
          onDisk.length === expected.size &&
          onDisk.every((r) => expected.has(r.id))
        );
      },
      { what: 'hub, disk and processes agree', timeoutMs: 90_000 },
    );
    const list = await fleet();
    const onDisk = (await world.records()).filter((r) => r.name.startsWith('fleet'));
    expect(new Set(list.map((i) => i.id))).toEqual(expected);
    expect(new Set(onDisk.map((r) => r.id))).toEqual(expected);
    for (const l of live) expect(l.proc.child.exitCode).toBeNull();
    await Promise.all(live.map((l) => l.proc.kill('SIGTERM')));
    await waitFor(async () => (await fleet()).length === 0, {
      what: 'fleet gone',
      timeoutMs: 30_000,
    });
  });

  it('recovers when the instances directory is deleted and recreated under it', async () => {
    const steady = await world.startInstance('steady');
    await waitFor(async () => (await world.stateOf(steady.record.id)) === 'active');
    await rm(world.paths.instances, { recursive: true, force: true });
    await waitFor(async () => (await world.stateOf(steady.record.id)) === undefined, {
      what: 'dropped with the directory',
    });
    // The instance's next heartbeat (every 5 s) writes its record again.
    await waitFor(async () => (await world.stateOf(steady.record.id)) === 'active', {
      what: 'rediscovered',
      timeoutMs: 30_000,
    });
    expect((await world.call('steady__project_info')).isError).toBeFalsy();
    await steady.proc.kill('SIGTERM');
  });

  it('wrote nothing but JSON-RPC to stdout across the whole suite', async () => {
    expect(world.transport.lines).toBeGreaterThan(50);
    expect(world.transport.violations).toEqual([]);
    await world.hub.close();
    expect(world.transport.leftover()).toBe('');
    expect(world.transport.child?.exitCode).toBe(0);
  });
});
