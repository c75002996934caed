#!/usr/bin/env node
// Shared hub benchmark (issue 40), with same-run baselines, on raw JSON-RPC lines over stdio:
//  (1) bridge start -> `initialize` answered, the shared hub already running, against a bare
//      `node -e 0` (spawn -> exit), interleaved;
//  (2) cold: bridge start -> `initialize` answered when no hub runs (the bridge starts it),
//      against `beacon-hub --standalone` start -> `initialize` answered, interleaved;
//  (3) a second client's first `tools/list` with 20 instances connected to the shared hub,
//      against one instance's own `tools/list` over HTTP (and a standalone hub's first list);
//  (4) total RSS of hub + bridge processes and MCP sessions per instance, for 1, 3 and 6
//      clients with 20 instances: a `--standalone` hub per client beside one shared hub and N
//      bridges, against a bare idle Node process's RSS.
// Every shared hub it starts (named by the lock files in its temp home) is ended, on failure too.
// Usage: node bench/shared-hub.mjs [--samples N] [--cold N] [--instances N] [--second N]
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { HUB, INSTANCE, numberFlag } from './_cli.mjs';
import { benchHome } from './_home.mjs';
import { bareNodeRss, rssMib } from './_proc.mjs';
import { summarize } from './_stats.mjs';

const WARM = numberFlag('samples', 30);
const COLD = numberFlag('cold', 10);
const INSTANCES = numberFlag('instances', 20);
const SECOND = numberFlag('second', 10);
/** Clients in (4); the per-client figures compare 1 and 6. */
const CLIENT_COUNTS = [1, 3, 6];
/** Longest wait for any one answer, in ms: the bench reports a hang rather than hanging. */
const ANSWER_TIMEOUT_MS = 30_000;

const { work, home, env } = await benchHome('beacon-bench-shared-');
const hubDir = path.join(home, 'hub');
/** Every process this run spawned, until it exits. */
const children = new Set();
/** Shared hub pids of this run seen so far (in its lock files, or in /proc). */
const hubPids = new Set();
const log = (s) => process.stderr.write(`${s}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const round = (x, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;
const ratio = (a, b) => round(a / b, 2);

function track(child) {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** Resolves when `child` has exited (at once if it has). */
const exitOf = (child) =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((r) => child.once('exit', r));

/** Waits up to `ms` for `child` to exit, then kills it. */
async function reap(child, ms = 5_000) {
  const timer = setTimeout(() => child.kill('SIGKILL'), ms);
  await exitOf(child);
  clearTimeout(timer);
}

/**
 * Starts `beacon-hub ...args` with JSON-RPC over its raw stdio. `request` times each request
 * from its write to its answer line; `startedAt` is when spawn() was called.
 */
function startClient(args) {
  const startedAt = performance.now();
  const child = track(
    spawn(process.execPath, [HUB, '--log-level', 'error', ...args], {
      env,
      cwd: work,
      stdio: ['pipe', 'pipe', 'pipe'],
    }),
  );
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (c) => {
    stderr = (stderr + c).slice(-4_000);
  });
  const waiting = new Map();
  let buffer = '';
  child.stdout.setEncoding('utf8').on('data', (chunk) => {
    buffer += chunk;
    for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      const message = JSON.parse(line);
      if (message.id !== undefined && !('method' in message)) {
        waiting.get(message.id)?.resolve({ at: performance.now(), message });
        waiting.delete(message.id);
      }
    }
  });
  child.stdin.on('error', () => undefined);
  child.once('exit', (code, signal) => {
    for (const w of waiting.values())
      w.reject(new Error(`beacon-hub ${args.join(' ')} exited (${signal ?? code}): ${stderr}`));
    waiting.clear();
  });
  let next = 1;
  const request = (method, params = {}) => {
    const id = next++;
    const answer = new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        waiting.delete(id);
        reject(new Error(`no answer to ${method} within ${ANSWER_TIMEOUT_MS} ms: ${stderr}`));
      }, ANSWER_TIMEOUT_MS);
      waiting.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
    });
    const start = performance.now();
    child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id, method, params })}\n`);
    return answer.then(({ at, message }) => {
      if (message.error) throw new Error(`${method}: ${message.error.message}`);
      return { ms: at - start, sinceSpawn: at - startedAt, result: message.result };
    });
  };
  /** `initialize` (sent at once) and `notifications/initialized`; resolves with its timing. */
  const initialize = async () => {
    const answer = await request('initialize', {
      protocolVersion: '2025-06-18',
      capabilities: {},
      clientInfo: { name: 'bench-shared', version: '1' },
    });
    child.stdin.write(
      `${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' })}\n`,
    );
    return answer;
  };
  /** Ends the client as an MCP client does: closes its stdin and waits for it to exit. */
  const close = async () => {
    child.stdin.end();
    await reap(child);
  };
  return { child, request, initialize, close };
}

