#!/usr/bin/env node
// What one hostile instance costs the others, with a same-run baseline:
//  (h) calls to a healthy instance through the hub (p50/p99) with nothing else connected
//      (baseline), then while a second announced server lists 50,000 tools and sends
//      tools/list_changed every 10 ms; the hub's RSS before and at its peak, and whether it lives.
// Usage: node bench/hostile.mjs [--calls 500] [--seconds 20]
import { fork, spawn } from 'node:child_process';
import { rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeRecord, startMcpHttpServer } from '../packages/test-utils/dist/index.js';
import { HUB, numberFlag } from './_cli.mjs';
import { benchHome } from './_home.mjs';
import { rssMib } from './_proc.mjs';
import { rawPipe } from './_raw-pipe.mjs';
import { summarize } from './_stats.mjs';

const CALLS = numberFlag('calls', 500);
const SECONDS = numberFlag('seconds', 20);
const log = (s) => process.stderr.write(`${s}\n`);
const round = (x) => Math.round(x * 100) / 100;

if (process.argv[2] === '--hostile') {
  // The hostile server runs in a process of its own, so its work (serializing 50,000 tools for
  // every list) does not slow the benchmark's own clock or the healthy server.
  const hostile = await startMcpHttpServer(
    Array.from({ length: 50_000 }, (_, i) => ({
      name: `tool_${i}`,
      description: `tool number ${i}, a description of some length like a real one`,
      inputSchema: { type: 'object', properties: { x: { type: 'string' } } },
    })),
  );
  process.on('message', (m) => {
    if (m === 'flood') hostile.flood(10);
    if (m === 'lists') process.send({ lists: hostile.lists() });
  });
  process.send({ port: hostile.port, url: hostile.url });
  await new Promise(() => undefined);
}

const { work, instancesDir, tempDir, env } = await benchHome('beacon-bench-hostile-');
const servers = [];

async function announce(server, name, pid = process.pid) {
  const record = makeRecord({
    pid,
    port: server.port,
    url: server.url,
    name,
    path: path.join(work, name),
  });
  const temp = path.join(tempDir, `${record.id}.json.bench.tmp`);
  await writeFile(temp, JSON.stringify(record), { mode: 0o600 });
  await rename(temp, path.join(instancesDir, `${record.id}.json`));
}

try {
  const healthy = await startMcpHttpServer([
    { name: 'echo', description: 'echo', inputSchema: { type: 'object' } },
  ]);
  servers.push(healthy);
  await announce(healthy, 'healthy');
  const hub = spawn(process.execPath, [HUB, '--standalone', '--log-level', 'silent'], {
    env,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const { request, initialize } = rawPipe(hub);
  await initialize();
  await request('tools/list');
  const call = () =>
    request('tools/call', { name: 'echo', arguments: { instance: 'healthy' } }).then((r) => r.ms);
  // Both phases space their calls the same way (SECONDS over CALLS): a spaced call is slower
  // than a back-to-back one on an idle machine, so the baseline must be spaced too.
  const spacing = (SECONDS * 1000) / CALLS;
  let peak = 0;
  const measure = async () => {
    const times = [];
    const t0 = performance.now();
    for (let i = 0; i < CALLS; i++) {
      times.push(await call());
      peak = Math.max(peak, rssMib(hub.pid));
      const wait = t0 + (i + 1) * spacing - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    return times;
  };
  for (let i = 0; i < 100; i++) await call();
  const alone = await measure();
  const rssBefore = rssMib(hub.pid);
  peak = 0;

  log('hostile: 50,000 tools, list_changed every 10 ms');
  const child = fork(fileURLToPath(import.meta.url), ['--hostile'], { stdio: 'inherit' });
  servers.push({ close: async () => void child.kill() });
  const hostile = await new Promise((resolve) => child.once('message', resolve));
  await announce(hostile, 'hostile', child.pid);
  for (;;) {
    const { line } = await request('tools/call', { name: 'instances_list', arguments: {} });
    const { instances } = JSON.parse(line).result.structuredContent;
    if (instances.filter((i) => i.state === 'active').length === 2) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  child.send('flood');
  const beside = await measure();
  const { line } = await request('tools/call', { name: 'instances_list', arguments: {} });
  const bad = JSON.parse(line).result.structuredContent.instances.find((i) => i.name === 'hostile');
  const report = {
    node: process.version,
    h_healthy_calls_ms: {
      alone: summarize(alone),
      beside_hostile: summarize(beside),
      p50_ratio: round(summarize(beside).p50 / summarize(alone).p50),
    },
    h_hub_rss_mib: { before: round(rssBefore), peak_beside_hostile: round(peak) },
    h_hostile: {
      state: bad.state,
      tool_count: bad.tool_count,
      catalog_truncated: bad.catalog_truncated,
      tools_list_requests_it_served: await new Promise((resolve) => {
        child.once('message', (m) => resolve(m.lists));
        child.send('lists');
      }),
      hub_alive: hub.exitCode === null,
    },
  };
  hub.stdin.end();
  await new Promise((resolve) => hub.once('exit', resolve));
  console.log(JSON.stringify(report, null, 2));
} finally {
  for (const server of servers) await server.close();
  await rm(work, { recursive: true, force: true });
}
