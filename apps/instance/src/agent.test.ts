// The tools an assistant drives a project with, against the built beacon-instance.
import { fileURLToPath } from 'node:url';
import { isGroupAlive, processesWith, waitFor } from '@mcp-beacon/test-utils';
import {
  type CallToolResult,
  CallToolResultSchema,
  ResourceListChangedNotificationSchema,
  ResourceUpdatedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { call, useCliFixture } from './_cli-fixture.js';

const DEV = JSON.stringify(fileURLToPath(new URL('../fixtures/devserver.mjs', import.meta.url)));
const TSC = JSON.stringify(
  fileURLToPath(new URL('../fixtures/output/typescript.txt', import.meta.url)),
);

const fx = useCliFixture({
  dev: `node ${DEV}`,
  'dev:child': `node ${DEV} --with-child`,
  quiet: 'node -e "setInterval(() => {}, 1000)"',
  fail: 'node -e "console.error(\'boom\'); process.exit(3)"',
  typecheck: `node -e "process.stdout.write(require('fs').readFileSync(process.argv[1], 'utf8')); process.exit(2)" ${TSC}`,
  ticker:
    'node -e "let n = 0; const t = setInterval(() => { console.log(\'tick \' + ++n); if (n === 200) clearInterval(t); }, 5)"',
});

interface Run {
  id: string;
  pid: number;
  state: string;
  urls: string[];
  waited?: string;
  line?: { seq: number; text: string } | null;
}

async function connect() {
  const { record } = await fx.startAndWaitForRecord();
  return fx.connectClient(record);
}

const structured = <T>(result: CallToolResult) => {
  expect(result.isError, JSON.stringify(result.content)).toBeFalsy();
  return result.structuredContent as T;
};

describe('scripts_run waitFor', () => {
  it('returns once the dev server prints its URL, and the URL answers', async () => {
    const client = await connect();
    const run = structured<Run>(
      await call(client, 'scripts_run', { name: 'dev', waitFor: { url: true } }),
    );
    expect(run.waited).toBe('url');
    expect(run.state).toBe('running');
    expect(run.urls).toEqual([expect.stringMatching(/^http:\/\/localhost:\d+\/$/)]);
    expect(run.line?.text).toBe(`  ➜  Local:   ${run.urls[0]}`);
    expect(await (await fetch(run.urls[0]!)).text()).toMatch(/^hello from dev \d+$/);

    // The URL is reported on the run and on the project while the run lives.
    const status = structured<{ runs: Run[] }>(await call(client, 'scripts_status'));
    expect(status.runs.find((r) => r.id === run.id)?.urls).toEqual(run.urls);
    const info = structured<{ urls: string[] }>(await call(client, 'project_info'));
    expect(info.urls).toEqual(run.urls);
    // Asked again while it runs: answered at once from what it already printed.
    const again = structured<Run & { alreadyRunning: boolean }>(
      await call(client, 'scripts_run', { name: 'dev', waitFor: { url: true } }),
    );
    expect(again).toMatchObject({ id: run.id, alreadyRunning: true, waited: 'url' });
    const plain = structured<Run>(await call(client, 'scripts_run', { name: 'dev' }));
    expect(plain).toMatchObject({ id: run.id, alreadyRunning: true, urls: run.urls });
    await call(client, 'scripts_stop', { run: run.id });
    expect(structured<{ urls: string[] }>(await call(client, 'project_info')).urls).toEqual([]);
  });

  it('returns on a matching line, on exit, and at the timeout', async () => {
    const client = await connect();
    const ready = structured<Run>(
      await call(client, 'scripts_run', { name: 'dev', waitFor: { pattern: 'ready in \\d+ ms' } }),
    );
    expect(ready.waited).toBe('pattern');
    expect(ready.line?.text).toMatch(/VITE v8\.3\.8 {2}ready in \d+ ms/);

    const failed = structured<Run>(
      await call(client, 'scripts_run', { name: 'fail', waitFor: { url: true } }),
    );
    expect(failed).toMatchObject({ waited: 'exit', state: 'failed', line: null });

    const quiet = structured<Run>(
      await call(client, 'scripts_run', {
        name: 'quiet',
        waitFor: { pattern: 'never printed', timeoutMs: 300 },
      }),
    );
    expect(quiet).toMatchObject({ waited: 'timeout', state: 'running', line: null });
  });

  it('stops waiting, not the script, when the call is cancelled; reports progress meanwhile', async () => {
    const client = await connect();
    const progress: number[] = [];
    const controller = new AbortController();
    const pending = client.callTool(
      { name: 'scripts_run', arguments: { name: 'quiet', waitFor: { url: true } } },
      CallToolResultSchema,
      {
        signal: controller.signal,
        onprogress: (p) => {
          progress.push(p.progress);
          if (progress.length === 2) controller.abort();
        },
      },
    );
    await expect(pending).rejects.toThrow(/abort/i);
    expect(progress[1]).toBeGreaterThan(progress[0]!);
    const { runs } = structured<{ runs: Run[] }>(await call(client, 'scripts_status'));
    expect(runs).toEqual([expect.objectContaining({ state: 'running' })]);
    expect(isGroupAlive(runs[0]!.pid)).toBe(true);
  });

  it('refuses a pattern RE2 cannot run, and a timeout over the cap, starting nothing', async () => {
    const client = await connect();
    const bad = await call(client, 'scripts_run', {
      name: 'quiet',
      waitFor: { pattern: '(a)\\1' },
    });
    expect(bad.isError).toBe(true);
    expect(JSON.stringify(bad.content)).toMatch(/RE2/);
    const long = await call(client, 'scripts_run', {
      name: 'quiet',
      waitFor: { timeoutMs: 300_001 },
    });
    expect(long.isError).toBe(true);
    expect(structured<{ runs: Run[] }>(await call(client, 'scripts_status')).runs).toEqual([]);
  });
});

describe('errors_get, logs_search, scripts_restart', () => {
  it('finds the TypeScript errors of a run, with file, line and column', async () => {
    const client = await connect();
    const run = structured<Run>(
      await call(client, 'scripts_run', { name: 'typecheck', waitFor: { pattern: 'TS2554' } }),
    );
    const { errors, total } = structured<{ errors: Record<string, unknown>[]; total: number }>(
      await call(client, 'errors_get', { run: run.id }),
    );
    expect(total).toBe(2);
    expect(errors).toEqual([
      expect.objectContaining({
        run: run.id,
        script: 'typecheck',
        kind: 'typescript',
        message: "TS2322: Type 'string' is not assignable to type 'number'.",
        file: 'src/app.ts',
        line: 1,
        column: 7,
      }),
      expect.objectContaining({ kind: 'typescript', file: 'src/app.ts', line: 3, column: 27 }),
    ]);
    expect(
      structured<{ errors: unknown[] }>(await call(client, 'errors_get', { limit: 1 })).errors,
    ).toEqual([expect.objectContaining({ line: 3 })]);
    const unknown = await call(client, 'errors_get', { run: 'run-99' });
    expect(unknown.isError).toBe(true);
  });

  it('searches every kept run, newest matches, with run ids and line numbers', async () => {
    const client = await connect();
    const first = structured<Run>(
      await call(client, 'scripts_run', { name: 'fail', waitFor: { timeoutMs: 10_000 } }),
    );
    const second = structured<Run>(
      await call(client, 'scripts_run', { name: 'fail', waitFor: { timeoutMs: 10_000 } }),
    );
    const { hits } = structured<{ hits: { run: string; seq: number; text: string }[] }>(
      await call(client, 'logs_search', { pattern: '^BOOM$' }),
    );
    expect(hits.map((h) => [h.run, h.text])).toEqual([
      [first.id, 'boom'],
      [second.id, 'boom'],
    ]);
    expect(hits[0]!.seq).toBeGreaterThan(0);
    const limited = structured<{ hits: { run: string }[] }>(
      await call(client, 'logs_search', { pattern: '^bo+m$', limit: 1 }),
    );
    expect(limited.hits.map((h) => h.run)).toEqual([second.id]);
    const one = structured<{ hits: { run: string }[] }>(
      await call(client, 'logs_search', { pattern: '^boom$', runs: [first.id] }),
    );
    expect(one.hits.map((h) => h.run)).toEqual([first.id]);
  });

  it('restarts a dev server: the old process group is gone, the new one answers', async () => {
    const client = await connect();
    const marker = 'beacon-devserver-child';
    const before = processesWith(marker).length;
    const first = structured<Run>(
      await call(client, 'scripts_run', { name: 'dev:child', waitFor: { url: true } }),
    );
    await waitFor(() => processesWith(marker).length === before + 1, { what: 'helper' });
    const restarted = structured<Run & { previous: { id: string; state: string } }>(
      await call(client, 'scripts_restart', { run: first.id }),
    );
    expect(restarted.id).not.toBe(first.id);
    expect(restarted.previous).toMatchObject({ id: first.id, state: 'stopped' });
    expect(isGroupAlive(first.pid)).toBe(false);
    const ready = structured<Run>(
      await call(client, 'scripts_run', { name: 'dev:child', waitFor: { url: true } }),
    );
    expect(ready).toMatchObject({ id: restarted.id, alreadyRunning: true, waited: 'url' });
    expect(await (await fetch(ready.urls[0]!)).text()).toMatch(/^hello from dev/);
    // One helper, the new run's: the old one went with its group.
    await waitFor(() => processesWith(marker).length === before + 1, { what: 'one helper' });
    await call(client, 'scripts_stop', { run: restarted.id });
    await waitFor(() => processesWith(marker).length === before, { what: 'no helper' });
  });
});

describe('logs://<run id> resources', () => {
  it('lists, reads and sends throttled updates to a subscriber until it unsubscribes', async () => {
    const client = await connect();
    let listChanged = 0;
    client.setNotificationHandler(ResourceListChangedNotificationSchema, async () => {
      listChanged++;
    });
    const updates: number[] = [];
    client.setNotificationHandler(ResourceUpdatedNotificationSchema, async (n) => {
      expect(n.params.uri).toBe('logs://run-1');
      updates.push(performance.now());
    });
    expect(client.getServerCapabilities()?.resources).toMatchObject({ subscribe: true });
    expect((await client.listResources()).resources).toEqual([]);

    const run = structured<Run>(
      await call(client, 'scripts_run', { name: 'ticker', waitFor: { pattern: '^tick 1$' } }),
    );
    await waitFor(() => listChanged > 0, { what: 'resources list_changed' });
    const { resources } = await client.listResources();
    expect(resources).toEqual([
      expect.objectContaining({ uri: `logs://${run.id}`, name: run.id, mimeType: 'text/plain' }),
    ]);
    await client.subscribeResource({ uri: `logs://${run.id}` });
    await waitFor(
      async () =>
        structured<{ runs: Run[] }>(await call(client, 'scripts_status')).runs[0]?.state ===
        'exited',
      { what: 'ticker done' },
    );
    // 200 lines, throttled: a few updates, not one per line (resources.test.ts checks the
    // throttle itself on a manual clock).
    await waitFor(() => updates.length >= 2, { what: 'updates' });
    expect(updates.length).toBeLessThan(50);

    const read = await client.readResource({ uri: `logs://${run.id}` });
    const text = (read.contents[0] as { text: string }).text;
    expect(text.split('\n').filter((l) => l.startsWith('tick '))).toHaveLength(200);

    await client.unsubscribeResource({ uri: `logs://${run.id}` });
    const count = updates.length;
    await call(client, 'scripts_run', { name: 'ticker', waitFor: { pattern: '^tick 20$' } });
    await waitFor(() => listChanged > 1, { what: 'second list_changed' });
    expect(updates.length).toBe(count);

    await expect(client.subscribeResource({ uri: 'logs://run-99' })).rejects.toThrow(
      /no resource logs:\/\/run-99/,
    );
    await expect(client.readResource({ uri: 'logs://run-99' })).rejects.toThrow(/no run/);
  });
});