/** Time from spawn() to exit of `node ...args`, in ms. */
async function spawnToExit(args) {
  const t0 = performance.now();
  const child = track(spawn(process.execPath, args, { stdio: 'ignore' }));
  await exitOf(child);
  return performance.now() - t0;
}

// --- shared hubs, found by their lock files ---------------------------------------------

/** The pids in this run's hub lock files now (each is also kept in `hubPids`). */
async function lockedHubPids() {
  const names = await readdir(hubDir).catch(() => []);
  const pids = [];
  for (const name of names.filter((n) => n.endsWith('.lock'))) {
    const pid = Number.parseInt(
      await readFile(path.join(hubDir, name), 'utf8').catch(() => ''),
      10,
    );
    if (Number.isInteger(pid) && pid > 0) {
      pids.push(pid);
      hubPids.add(pid);
    }
  }
  return pids;
}

/** True while `pid` is a running beacon-hub daemon of this run's home (not a zombie). */
function isOurHub(pid) {
  try {
    if (/State:\s+Z/.test(readFileSync(`/proc/${pid}/status`, 'utf8'))) return false;
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
    return cmdline.includes('daemon') && environ.includes(`MCP_BEACON_HOME=${home}`);
  } catch {
    return false;
  }
}

/**
 * Ends every shared hub of this run (SIGTERM, then SIGKILL after 10 s); resolves when gone.
 * Hubs are found by their lock files, and in /proc too (one may not hold its lock yet).
 */
async function endHubs() {
  await lockedHubPids();
  for (const name of await readdir('/proc')) if (/^\d+$/.test(name)) hubPids.add(Number(name));
  for (const pid of hubPids) if (!isOurHub(pid)) hubPids.delete(pid);
  const running = [...hubPids].filter(isOurHub);
  const signal = (pid, name) => {
    try {
      process.kill(pid, name);
    } catch {
      // Gone meanwhile.
    }
  };
  for (const pid of running) signal(pid, 'SIGTERM');
  let deadline = Date.now() + 10_000;
  while (running.some(isOurHub)) {
    if (Date.now() > deadline) {
      deadline = Number.POSITIVE_INFINITY;
      for (const pid of running.filter(isOurHub)) signal(pid, 'SIGKILL');
      log(`shared hub(s) ${running.join(', ')} ignored SIGTERM for 10 s: killed`);
    }
    await sleep(20);
  }
}

/**
 * The one shared hub running now (the bench starts one at a time). A bridge may answer
 * `initialize` before the hub it started holds its lock (from what an earlier hub answered), so
 * this waits for it up to 10 s.
 */
async function theHub() {
  for (let i = 0; i < 500; i++) {
    const pids = (await lockedHubPids()).filter(isOurHub);
    if (pids.length === 1) return pids[0];
    await sleep(20);
  }
  throw new Error(`expected one shared hub, found ${[...hubPids].filter(isOurHub).join(', ')}`);
}

/** When a process started, in clock ticks since boot (`/proc/<pid>/stat` field 22). */
function startTicks(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
}

