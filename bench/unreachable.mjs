#!/usr/bin/env node
// What records that never answer cost the hub, with a same-run baseline:
//  (g) rename -> listed in instances_list (p50/p99) for 200 records renamed in one by one, into
//      a hub with nothing else (baseline) and into one with 100 unreachable records present
//      (their pid alive, their port refusing); then the hub's CPU over a period with all 300.
// Usage: node bench/unreachable.mjs [--present 100] [--samples 200] [--cpu-seconds 60]
import { spawn } from 'node:child_process';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { makeRecord } from '../packages/test-utils/dist/index.js';
import { HUB, numberFlag } from './_cli.mjs';
import { benchHome } from './_home.mjs';
import { cpuMs } from './_proc.mjs';
import { rawPipe } from './_raw-pipe.mjs';
import { summarize } from './_stats.mjs';

const PRESENT = numberFlag('present', 100);
const SAMPLES = numberFlag('samples', 200);
const CPU_SECONDS = numberFlag('cpu-seconds', 60);
const log = (s) => process.stderr.write(`${s}\n`);
const round = (x) => Math.round(x * 100) / 100;

const { work, instancesDir, tempDir, env } = await benchHome('beacon-bench-unreachable-');

/** Ports the OS handed out and nobody listens on: a connection there is refused. */
async function refusingPorts(count) {
  const ports = new Set();
  while (ports.size < count) {
    const probe = createServer();
    await new Promise((resolve) => probe.listen(0, '127.0.0.1', resolve));
    ports.add(probe.address().port);
    await new Promise((resolve) => probe.close(resolve));
  }
  return [...ports];
}

/** A record of this (live) process whose port refuses, written to temp/. */
async function stageUnreachable(port, name) {
  const record = makeRecord({
    pid: process.pid,
    path: path.join(work, name),
    port,
    name,
    url: `http://127.0.0.1:${port}/mcp`,
    version: 1,
  });
  const temp = path.join(tempDir, `${record.id}.json.bench.tmp`);
  await writeFile(temp, JSON.stringify(record), { mode: 0o600 });
  return { record, temp, final: path.join(instancesDir, `${record.id}.json`) };
}

async function scenario(present, ports) {
  for (let i = 0; i < present; i++) {
    const { temp, final } = await stageUnreachable(ports[i], `down${i}`);
    await rename(temp, final);
  }
  const child = spawn(process.execPath, [HUB, '--standalone', '--log-level', 'silent'], {
    env,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const { request, initialize } = rawPipe(child);
  await initialize();
  await request('tools/list'); // first contact: the records present have had their first try
  const listed = [];
  for (let i = 0; i < SAMPLES; i++) {
    const staged = await stageUnreachable(ports[present + i], `new${i}`);
    const t0 = performance.now();
    await rename(staged.temp, staged.final);
    for (;;) {
      const { line } = await request('tools/call', { name: 'instances_list', arguments: {} });
      if (line.includes(staged.record.id)) break;
    }
    listed.push(performance.now() - t0);
  }
  return { child, request, listed: summarize(listed) };
}

async function stop(child) {
  child.stdin.end();
  if (child.exitCode === null) await new Promise((resolve) => child.once('exit', resolve));
}

async function clear() {
  await rm(instancesDir, { recursive: true, force: true });
  await mkdir(instancesDir, { recursive: true, mode: 0o700 });
}

const report = { node: process.version, present: PRESENT, samples: SAMPLES };
try {
  const ports = await refusingPorts(PRESENT + SAMPLES);
  log('unreachable: baseline (nothing else present)');
  const base = await scenario(0, ports);
  await stop(base.child);
  await clear();
  log(`unreachable: ${PRESENT} present`);
  const loaded = await scenario(PRESENT, ports);
  report.g_rename_to_listed_ms = {
    baseline_nothing_present: base.listed,
    with_unreachable_present: loaded.listed,
    p99_over_baseline: round(loaded.listed.p99 / base.listed.p99),
  };
  log(`unreachable: CPU over ${CPU_SECONDS} s with ${PRESENT + SAMPLES} records`);
  const before = cpuMs(loaded.child.pid);
  const t0 = performance.now();
  await new Promise((resolve) => setTimeout(resolve, CPU_SECONDS * 1000));
  const cpu = cpuMs(loaded.child.pid) - before;
  report.g_hub_cpu = {
    records: PRESENT + SAMPLES,
    seconds: CPU_SECONDS,
    percent_of_one_core: round((cpu / (performance.now() - t0)) * 100),
  };
  await stop(loaded.child);
  console.log(JSON.stringify(report, null, 2));
} finally {
  await rm(work, { recursive: true, force: true });
}
