#!/usr/bin/env node
// Discovery benchmark: rename() of a record -> `added` event latency with 0, 100 and 1,000
// other records present, and the initial scan time of 1,000 and 10,000 records. The baseline,
// measured in the same run, is Node's bare fs.watch reacting to the same renames.
// Usage: pnpm bench:discovery [--samples 500]
import { randomUUID } from 'node:crypto';
import { watch } from 'node:fs';
import { mkdtemp, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ensurePaths, resolvePaths } from '../packages/paths/dist/index.js';
import { writeInstance } from '../packages/registry/dist/index.js';
import { makeRecord } from '../packages/test-utils/dist/index.js';
import { parcelBackend, watchInstances } from '../packages/watcher/dist/index.js';
import { summarize } from './_stats.mjs';

const args = process.argv.slice(2);
const samples = Number(args[args.indexOf('--samples') + 1]) || 500;
const parcelSamples = Math.min(samples, 100); // each parcel-only sample costs its ~50 ms batch

const record = (id = randomUUID()) => makeRecord({ id, path: '/bench', name: 'bench' });

async function fill(paths, count) {
  for (let i = 0; i < count; i += 500) {
    await Promise.all(
      Array.from({ length: Math.min(500, count - i) }, () => writeInstance(paths, record())),
    );
  }
}

/** Writes a record to temp, then times rename() until `waitAdded(id)` resolves. */
async function measure(paths, n, waitAdded, waitRemoved) {
  const out = [];
  for (let i = 0; i < n; i++) {
    const r = record();
    const temp = path.join(paths.temp, `${r.id}.json.bench.tmp`);
    const final = path.join(paths.instances, `${r.id}.json`);
    await writeFile(temp, JSON.stringify(r), { mode: 0o600 });
    const added = waitAdded(r.id);
    const t0 = performance.now();
    await rename(temp, final);
    out.push((await added) - t0);
    const removed = waitRemoved(r.id);
    await unlink(final);
    await removed;
  }
  return out;
}

function eventWaiter(watcher) {
  const waiting = new Map();
  watcher.on((event) => {
    const key = `${event.type}:${event.id}`;
    const resolve = waiting.get(key);
    if (resolve) {
      waiting.delete(key);
      resolve(performance.now());
    }
  });
  return (type) => (id) => new Promise((resolve) => waiting.set(`${type}:${id}`, resolve));
}

async function latency(others, backends, n) {
  const home = await mkdtemp(path.join(tmpdir(), 'beacon-bench-'));
  const paths = await ensurePaths(resolvePaths({ home }));
  await fill(paths, others);
  const watcher = watchInstances({ dir: paths.instances, ...(backends ? { backends } : {}) });
  const wait = eventWaiter(watcher);
  await watcher.ready;
  const result = await measure(paths, n, wait('added'), wait('removed'));
  await watcher.close();
  await rm(home, { recursive: true, force: true });
  return summarize(result);
}

async function baselineFsWatch(others, n) {
  const home = await mkdtemp(path.join(tmpdir(), 'beacon-bench-'));
  const paths = await ensurePaths(resolvePaths({ home }));
  await fill(paths, others);
  const waiting = new Map();
  const fsw = watch(paths.instances, (_type, name) => {
    const resolve = waiting.get(name);
    if (resolve) {
      waiting.delete(name);
      resolve(performance.now());
    }
  });
  const waitFor = (id) => new Promise((resolve) => waiting.set(`${id}.json`, resolve));
  const result = await measure(paths, n, waitFor, waitFor);
  fsw.close();
  await rm(home, { recursive: true, force: true });
  return summarize(result);
}

async function scan(count) {
  const home = await mkdtemp(path.join(tmpdir(), 'beacon-bench-'));
  const paths = await ensurePaths(resolvePaths({ home }));
  await fill(paths, count);
  const runs = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    const watcher = watchInstances({ dir: paths.instances });
    await watcher.ready;
    runs.push(performance.now() - t0);
    if (watcher.records().size !== count)
      throw new Error(`scan saw ${watcher.records().size} of ${count}`);
    await watcher.close();
  }
  await rm(home, { recursive: true, force: true });
  return summarize(runs);
}

const report = {
  node: process.version,
  platform: `${process.platform}-${process.arch}`,
  samples,
  latency_ms: {},
  scan_ms: {},
};
for (const others of [0, 100, 1000]) {
  report.latency_ms[`${others}_others`] = {
    beacon_default: await latency(others, undefined, samples),
    beacon_parcel_only: await latency(others, [parcelBackend], parcelSamples),
    baseline_fs_watch: await baselineFsWatch(others, samples),
  };
  const row = report.latency_ms[`${others}_others`];
  row.ratio_p50_default_vs_baseline =
    Math.round((row.beacon_default.p50 / row.baseline_fs_watch.p50) * 100) / 100;
  console.error(`latency with ${others} others: done`);
}
for (const count of [1000, 10000]) {
  report.scan_ms[`${count}_records`] = await scan(count);
  console.error(`scan of ${count}: done`);
}
report.targets = {
  p99_under_10ms_at_1000: report.latency_ms['1000_others'].beacon_default.p99 < 10,
  scan_10000_under_1s: report.scan_ms['10000_records'].p50 < 1000,
};
console.log(JSON.stringify(report, null, 2));