/** The wall-clock time (ms) of the newest "serving at" line in the hub logs of this run. */
async function servingAt() {
  let latest = Number.NaN;
  for (const name of (await readdir(hubDir)).filter((n) => n.endsWith('.log'))) {
    const text = await readFile(path.join(hubDir, name), 'utf8');
    for (const m of text.matchAll(/^(\S+) info +Beacon hub \S+ serving at /gm)) {
      const at = Date.parse(m[1]);
      if (!(at <= latest)) latest = at;
    }
  }
  return latest;
}

/** `beacon-hub status --json`, as a user would run it. */
async function hubStatus() {
  const child = track(
    spawn(process.execPath, [HUB, 'status', '--json'], {
      env,
      stdio: ['ignore', 'pipe', 'inherit'],
    }),
  );
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (c) => {
    out += c;
  });
  await reap(child, 10_000);
  return JSON.parse(out);
}

// --- instances ---------------------------------------------------------------------------

/**
 * Starts a registered beacon-instance (debug log, so each session it opens and closes is seen);
 * resolves once its record is written, with its url, token and the ids of its open sessions.
 */
async function startInstance(name) {
  const cwd = path.join(work, name);
  await mkdir(cwd, { recursive: true });
  await writeFile(
    path.join(cwd, 'package.json'),
    JSON.stringify({ name, scripts: { build: 'echo build', test: 'echo test' } }),
  );
  const child = track(
    spawn(process.execPath, [INSTANCE, '--log-level', 'debug'], {
      cwd,
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    }),
  );
  const inst = { name, child, open: new Set() };
  let buffer = '';
  let all = '';
  const announced = new Promise((resolve, reject) => {
    child.stderr.setEncoding('utf8').on('data', (chunk) => {
      all = (all + chunk).slice(-4_000);
      buffer += chunk;
      for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        let m = / session (\S+) opened$/.exec(line);
        if (m) inst.open.add(m[1]);
        m = / session (\S+) closed$/.exec(line);
        if (m) inst.open.delete(m[1]);
        m = / at (http:\S+)$/.exec(line);
        if (m) inst.url = m[1];
        m = / announced as \S+ in (.+)$/.exec(line);
        if (m) resolve(m[1]);
      }
    });
    child.once('exit', () => reject(new Error(`instance ${name} exited: ${all}`)));
  });
  const record = JSON.parse(await readFile(await announced, 'utf8'));
  inst.url = record.url ?? inst.url;
  inst.token = record.token;
  return inst;
}

/** Sessions this bench opened itself, straight to an instance (not counted as a hub's). */
const directSessions = new Set();
/** Sessions a hub opened on `inst` since the ids in `since`, still open now. */
const hubSessions = (inst, since) =>
  [...inst.open].filter((id) => !since.has(id) && !directSessions.has(id)).length;

/** A direct streamable-HTTP session with one instance, on raw requests (undici's fetch). */
async function directSession(inst) {
  const headers = {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    ...(inst.token ? { authorization: `Bearer ${inst.token}` } : {}),
  };
  let id = 0;
  const post = async (body) => {
    const res = await fetch(inst.url, { method: 'POST', headers, body: JSON.stringify(body) });
    const text = await res.text();
    if (!res.ok) throw new Error(`${inst.url}: HTTP ${res.status} ${text}`);
    return { res, text };
  };
  const { res } = await post({
    jsonrpc: '2.0',
    id: ++id,
    method: 'initialize',
    params: {
      protocolVersion: '2025-06-18',
      capabilities: {},
      clientInfo: { name: 'bench-direct', version: '1' },
    },
  });
  const session = res.headers.get('mcp-session-id');
  directSessions.add(session);
  headers['mcp-session-id'] = session;
  headers['mcp-protocol-version'] = '2025-06-18';
  await post({ jsonrpc: '2.0', method: 'notifications/initialized' });
  return {
    /** One tools/list, timed from the request to the whole answer read; checks it lists tools. */
    async listTools() {
      const t0 = performance.now();
      const { text } = await post({ jsonrpc: '2.0', id: ++id, method: 'tools/list', params: {} });
      const ms = performance.now() - t0;
      if (!text.includes('"inputSchema"')) throw new Error(`tools/list answered ${text}`);
      return ms;
    },
    close: () => fetch(inst.url, { method: 'DELETE', headers }).then((r) => r.text()),
  };
}

