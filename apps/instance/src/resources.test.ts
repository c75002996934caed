import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTempDir, manualClock, type TempDir, waitFor } from '@mcp-beacon/test-utils';
import { Client } from '@modelcontextprotocol/client';
import { InMemoryTransport, McpServer } from '@modelcontextprotocol/server';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { registerLogResources } from './resources.js';
import { ScriptRunner } from './scripts.js';

const GUARDIAN = fileURLToPath(new URL('../dist/guardian.js', import.meta.url));

let tmp: TempDir;
let runner: ScriptRunner;
beforeEach(async () => {
  tmp = await createTempDir();
  const project = path.join(tmp.path, 'app');
  await mkdir(project);
  await writeFile(
    path.join(project, 'package.json'),
    JSON.stringify({
      name: 'app',
      scripts: { burst: 'node -e "for (let i = 1; i <= 500; i++) console.log(\'line \' + i)"' },
    }),
  );
  runner = new ScriptRunner({ cwd: project, guardianPath: GUARDIAN });
});
afterEach(async () => {
  await runner.stopAll();
  await tmp.cleanup();
});

describe('registerLogResources', () => {
  it('sends one update at once, then at most one per throttle period while lines arrive', async () => {
    const clock = manualClock();
    const server = new McpServer({ name: 't', version: '1' });
    const stop = registerLogResources(server, runner, { clock, throttleMs: 250 });
    const client = new Client({ name: 'c', version: '1' });
    const updates: string[] = [];
    client.setNotificationHandler('notifications/resources/updated', async (n) => {
      updates.push(n.params.uri);
    });
    const [a, b] = InMemoryTransport.createLinkedPair();
    await Promise.all([server.connect(a), client.connect(b)]);

    const { run } = await runner.run('burst');
    await client.subscribeResource({ uri: `logs://${run.id}` });
    await runner.watch(run.id).ended;
    // 500 lines while the clock stood still: the first sent at once, the rest pending.
    await waitFor(() => updates.length === 1, { what: 'first update' });
    expect(clock.pending()).toBe(1);
    await clock.advance(250);
    await waitFor(() => updates.length === 2, { what: 'trailing update' });
    // Nothing new since: the throttle goes quiet.
    await clock.advance(1_000);
    expect(updates).toEqual([`logs://${run.id}`, `logs://${run.id}`]);
    expect(clock.pending()).toBe(0);

    const read = await client.readResource({ uri: `logs://${run.id}` });
    const text = (read.contents[0] as { text: string }).text.split('\n');
    expect(text.filter((l) => l.startsWith('line '))).toHaveLength(500);
    stop();
    await client.close();
  });

  it('caps the subscriptions of one session', async () => {
    const server = new McpServer({ name: 't', version: '1' });
    registerLogResources(server, runner, { maxSubscriptions: 1 });
    const client = new Client({ name: 'c', version: '1' });
    const [a, b] = InMemoryTransport.createLinkedPair();
    await Promise.all([server.connect(a), client.connect(b)]);
    const first = (await runner.run('burst')).run;
    await runner.watch(first.id).ended;
    const second = (await runner.run('burst')).run;
    await client.subscribeResource({ uri: `logs://${first.id}` });
    await client.subscribeResource({ uri: `logs://${first.id}` }); // again: no new slot
    await expect(client.subscribeResource({ uri: `logs://${second.id}` })).rejects.toThrow(
      /already holds 1 subscriptions/,
    );
    await client.unsubscribeResource({ uri: `logs://${first.id}` });
    await client.subscribeResource({ uri: `logs://${second.id}` });
    await client.close();
  });
});
