#!/usr/bin/env node
// Hub benchmark, with same-run baselines:
//  (a) rename() of a record -> its tools callable through the hub (p50/p99), and -> list_changed;
//  (b) tool-call latency and calls/s through the hub vs the same instance called directly, on
//      MCP 2025-11-25 (SDK 1 client) and on 2026-07-28 (b2: an SDK 2 client pinned to it);
//  (c) hub RSS and tools/list latency with 50 instances connected (vs 0 connected);
//  (d) hub start -> first initialize answer (vs a minimal SDK stdio server).
// Usage: pnpm bench:hub [-- --samples N --calls N --instances N --node-flags "..."]
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, rename, rm, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  Client as ModernClient,
  StreamableHTTPClientTransport as ModernHttp,
} from '@modelcontextprotocol/client';
import { StdioClientTransport as ModernStdio } from '@modelcontextprotocol/client/stdio';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { makeRecord } from '../packages/test-utils/dist/index.js';
import { HUB, hubNodeFlags, INSTANCE, numberFlag } from './_cli.mjs';
import { benchHome } from './_home.mjs';
import { rssMib } from './_proc.mjs';
import { countTools, rawPipe } from './_raw-pipe.mjs';
import { summarize } from './_stats.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const BASELINE = path.join(here, '_baseline-server.mjs');
const SAMPLES = numberFlag('samples', 100);
const CALLS = numberFlag('calls', 1000);
const INSTANCES = numberFlag('instances', 50);
// The hub's Node flags: the shared hub's, or --node-flags "--flag1 --flag2" to compare others.
const HUB_NODE_FLAGS = hubNodeFlags();

const { work, instancesDir, tempDir, env } = await benchHome('beacon-bench-hub-');
const children = [];
const clients = [];
const log = (s) => process.stderr.write(`${s}\n`);

async function project(name) {
  const dir = path.join(work, name);
  await mkdir(dir, { recursive: true });
  await writeFile(
    path.join(dir, 'package.json'),
    JSON.stringify({ name, scripts: { build: 'echo build', test: 'echo test' } }),
  );
  return dir;
}

/** Starts beacon-instance without a record or token; resolves with its url and pid. */
async function startBareInstance(name) {
  const cwd = await project(name);
  const child = spawn(
    process.execPath,
    [INSTANCE, '--no-register', '--no-auth', '--log-level', 'info'],
    { cwd, env, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  children.push(child);
  let err = '';
  const url = await new Promise((resolve, reject) => {
    child.stderr.on('data', (c) => {
      err += c;
      const m = /at (http:\S+)/.exec(err);
      if (m) resolve(m[1]);
    });
    child.once('exit', () => reject(new Error(`instance exited: ${err}`)));
  });
  return { url, pid: child.pid, port: Number(new URL(url).port), cwd, name };
}

async function writeRecord(inst, id = randomUUID(), name = inst.name) {
  const record = makeRecord({
    id,
    pid: inst.pid,
    path: inst.cwd,
    port: inst.port,
    name,
    url: inst.url,
    version: 1,
  });
  const temp = path.join(tempDir, `${id}.json.bench.tmp`);
  await writeFile(temp, JSON.stringify(record), { mode: 0o600 });
  return { id, temp, final: path.join(instancesDir, `${id}.json`) };
}

async function connectHub(args = []) {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [...HUB_NODE_FLAGS, HUB, '--standalone', '--log-level', 'error', ...args],
    env,
    stderr: 'inherit',
  });
  const client = new Client({ name: 'bench', version: '1.0.0' });
  const t0 = performance.now();
  await client.connect(transport);
  const ms = performance.now() - t0;
  clients.push(client);
  return { client, transport, ms };
}

const rssMiB = (pid) => Math.round(rssMib(pid) * 10) / 10;