/** Polls a client's `instances_list` until it shows `count` active instances. */
async function untilActive(client, count) {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const { result } = await client.request('tools/call', {
      name: 'instances_list',
      arguments: {},
    });
    const active = result.structuredContent.instances.filter((x) => x.state === 'active').length;
    if (active >= count) return;
    if (Date.now() > deadline) throw new Error(`only ${active} of ${count} instances active`);
    await sleep(50);
  }
}

const toolCount = (result) => result.tools.length;

const report = { node: process.version, platform: `${process.platform}-${process.arch}` };
let cleaning;
/** Ends every process of this run and removes its folder; every caller awaits the one pass. */
function cleanUp() {
  cleaning ??= (async () => {
    const left = [...children];
    for (const child of left) {
      child.stdin?.end();
      child.kill('SIGTERM');
    }
    await Promise.all(left.map((c) => reap(c, 5_000)));
    // A hub that was starting when its bridge was ended can still write its files: end the
    // hubs again for as long as the folder does not go.
    for (let attempt = 1; ; attempt++) {
      await endHubs();
      try {
        await rm(work, { recursive: true, force: true, maxRetries: 3 });
        break;
      } catch (error) {
        if (attempt === 5) return log(`could not remove ${work}: ${error.message}`);
      }
    }
    await endHubs();
  })();
  return cleaning;
}
for (const signal of ['SIGINT', 'SIGTERM'])
  process.once(signal, () => {
    log(`${signal}: cleaning up`);
    void cleanUp().finally(() => process.exit(130));
  });

