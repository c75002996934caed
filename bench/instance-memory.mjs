#!/usr/bin/env node
import { spawn } from 'node:child_process';
// Instance memory, with same-run baselines.
// (1) Idle: a bare `node` process and a beacon-instance that has announced itself and been asked
//     nothing, started in turn (--starts N times each): their RSS once settled, the ratio, and
//     the time from spawn to the first line (bare node) or to `announced` (the instance).
// (2) Bound: the instance's RSS after a client session and one short run (the baseline), then
//     after 12 runs of a script that prints 65 MiB without a newline (the worst case:
//     long unterminated lines), and after 30 runs of a chatty script that prints 20,000
//     ordinary lines each (more runs than are kept).
// Usage: pnpm bench:instance [-- --runs N] [--starts N] [--instance path/to/cli.js]
// (--instance measures another build, e.g. an older commit's, against the same bare node.)
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { INSTANCE as BUILT, numberFlag } from './_cli.mjs';

const RUNS = numberFlag('runs', 12);
const STARTS = numberFlag('starts', 5);
const at = process.argv.indexOf('--instance');
const INSTANCE = at > 0 ? path.resolve(process.argv[at + 1]) : BUILT;
const log = (s) => process.stderr.write(`${s}\n`);
const mb = (kb) => Math.round(kb / 102.4) / 10;
const rss = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);

const work = await mkdtemp(path.join(tmpdir(), 'beacon-bench-memory-'));
const project = path.join(work, 'project');
await mkdir(project);
await writeFile(
  path.join(project, 'package.json'),
  JSON.stringify({
    name: 'memory-bench',
    scripts: {
      short: 'node -e "console.log(1)"',
      'long-line':
        "node -e \"const s = 'x'.repeat(65536); let n = 0; const w = () => { while (n < 1040) { n++; if (!process.stdout.write(s)) return process.stdout.once('drain', w); } }; w()\"",
      chatty:
        "node -e \"for (let i = 0; i < 20000; i++) console.log('GET /assets/index-' + i + '.js 200 in 3 ms ' + 'x'.repeat(60))\"",
    },
  }),
);
const median = (list) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)];
const settleMs = 1_500;

/** Spawns `args`, waits for `ready` on its stderr, lets it settle, reads its RSS, stops it. */
async function idleSample(args, ready) {
  const started = performance.now();
  const proc = spawn(process.execPath, args, {
    cwd: project,
    env: { ...process.env, MCP_BEACON_HOME: path.join(work, 'idle-home') },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  try {
    const upMs = await new Promise((resolve, reject) => {
      let err = '';
      proc.stderr.on('data', (c) => {
        err += c;
        if (ready.test(err)) resolve(performance.now() - started);
      });
      proc.once('exit', () => reject(new Error(`${args.join(' ')} exited:\n${err}`)));
    });
    await new Promise((r) => setTimeout(r, settleMs));
    return { upMs, rss: rss(proc.pid) };
  } finally {
    proc.kill('SIGTERM');
    if (proc.exitCode === null && proc.signalCode === null)
      await new Promise((r) => proc.once('exit', r));
  }
}

log(`idle: ${STARTS} starts each of a bare node and of beacon-instance (to announced)`);
const bare = [];
const idle = [];
for (let i = 0; i < STARTS; i++) {
  bare.push(
    await idleSample(['-e', 'process.stderr.write("up\\n"); setInterval(() => {}, 1e9)'], /up/),
  );
  idle.push(await idleSample([INSTANCE], /announced as/));
}
const bareRss = median(bare.map((s) => s.rss));
const idleRss = median(idle.map((s) => s.rss));

const child = spawn(process.execPath, [INSTANCE, '--no-register', '--no-auth'], {
  cwd: project,
  env: { ...process.env, MCP_BEACON_HOME: path.join(work, 'home') },
  stdio: ['ignore', 'ignore', 'pipe'],
});
let client;
try {
  const url = await new Promise((resolve, reject) => {
    let err = '';
    child.stderr.on('data', (c) => {
      err += c;
      const m = /at (http:\S+)/.exec(err);
      if (m) resolve(m[1]);
    });
    child.once('exit', () => reject(new Error(`instance exited:\n${err}`)));
  });
  client = new Client({ name: 'bench', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  const runToEnd = async (name) => {
    const run = (await client.callTool({ name: 'scripts_run', arguments: { name } }))
      .structuredContent;
    for (;;) {
      const { runs } = (await client.callTool({ name: 'scripts_status', arguments: {} }))
        .structuredContent;
      if (runs.find((r) => r.id === run.id)?.state !== 'running') return;
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const settle = () => new Promise((r) => setTimeout(r, 1_000));
  await runToEnd('short');
  await settle();
  const baseline = rss(child.pid);
  log(`baseline ${mb(baseline)} MB; ${RUNS} runs of 65 MiB without a newline`);
  let peak = baseline;
  for (let i = 0; i < RUNS; i++) {
    await runToEnd('long-line');
    peak = Math.max(peak, rss(child.pid));
  }
  await settle();
  const afterLong = rss(child.pid);
  log('30 runs of 20,000 lines');
  for (let i = 0; i < 30; i++) {
    await runToEnd('chatty');
    peak = Math.max(peak, rss(child.pid));
  }
  await settle();
  const afterChatty = rss(child.pid);
  const { runs } = (await client.callTool({ name: 'scripts_status', arguments: {} }))
    .structuredContent;
  console.log(
    JSON.stringify(
      {
        node: process.version,
        idle: {
          starts: STARTS,
          bare_node_rss_mb: mb(bareRss),
          instance_rss_mb: mb(idleRss),
          ratio: Math.round((idleRss / bareRss) * 100) / 100,
          target: 'instance within 1.5x a bare node',
          bare_node_first_line_ms_p50: Math.round(median(bare.map((s) => s.upMs))),
          instance_announced_ms_p50: Math.round(median(idle.map((s) => s.upMs))),
        },
        after_one_session: {
          rss_mb: mb(baseline),
          over_bare_node: Math.round((baseline / bareRss) * 100) / 100,
        },
        baseline_rss_mb: mb(baseline),
        after_long_line_runs: {
          runs: RUNS,
          rss_mb: mb(afterLong),
          over_baseline: Math.round((afterLong / baseline) * 100) / 100,
        },
        after_chatty_runs: {
          runs: 30,
          rss_mb: mb(afterChatty),
          over_baseline: Math.round((afterChatty / baseline) * 100) / 100,
        },
        peak_rss_mb: mb(peak),
        runs_kept: runs.length,
        target: 'under 200 MB after 12 long-line runs',
      },
      null,
      2,
    ),
  );
} finally {
  await client?.close().catch(() => undefined);
  child.kill('SIGTERM');
  if (child.exitCode === null) await new Promise((r) => child.once('exit', r));
  await rm(work, { recursive: true, force: true });
}