/** Times `count` tools/list requests on the hub's raw stdio, once it lists `minTools` tools. */
async function rawToolsList(child, count, minTools) {
  const { request, initialize } = rawPipe(child);
  await initialize();
  for (;;) {
    const { line } = await request('tools/list');
    if (countTools(line) >= minTools) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const times = [];
  for (let i = 0; i < count; i++) times.push((await request('tools/list')).ms);
  return times;
}

const ratio = (a, b) => Math.round((a / b) * 100) / 100;
const report = { node: process.version, platform: `${process.platform}-${process.arch}` };

try {
  // (d) start-up, first so nothing else is running yet.
  const hubStarts = [];
  const baseStarts = [];
  for (let i = 0; i < 15; i++) {
    const hub = await connectHub();
    hubStarts.push(hub.ms);
    await hub.client.close();
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [BASELINE],
      stderr: 'inherit',
    });
    const client = new Client({ name: 'bench', version: '1.0.0' });
    const t0 = performance.now();
    await client.connect(transport);
    baseStarts.push(performance.now() - t0);
    await client.close();
  }
  report.d_start_to_initialize_ms = {
    hub: summarize(hubStarts),
    baseline_minimal_sdk_server: summarize(baseStarts),
  };
  report.d_start_to_initialize_ms.added_p50_ms =
    Math.round(
      (report.d_start_to_initialize_ms.hub.p50 -
        report.d_start_to_initialize_ms.baseline_minimal_sdk_server.p50) *
        10,
    ) / 10;
  log('start-up: done');

  // (a) rename -> callable.
  const target = await startBareInstance('bench-target');
  const { client: hub } = await connectHub(['--tools', 'namespaced']);
  let changed = 0;
  hub.setNotificationHandler(ToolListChangedNotificationSchema, async () => {
    changed++;
  });
  const callable = [];
  const notified = [];
  for (let i = 0; i < SAMPLES; i++) {
    const name = `cand${i}`;
    // The hub tells a client of a list that changed from the one it was shown: show it one.
    await hub.listTools();
    const { id, temp, final } = await writeRecord(target, randomUUID(), name);
    const before = changed;
    const t0 = performance.now();
    await rename(temp, final);
    let tNotified;
    for (;;) {
      if (tNotified === undefined && changed > before) tNotified = performance.now();
      try {
        const r = await hub.callTool({ name: `${name}__scripts_list`, arguments: {} });
        if (!r.isError) break;
      } catch {
        // not routable yet
      }
    }
    callable.push(performance.now() - t0);
    while (changed === before) await new Promise((r) => setTimeout(r, 1));
    notified.push((tNotified ?? performance.now()) - t0);
    await unlink(final);
    for (;;) {
      const list = await hub.callTool({ name: 'instances_list', arguments: {} });
      if (!list.structuredContent.instances.some((x) => x.id === id)) break;
    }
  }
  report.a_rename_to_callable_ms = summarize(callable);
  report.a_rename_to_list_changed_ms = summarize(notified);
  log('rename -> callable: done');

  // (b) proxy overhead: the same tool on the same instance, via the hub and directly, interleaved.
  await writeRecord(target, randomUUID(), 'direct-target').then(({ temp, final }) =>
    rename(temp, final),
  );
  for (;;) {
    const r = await hub
      .callTool({ name: 'direct-target__scripts_list', arguments: {} })
      .catch(() => undefined);
    if (r && !r.isError) break;
  }
  const direct = new Client({ name: 'bench-direct', version: '1.0.0' });
  await direct.connect(new StreamableHTTPClientTransport(new URL(target.url)));
  clients.push(direct);
  const viaHub = [];
  const straight = [];
  for (let i = 0; i < 50; i++) {
    await hub.callTool({ name: 'direct-target__scripts_list', arguments: {} });
    await direct.callTool({ name: 'scripts_list', arguments: {} });
  }
  let hubTotal = 0;
  let directTotal = 0;
  for (let i = 0; i < CALLS; i++) {
    let t0 = performance.now();
    await hub.callTool({ name: 'direct-target__scripts_list', arguments: {} });
    const h = performance.now() - t0;
    t0 = performance.now();
    await direct.callTool({ name: 'scripts_list', arguments: {} });
    const d = performance.now() - t0;
    viaHub.push(h);
    straight.push(d);
    hubTotal += h;
    directTotal += d;
  }
  const hubStats = summarize(viaHub);
  const directStats = summarize(straight);
  report.b_tool_call_ms = {
    via_hub: hubStats,
    direct_baseline: directStats,
    added_p50_ms: Math.round((hubStats.p50 - directStats.p50) * 1000) / 1000,
    added_p99_ms: Math.round((hubStats.p99 - directStats.p99) * 1000) / 1000,
    ratio_p50: ratio(hubStats.p50, directStats.p50),
    calls_per_s_via_hub: Math.round(CALLS / (hubTotal / 1000)),
    calls_per_s_direct: Math.round(CALLS / (directTotal / 1000)),
  };
  log('proxy overhead: done');

  // (b2) the same on MCP 2026-07-28: an SDK 2 client pinned to it, via the hub and directly.
  const modern = new ModernClient(
    { name: 'bench-modern', version: '1.0.0' },
    { versionNegotiation: { mode: { pin: '2026-07-28' } } },
  );
  await modern.connect(
    new ModernStdio({
      command: process.execPath,
      args: [
        ...HUB_NODE_FLAGS,
        HUB,
        '--standalone',
        '--log-level',
        'error',
        '--tools',
        'namespaced',
      ],
      env,
      stderr: 'inherit',
    }),
  );
  clients.push(modern);
  for (;;) {
    const r = await modern
      .callTool({ name: 'direct-target__scripts_list', arguments: {} })
      .catch(() => undefined);
    if (r && !r.isError) break;
  }
  // The baseline: the same SDK 2 client, pinned to 2026-07-28, straight to the instance.
  const modernDirect = new ModernClient(
    { name: 'bench-modern-direct', version: '1.0.0' },
    { versionNegotiation: { mode: { pin: '2026-07-28' } } },
  );
  await modernDirect.connect(new ModernHttp(new URL(target.url)));
  clients.push(modernDirect);
  const viaModern = [];
  const straight2 = [];
  for (let i = 0; i < 50; i++) {
    await modern.callTool({ name: 'direct-target__scripts_list', arguments: {} });
    await modernDirect.callTool({ name: 'scripts_list', arguments: {} });
  }
  for (let i = 0; i < CALLS; i++) {
    let t0 = performance.now();
    await modern.callTool({ name: 'direct-target__scripts_list', arguments: {} });
    viaModern.push(performance.now() - t0);
    t0 = performance.now();
    await modernDirect.callTool({ name: 'scripts_list', arguments: {} });
    straight2.push(performance.now() - t0);
  }
  const modernStats = summarize(viaModern);
  const directStats2 = summarize(straight2);
  report.b2_tool_call_2026_07_28_ms = {
    era_via_hub: modern.getProtocolEra(),
    era_direct: modernDirect.getProtocolEra(),
    via_hub: modernStats,
    direct_baseline: directStats2,
    added_p50_ms: Math.round((modernStats.p50 - directStats2.p50) * 1000) / 1000,
    ratio_p50: ratio(modernStats.p50, directStats2.p50),
  };
  log('proxy overhead, 2026-07-28 client: done');

  // (c) memory and tools/list with many instances.
  const { client: fresh, transport: freshTransport } = await connectHub();
  await new Promise((r) => setTimeout(r, 300));
  const rssIdle = rssMiB(freshTransport.pid);
  await fresh.close();
  const many = [];
  for (let i = 0; i < INSTANCES; i++) {
    many.push(await startBareInstance(`svc${i}`));
    if (i % 10 === 9) log(`started ${i + 1} instances`);
  }
  // Namespaced, so the list grows with the instances as before (bench/tools.mjs compares both).
  const { client: big, transport: bigTransport } = await connectHub(['--tools', 'namespaced']);
  for (const inst of many) await writeRecord(inst).then(({ temp, final }) => rename(temp, final));
  for (;;) {
    const list = await big.callTool({ name: 'instances_list', arguments: {} });
    const active = list.structuredContent.instances.filter(
      (x) => x.state === 'active' && x.name.startsWith('svc'),
    ).length;
    if (active === INSTANCES) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const listTimes = [];
  let toolCount = 0;
  for (let i = 0; i < 200; i++) {
    const t0 = performance.now();
    const { tools } = await big.listTools();
    listTimes.push(performance.now() - t0);
    toolCount = tools.length;
  }
  // The same request on raw pipes: the hub's own cost, without an SDK client parsing 300 tools.
  const raw = spawn(
    process.execPath,
    [...HUB_NODE_FLAGS, HUB, '--standalone', '--log-level', 'error', '--tools', 'namespaced'],
    {
      env,
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  children.push(raw);
  const rawTimes = await rawToolsList(raw, 200, INSTANCES * 6);
  const baselineList = [];
  for (let i = 0; i < 200; i++) {
    const t0 = performance.now();
    await direct.listTools();
    baselineList.push(performance.now() - t0);
  }
  await new Promise((r) => setTimeout(r, 500));
  report.c_many_instances = {
    instances: INSTANCES,
    tools_listed: toolCount,
    hub_rss_mib: rssMiB(bigTransport.pid),
    hub_rss_mib_with_0_instances: rssIdle,
    tools_list_ms: summarize(listTimes),
    tools_list_raw_pipe_ms: summarize(rawTimes),
    baseline_one_instance_tools_list_ms: summarize(baselineList),
  };
  log('many instances: done');

  report.targets = {
    added_overhead_p50_under_1ms: report.b_tool_call_ms.added_p50_ms < 1,
    hub_vs_direct_at_most_1_both_eras:
      report.b_tool_call_ms.ratio_p50 <= 1 && report.b2_tool_call_2026_07_28_ms.ratio_p50 <= 1,
    rss_50_instances_under_100mib: report.c_many_instances.hub_rss_mib < 100,
    first_answer_under_300ms: report.d_start_to_initialize_ms.hub.p50 < 300,
  };
  console.log(JSON.stringify(report, null, 2));
} finally {
  await Promise.allSettled(clients.map((c) => c.close()));
  for (const child of children) child.kill('SIGTERM');
  await Promise.all(
    children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : undefined)),
  );
  await rm(work, { recursive: true, force: true });
}