try {
  // (1) warm start: a first client keeps the shared hub running; fresh bridges join it.
  const holder = startClient([]);
  await holder.initialize();
  const hubPid = await theHub();
  const bridgeWarm = [];
  const bareNode = [];
  for (let i = -2; i < WARM; i++) {
    const bridge = startClient([]);
    const { sinceSpawn } = await bridge.initialize();
    await bridge.close();
    const bare = await spawnToExit(['-e', '0']);
    if (i < 0) continue; // warm-up
    bridgeWarm.push(sinceSpawn);
    bareNode.push(bare);
  }
  const warm = summarize(bridgeWarm);
  const bare = summarize(bareNode);
  report.start_warm_ms = {
    bridge_to_initialize: warm,
    bare_node_spawn_to_exit: bare,
    ratio_p50: ratio(warm.p50, bare.p50),
    ratio_p99: ratio(warm.p99, bare.p99),
    same_hub_throughout: (await theHub()) === hubPid,
  };
  await holder.close();
  await endHubs();
  log('warm start: done');

  // (2) cold start: the bridge starts the hub (ended between samples), against --standalone.
  const cold = [];
  const standalone = [];
  const coldHubs = new Set();
  const hubSpawned = [];
  const hubListening = [];
  for (let i = -1; i < COLD; i++) {
    const runs = [
      async () => {
        const wallAtSpawn = Date.now();
        const bridge = startClient([]);
        const { sinceSpawn } = await bridge.initialize();
        const pid = await theHub();
        coldHubs.add(pid);
        // Where the time goes: the bridge's own start until it spawns the hub (from the two
        // processes' start times, 10 ms ticks), then the hub's until its log says it listens.
        const spawnedMs = (startTicks(pid) - startTicks(bridge.child.pid)) * 10;
        const listeningMs = (await servingAt()) - wallAtSpawn;
        await bridge.close();
        if (i >= 0) {
          cold.push(sinceSpawn);
          hubSpawned.push(spawnedMs);
          hubListening.push(listeningMs);
        }
        await endHubs();
      },
      async () => {
        const hub = startClient(['--standalone']);
        const { sinceSpawn } = await hub.initialize();
        await hub.close();
        if (i >= 0) standalone.push(sinceSpawn);
      },
    ];
    // Alternate which goes first, so neither always runs on a just-freed core.
    if (i % 2 === 1) runs.reverse();
    for (const run of runs) await run();
  }
  const coldStats = summarize(cold);
  const standaloneStats = summarize(standalone);
  report.start_cold_ms = {
    bridge_starting_hub_to_initialize: coldStats,
    standalone_to_initialize: standaloneStats,
    ratio_p50: ratio(coldStats.p50, standaloneStats.p50),
    bridge_spawn_to_hub_process_start: summarize(hubSpawned),
    bridge_spawn_to_hub_listening: summarize(hubListening),
    distinct_hubs_started: coldHubs.size,
  };
  log('cold start: done');

  // (3) 20 instances connected; a second client's first tools/list.
  const instances = [];
  for (let i = 0; i < INSTANCES; i++) instances.push(await startInstance(`svc${i}`));
  log(`${INSTANCES} instances started`);
  const before3 = instances.map((inst) => new Set(inst.open));
  const first = startClient([]);
  await first.initialize();
  await untilActive(first, INSTANCES);
  const firstList = await first.request('tools/list');
  const direct = await directSession(instances[0]);
  for (let i = 0; i < 5; i++) await direct.listTools();
  const secondFirst = [];
  const secondAgain = [];
  const secondStart = [];
  const directWarm = [];
  const directFresh = [];
  let secondTools = 0;
  for (let i = -1; i < SECOND; i++) {
    const second = startClient([]);
    const { sinceSpawn } = await second.initialize();
    const listed = await second.request('tools/list');
    const again = await second.request('tools/list');
    await second.close();
    secondTools = toolCount(listed.result);
    // The instance's own list: on an open session (3 each round), and as a fresh session's first.
    const warmTimes = [];
    for (let j = 0; j < 3; j++) warmTimes.push(await direct.listTools());
    const fresh = await directSession(instances[(i + 1) % INSTANCES]);
    const freshMs = await fresh.listTools();
    await fresh.close();
    if (i < 0) continue;
    secondStart.push(sinceSpawn);
    secondFirst.push(listed.ms);
    secondAgain.push(again.ms);
    directWarm.push(...warmTimes);
    directFresh.push(freshMs);
  }
  const sessionsAt3 = instances.map((inst, i) => hubSessions(inst, before3[i]));
  // Today's design for comparison: a standalone hub's first tools/list (it waits, up to
  // --first-list-timeout, for the instances present at its start to connect).
  const standaloneFirst = [];
  for (let i = 0; i < 3; i++) {
    const hub = startClient(['--standalone']);
    await hub.initialize();
    standaloneFirst.push((await hub.request('tools/list')).ms);
    await hub.close();
  }
  const secondStats = summarize(secondFirst);
  const warmStats = summarize(directWarm);
  const freshStats = summarize(directFresh);
  report.second_client_tools_list_ms = {
    instances: INSTANCES,
    tools_listed: secondTools,
    tools_listed_by_first_client: toolCount(firstList.result),
    second_client_first_tools_list: secondStats,
    second_client_second_tools_list: summarize(secondAgain),
    instance_own_tools_list_open_session: warmStats,
    instance_own_tools_list_fresh_session_first: freshStats,
    ratio_p50_vs_open_session: ratio(secondStats.p50, warmStats.p50),
    ratio_p50_vs_fresh_session: ratio(secondStats.p50, freshStats.p50),
    standalone_hub_first_tools_list: summarize(standaloneFirst),
    bridge_start_to_initialize_with_instances: summarize(secondStart),
    hub_sessions_per_instance_while_shared: {
      min: Math.min(...sessionsAt3),
      max: Math.max(...sessionsAt3),
    },
  };
  await direct.close();
  await first.close();
  await endHubs();
  log('second client: done');

  // (4) memory and instance sessions with 1, 3 and 6 clients: clients join one at a time (so the
  // shared hub's figures at 1 and 6 clients come from one process), a standalone hub each
  // beside one shared hub and a bridge each.
  const bareRss = await bareNodeRss();
  const grow = async (kind) => {
    const before = instances.map((inst) => new Set(inst.open));
    const clients = [];
    const figures = {};
    for (const n of CLIENT_COUNTS) {
      while (clients.length < n) {
        const client = startClient(kind === 'shared' ? [] : ['--standalone']);
        clients.push(client);
        await client.initialize();
        await untilActive(client, INSTANCES);
        await client.request('tools/list');
      }
      await sleep(1_000);
      const hub = kind === 'shared' ? await theHub() : undefined;
      const clientRss = clients.map((c) => rssMib(c.child.pid));
      const hubRss = hub === undefined ? 0 : rssMib(hub);
      const sessions = instances.map((inst, i) => hubSessions(inst, before[i]));
      const status = hub === undefined ? undefined : (await hubStatus()).find((h) => h.pid === hub);
      figures[n] = {
        total_rss_mib: round(clientRss.reduce((a, b) => a + b, 0) + hubRss),
        ...(hub === undefined
          ? { hub_rss_mib_each: clientRss.map((x) => round(x)) }
          : {
              hub_rss_mib: round(hubRss),
              bridge_rss_mib_each: clientRss.map((x) => round(x)),
              status_sessions: status?.sessions.length,
              status_rss_mib: status && round(status.rssBytes / 1048576),
            }),
        instance_sessions_per_instance: { min: Math.min(...sessions), max: Math.max(...sessions) },
      };
    }
    for (const client of clients) await client.close();
    if (kind === 'shared') await endHubs();
    // Did the hubs' sessions end with them? (An instance also ends one after 10 idle minutes.)
    await sleep(500);
    figures.instance_sessions_left_open_after_exit = instances.reduce(
      (sum, inst, i) => sum + hubSessions(inst, before[i]),
      0,
    );
    log(`memory, ${kind}: done`);
    return figures;
  };
  const memory = {
    bare_node_rss_mib: round(bareRss),
    instances: INSTANCES,
    shared: await grow('shared'),
    standalone: await grow('standalone'),
  };
  const perClient = (kind, a, b) =>
    round((memory[kind][b].total_rss_mib - memory[kind][a].total_rss_mib) / (b - a));
  const bridges = memory.shared[6].bridge_rss_mib_each;
  memory.per_extra_client_mib = {
    shared_1_to_3: perClient('shared', 1, 3),
    shared_1_to_6: perClient('shared', 1, 6),
    standalone_1_to_3: perClient('standalone', 1, 3),
    standalone_1_to_6: perClient('standalone', 1, 6),
    ratio_to_bare_node_shared_1_to_6: ratio(perClient('shared', 1, 6), bareRss),
    bridge_alone_ratio_to_bare_node: ratio(
      bridges.reduce((a, b) => a + b, 0) / bridges.length,
      bareRss,
    ),
    hub_growth_1_to_6_mib: round(memory.shared[6].hub_rss_mib - memory.shared[1].hub_rss_mib),
  };
  report.memory = memory;

  report.goals = {
    warm_start_at_most_2x_bare_node_p50: report.start_warm_ms.ratio_p50 <= 2,
    warm_start_p99_under_1s: warm.p99 < 1_000,
    cold_start_no_slower_than_standalone_p50: report.start_cold_ms.ratio_p50 <= 1,
    cold_start_p99_under_1s: coldStats.p99 < 1_000,
    second_client_list_within_1_5x_instance_own_p50:
      report.second_client_tools_list_ms.ratio_p50_vs_open_session <= 1.5,
    extra_client_at_most_1_2x_bare_node_rss:
      memory.per_extra_client_mib.shared_1_to_6 <= 1.2 * bareRss,
    one_session_per_instance_shared: CLIENT_COUNTS.every(
      (n) => memory.shared[n].instance_sessions_per_instance.max === 1,
    ),
  };
  console.log(JSON.stringify(report, null, 2));
} finally {
  await cleanUp();
}
