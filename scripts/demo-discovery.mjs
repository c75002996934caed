#!/usr/bin/env node
// A runnable tour of discovery: registers two instances in a throwaway MCP_BEACON_HOME and
// prints what a watcher sees as they start, heartbeat, go bad and stop.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { resolvePaths } from '../packages/paths/dist/index.js';
import { register } from '../packages/registry/dist/index.js';
import { watchInstances } from '../packages/watcher/dist/index.js';

const home = await mkdtemp(path.join(tmpdir(), 'beacon-demo-'));
const paths = resolvePaths({ home });
const watcher = watchInstances({ dir: paths.instances });
try {
  await watcher.ready;
  console.log(`watching ${paths.instances}`);
  const seen = (predicate) =>
    new Promise((resolve) => {
      const off = watcher.on((event) => {
        const what =
          event.type === 'invalid'
            ? `${event.reason} ${path.basename(event.file)}`
            : `${event.id.slice(0, 8)} ${(event.record ?? event.previous).name}`;
        console.log(`  ${event.type.padEnd(8)} ${what}`);
        if (predicate(event)) {
          off();
          resolve(event);
        }
      });
    });
  const fields = (name, port) => ({
    pid: process.pid,
    path: path.join(home, name),
    port,
    name,
    has_package_json: true,
  });

  let next = seen((e) => e.type === 'added');
  const web = await register({ paths, record: fields('web-app', 5173), heartbeatMs: 0 });
  await next;
  next = seen((e) => e.type === 'added');
  const api = await register({ paths, record: fields('api', 3000), heartbeatMs: 0 });
  await next;
  next = seen((e) => e.type === 'updated');
  await web.heartbeat();
  await next;
  next = seen((e) => e.type === 'invalid');
  await writeFile(
    path.join(paths.instances, '00000000-0000-4000-8000-000000000000.json'),
    '{ not json',
  );
  await next;
  next = seen((e) => e.type === 'removed');
  await api.close();
  await next;
  console.log(`live now: ${[...watcher.records().values()].map((r) => r.name).join(', ')}`);
  await web.close();
} finally {
  await watcher.close();
  await rm(home, { recursive: true, force: true });
}
