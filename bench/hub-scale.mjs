#!/usr/bin/env node
// Hub benchmark at scale, with same-run baselines:
//  (e) N live MCP servers (a fleet in this process) announced before the hub starts, N = 0
//      (baseline), 100 and 500: the first tools/list (what a one-shot client sees), rename ->
//      listed in instances_list and rename -> tool callable (p50/p99), the hub's own tools/list
//      cost on raw pipes, and its RSS right after that burst and at rest (10 s later, once V8
//      has given back what it no longer needs), against a bare `node` process's in the same run;
//  (f) a tool call (server-everything's echo) made directly with the SDK client, through the
//      hub (its HTTP client is undici), and through a raw stdio-to-HTTP
//      forwarder (the floor), interleaved call by call.
// Usage: node bench/hub-scale.mjs [--samples N] [--calls N] [--sizes 100,500] [--only echo]
//        [--node-flags "..."] (the hub's Node flags; default: the shared hub's)
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { createServer as createNetServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { makeRecord, startMcpHttpServer } from '../packages/test-utils/dist/index.js';
import { HUB, hubNodeFlags } from './_cli.mjs';
import { benchHome } from './_home.mjs';
import { bareNodeRss, cpuMs, rssMib } from './_proc.mjs';
import { countTools, rawPipe } from './_raw-pipe.mjs';
import { summarize } from './_stats.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const FORWARDER = path.join(here, '_forwarder.mjs');
const EVERYTHING = path.join(
  here,
  '../apps/hub/node_modules/@modelcontextprotocol/server-everything/dist/index.js',
);
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const SAMPLES = Number(arg('samples', 60));
const CALLS = Number(arg('calls', 500));
const SIZES = String(arg('sizes', '100,500')).split(',').map(Number);
/** The hub's own tools: instances_list, _connect, _disconnect, _call, _tools, _start. */
const HUB_TOOL_COUNT = 6;
/** `--only echo` runs (f) alone. */
const ONLY = arg('only', undefined);
const log = (s) => process.stderr.write(`${s}\n`);
/** The hub's Node flags: the shared hub's unless `--node-flags "..."` says otherwise. */
const HUB_NODE_FLAGS = hubNodeFlags();
/** How long the hub is left alone before its RSS is read again (V8 gives back memory when idle). */
const REST_MS = 10_000;
const round = (x) => Math.round(x * 100) / 100;

const { work, instancesDir, tempDir, env } = await benchHome('beacon-bench-scale-');
const cleanups = [];

/** The six small tools of each fleet server. */
const FLEET_TOOLS = ['info', 'list', 'run', 'stop', 'status', 'logs'].map((tool) => ({
  name: tool,
  description: `the ${tool} tool`,
  inputSchema: { type: 'object' },
}));
/**
 * One streamable-HTTP MCP server with six small tools, like an instance, in this process: the
 * test fixture's (SDK 2, a session per client, JSON answers).
 */
async function startServer() {
  const server = await startMcpHttpServer(FLEET_TOOLS, { name: 'fleet', answer: (tool) => tool });
  cleanups.push(() => server.close());
  return { port: server.port, url: server.url };
}

const recordFor = (server, name, id = randomUUID(), pid = process.pid) =>
  makeRecord({
    id,
    pid,
    path: path.join(work, name),
    port: server.port,
    name,
    url: server.url,
    version: 1,
  });

async function stage(record) {
  const temp = path.join(tempDir, `${record.id}.json.bench.tmp`);
  await writeFile(temp, JSON.stringify(record), { mode: 0o600 });
  return { temp, final: path.join(instancesDir, `${record.id}.json`) };
}

/** The built hub on raw pipes: requests timed from write to the answer line. */
function startRawHub(args = []) {
  const t0 = performance.now();
  const child = spawn(
    process.execPath,
    [...HUB_NODE_FLAGS, HUB, '--standalone', '--log-level', 'error', ...args],
    { env, stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const { request } = rawPipe(child, t0);
  const stop = async () => {
    child.stdin.end();
    if (child.exitCode === null) await new Promise((resolve) => child.once('exit', resolve));
  };
  cleanups.push(stop);
  return { child, request, stop };
}

async function scenario(size) {
  const fleet = [];
  for (let i = 0; i < size; i++) fleet.push(await startServer());
  for (const [i, server] of fleet.entries()) {
    const { temp, final } = await stage(recordFor(server, `svc${i}`));
    await rename(temp, final);
  }
  const target = await startServer();
  // First contact: initialize, then tools/list at once, as a one-shot client does. Namespaced,
  // so the first list carries every instance's tools (the larger job; bench/tools.mjs compares).
  const hub = startRawHub(['--tools', 'namespaced']);
  await hub.request('initialize', {
    protocolVersion: '2025-06-18',
    capabilities: {},
    clientInfo: { name: 'bench', version: '1' },
  });
  hub.child.stdin.write(
    `${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' })}\n`,
  );
  const first = await hub.request('tools/list');
  const firstList = {
    // Six tools per fleet instance, plus the hub's own six (instances_*).
    tools_expected: size * 6 + HUB_TOOL_COUNT,
    tools_in_first_list: countTools(first.line),
    ms_from_spawn: round(first.at),
  };
  // Everything active before measuring.
  for (;;) {
    const { line } = await hub.request('tools/list');
    if (countTools(line) >= size * 6 + 4) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const listed = [];
  const callable = [];
  for (let i = 0; i < SAMPLES; i++) {
    const record = recordFor(target, `cand${i}`);
    const { temp, final } = await stage(record);
    const t0 = performance.now();
    await rename(temp, final);
    let tListed;
    for (;;) {
      if (tListed === undefined) {
        const { line } = await hub.request('tools/call', { name: 'instances_list', arguments: {} });
        if (line.includes(record.id)) tListed = performance.now();
      }
      if (tListed !== undefined) {
        const { line } = await hub.request('tools/call', { name: `cand${i}__info`, arguments: {} });
        if (line.includes('"result"') && !line.includes('"isError":true')) break;
      }
    }
    listed.push(tListed - t0);
    callable.push(performance.now() - t0);
    await unlink(final);
    for (;;) {
      const { line } = await hub.request('tools/call', { name: 'instances_list', arguments: {} });
      if (!line.includes(record.id)) break;
    }
  }
  const rawList = [];
  for (let i = 0; i < 50; i++) rawList.push((await hub.request('tools/list')).ms);
  const rss = rssMib(hub.child.pid);
  await new Promise((resolve) => setTimeout(resolve, REST_MS));
  const rssAtRest = rssMib(hub.child.pid);
  await hub.stop();
  await rm(instancesDir, { recursive: true, force: true });
  await mkdir(instancesDir, { recursive: true, mode: 0o700 });
  return {
    instances: size,
    first_list: firstList,
    rename_to_listed_ms: summarize(listed),
    rename_to_callable_ms: summarize(callable),
    tools_list_raw_pipe_ms: summarize(rawList),
    hub_rss_mib: { after_burst: round(rss), at_rest: round(rssAtRest) },
  };
}

/** A port the OS just handed out, so server-everything (which takes a fixed PORT) can bind it. */
async function freePort() {
  const probe = createNetServer();
  await new Promise((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

async function echoThreeWays() {
  const port = await freePort();
  const everything = spawn(process.execPath, [EVERYTHING, 'streamableHttp'], {
    env: { ...process.env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  cleanups.push(async () => {
    everything.kill('SIGTERM');
    if (everything.exitCode === null) await new Promise((r) => everything.once('exit', r));
  });
  await new Promise((resolve, reject) => {
    let output = '';
    const onData = (c) => {
      output += c;
      if (/EADDRINUSE|Error/.test(output)) reject(new Error(`server-everything: ${output}`));
      else if (output.includes(String(port))) resolve();
    };
    everything.stdout.on('data', onData);
    everything.stderr.on('data', onData);
    everything.once('exit', (code) =>
      reject(new Error(`server-everything exited (${code}) before listening: ${output}`)),
    );
  });
  const url = `http://127.0.0.1:${port}/mcp`;
  const record = recordFor({ port, url }, 'everything', randomUUID(), everything.pid);
  const { temp, final } = await stage(record);
  await rename(temp, final);

  const connect = async (transport) => {
    const client = new Client({ name: 'bench', version: '1.0.0' });
    await client.connect(transport);
    cleanups.push(() => client.close());
    return client;
  };
  const direct = await connect(new StreamableHTTPClientTransport(new URL(url)));
  const hubTransport = new StdioClientTransport({
    command: process.execPath,
    args: [...HUB_NODE_FLAGS, HUB, '--standalone', '--log-level', 'error'],
    env,
  });
  const viaHub = await connect(hubTransport);
  const floorTransport = new StdioClientTransport({
    command: process.execPath,
    args: [FORWARDER, url],
  });
  const floor = await connect(floorTransport);
  for (const hub of [viaHub])
    for (;;) {
      const r = await hub
        .callTool({ name: 'everything__echo', arguments: { message: 'x' } })
        .catch(() => undefined);
      if (r && !r.isError) break;
      await new Promise((res) => setTimeout(res, 50));
    }
  const ways = {
    direct: (c) => c.callTool({ name: 'echo', arguments: { message: 'hello' } }),
    hub: (c) => c.callTool({ name: 'everything__echo', arguments: { message: 'hello' } }),
    floor: (c) => c.callTool({ name: 'echo', arguments: { message: 'hello' } }),
  };
  const clients = { direct, hub: viaHub, floor };
  const times = { direct: [], hub: [], floor: [] };
  let cpuBefore;
  let rssBefore;
  for (let i = 0; i < CALLS + 50; i++) {
    if (i === 50) {
      cpuBefore = [cpuMs(hubTransport.pid), cpuMs(floorTransport.pid)];
      rssBefore = [rssMib(hubTransport.pid)];
    }
    for (const way of ['direct', 'hub', 'floor']) {
      const t0 = performance.now();
      await ways[way](clients[way]);
      if (i >= 50) times[way].push(performance.now() - t0);
    }
  }
  // CPU time of the middle process per call, in µs: steadier than latency on a busy machine.
  const [hubCpu, floorCpu] = [cpuMs(hubTransport.pid), cpuMs(floorTransport.pid)].map((ms, i) =>
    round(((ms - cpuBefore[i]) * 1000) / CALLS),
  );
  const stats = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, summarize(v)]));
  await unlink(final).catch(() => undefined);
  return {
    direct_sdk_client: stats.direct,
    via_hub: stats.hub,
    raw_forwarder_floor: stats.floor,
    hub_over_direct_p50: round(stats.hub.p50 / stats.direct.p50),
    floor_over_direct_p50: round(stats.floor.p50 / stats.direct.p50),
    cpu_us_per_call: { hub: hubCpu, raw_forwarder_floor: floorCpu },
    // Long runs (--calls 20000) show whether the hub's memory grows with the calls it forwards.
    hub_rss_mib: {
      after_warm_up: round(rssBefore[0]),
      after_calls: round(rssMib(hubTransport.pid)),
    },
  };
}

const report = { node: process.version, platform: `${process.platform}-${process.arch}` };
try {
  report.e_scale = [];
  if (ONLY !== 'echo') report.bare_node_rss_mib = round(await bareNodeRss());
  for (const size of ONLY === 'echo' ? [] : [0, ...SIZES]) {
    log(`scale: ${size} instances`);
    report.e_scale.push(await scenario(size));
  }
  const base = report.e_scale[0];
  for (const row of base ? report.e_scale.slice(1) : []) {
    row.listed_p99_over_baseline = round(
      row.rename_to_listed_ms.p99 / base.rename_to_listed_ms.p99,
    );
    row.callable_p99_over_baseline = round(
      row.rename_to_callable_ms.p99 / base.rename_to_callable_ms.p99,
    );
  }
  log('echo: direct / hub / floor');
  report.f_echo_ms = await echoThreeWays();
  console.log(JSON.stringify(report, null, 2));
} finally {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  await rm(work, { recursive: true, force: true });
}
