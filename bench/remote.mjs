#!/usr/bin/env node
// What a remote costs a call, with a same-run baseline:
//  (r) `echo` through the hub to an instance on this machine (baseline) and to one on a remote
//      (`--remote box=...`: a second hub over its command's stdio, its own data folder), calls
//      alternating between the two so both see the same machine; p50/p99 of each and their
//      ratio; then the hub's and the remote hub's RSS.
// The remote here is a local process, so the figure is the remote's own overhead (one more
// process, one more JSON hop each way); over ssh, add the network's round trip.
// Usage: node bench/remote.mjs [--calls 1000]
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { makeRecord, startMcpHttpServer } from '../packages/test-utils/dist/index.js';
import { HUB, numberFlag } from './_cli.mjs';
import { benchHome } from './_home.mjs';
import { rssMib } from './_proc.mjs';
import { rawPipe } from './_raw-pipe.mjs';
import { summarize } from './_stats.mjs';

const CALLS = numberFlag('calls', 1000);
const MARK = `--disable-warning=beacon-bench-remote-${process.pid}`;
const log = (s) => process.stderr.write(`${s}\n`);
const round = (x) => Math.round(x * 100) / 100;

const local = await benchHome('beacon-bench-remote-local-');
const remote = await benchHome('beacon-bench-remote-box-');
const servers = [];

async function announce(home, server, name) {
  const record = makeRecord({
    pid: process.pid,
    path: path.join(home.work, name),
    port: server.port,
    name,
    url: server.url,
    version: 1,
  });
  const temp = path.join(home.tempDir, `${record.id}.json.bench.tmp`);
  await writeFile(temp, JSON.stringify(record), { mode: 0o600 });
  await rename(temp, path.join(home.instancesDir, `${record.id}.json`));
}

/** The pid of the remote hub (its command line carries this run's marker). */
function remoteHubPid() {
  for (const name of readdirSync('/proc')) {
    try {
      const cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8');
      if (cmd.startsWith(`${process.execPath}\0${MARK}`)) return Number(name);
    } catch {
      // Exited while we looked.
    }
  }
  return undefined;
}

let hub;
try {
  const tool = [{ name: 'echo', description: 'echo', inputSchema: { type: 'object' } }];
  for (const [home, name] of [
    [local, 'near'],
    [remote, 'far'],
  ]) {
    const server = await startMcpHttpServer(tool);
    servers.push(server);
    await announce(home, server, name);
  }
  const command = ['env', `MCP_BEACON_HOME=${remote.home}`, process.execPath, MARK, HUB].join(' ');
  hub = spawn(
    process.execPath,
    [HUB, '--standalone', '--log-level', 'silent', '--remote', `box=${command}`],
    {
      env: local.env,
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  const { request, initialize } = rawPipe(hub);
  await initialize();
  for (;;) {
    const { line } = await request('tools/call', { name: 'instances_list', arguments: {} });
    const { instances } = JSON.parse(line).result.structuredContent;
    if (instances.filter((i) => i.state === 'active').length === 2) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const call = (instance) =>
    request('tools/call', { name: 'echo', arguments: { instance } }).then((r) => {
      if (!r.line.includes('called echo')) throw new Error(`unexpected answer: ${r.line}`);
      return r.ms;
    });
  for (let i = 0; i < 200; i++) await call(i % 2 ? 'near' : 'box/far');
  const near = [];
  const far = [];
  for (let i = 0; i < CALLS; i++) {
    // Alternating which goes first keeps any drift of the machine out of the ratio.
    if (i % 2) {
      near.push(await call('near'));
      far.push(await call('box/far'));
    } else {
      far.push(await call('box/far'));
      near.push(await call('near'));
    }
  }
  const remotePid = remoteHubPid();
  const report = {
    node: process.version,
    r_echo_ms: {
      local: summarize(near),
      through_remote: summarize(far),
      p50_ratio: round(summarize(far).p50 / summarize(near).p50),
      p99_ratio: round(summarize(far).p99 / summarize(near).p99),
    },
    r_rss_mib: {
      hub: round(rssMib(hub.pid)),
      remote_hub: remotePid === undefined ? null : round(rssMib(remotePid)),
    },
  };
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
} finally {
  hub?.stdin.end();
  if (hub && hub.exitCode === null) await new Promise((resolve) => hub.once('exit', resolve));
  await Promise.all(servers.map((s) => s.close()));
  await rm(local.work, { recursive: true, force: true });
  await rm(remote.work, { recursive: true, force: true });
  if (remoteHubPid() !== undefined) log('warning: the remote hub outlived the run');
}
