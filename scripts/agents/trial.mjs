#!/usr/bin/env node
// Whole model turns through real agent CLIs, against a stub of each one's model API:
//
//   node scripts/agents/trial.mjs [claude|codex|gemini] [options]
//
// For one client it installs the CLI from npm into a cached temp prefix, starts two
// beacon-instances (shop-web and billing-api) in a throwaway MCP_BEACON_HOME, configures the
// agent with the Beacon hub (the built apps/hub/dist/cli.js) as its MCP server, and runs one
// non-interactive prompt from inside billing-api. The stub model calls `scripts_list` with no
// `instance` on the first turn, then answers a final text once the result is back. Between the
// agent and the hub sits _tap.mjs, which records every JSON-RPC message. The report (JSON on
// stdout) says whether Beacon reached the model whole: the tools the model was offered, the
// result as the model got it, who answered, roots, tools/list counts, warnings.
//
// Options:
//   --standalone        run the hub as `--standalone --log-level debug` (its log lands in the tap)
//   --delay-ms N        hold everything the hub writes for N ms after it starts (start-up grace)
//   --warm              start the shared hub (`beacon-hub daemon`) before the agent, as when
//                       another client already runs one
//   --primed            start the shared hub once through a bridge and end it before the agent
//                       starts, as after the hub's idle exit: the bridge keeps what the hub
//                       answered to `initialize` and answers it at once, the hub starts cold
//   --codex-grace MS    Codex: set mcp_optional_startup_grace_ms (its default is 1000)
//   --codex-required    Codex: mark the server `required = true` (waits startup_timeout_sec)
//   --version V         npm version of the CLI to install (default: latest, cached per version)
//   --prefix DIR        where CLIs are installed (default: $TMPDIR/beacon-agents)
//   --timeout-ms N      how long the agent may run (default 240000)
//   --keep              keep the trial's temp folder (its path is in the report)
//   --raw               include the whole first model request body in the report
//   --env K=V           extra environment for the agent (repeatable), e.g. ENABLE_TOOL_SEARCH=false
//
// Not part of any test suite: the CLIs are hundreds of MB. Everything the trial starts (agent,
// bridge, shared hub, instances, stub) is ended and its temp folder removed, also on failure.
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { allText, pickScriptsList, startStub } from './stubs.mjs';

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
const HUB_CLI = path.join(repo, 'apps/hub/dist/cli.js');
const INSTANCE_CLI = path.join(repo, 'apps/instance/dist/cli.js');
const TAP = path.join(here, '_tap.mjs');
const PROMPT =
  "Use the Beacon MCP server's scripts_list tool to list this project's package.json scripts.";
const epochMs = () => Math.round((performance.timeOrigin + performance.now()) * 10) / 10;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ------------------------------------------------------------------------------------ options

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    standalone: { type: 'boolean', default: false },
    'delay-ms': { type: 'string', default: '0' },
    warm: { type: 'boolean', default: false },
    primed: { type: 'boolean', default: false },
    'codex-grace': { type: 'string' },
    'codex-required': { type: 'boolean', default: false },
    version: { type: 'string', default: 'latest' },
    prefix: { type: 'string', default: path.join(tmpdir(), 'beacon-agents') },
    'timeout-ms': { type: 'string', default: '240000' },
    keep: { type: 'boolean', default: false },
    raw: { type: 'boolean', default: false },
    env: { type: 'string', multiple: true, default: [] },
  },
});
const clientNames = (positionals.length > 0 ? positionals : ['codex']).flatMap((n) =>
  n === 'all' ? ['claude', 'codex', 'gemini'] : [n],
);
const opts = {
  standalone: values.standalone,
  delayMs: Number(values['delay-ms']),
  warm: values.warm,
  primed: values.primed,
  codexGraceMs: values['codex-grace'],
  codexRequired: values['codex-required'],
  version: values.version,
  prefix: values.prefix,
  timeoutMs: Number(values['timeout-ms']),
  keep: values.keep,
  raw: values.raw,
  env: Object.fromEntries(
    values.env.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
  ),
};

// ------------------------------------------------------------------------------------ clients

/** The environment every agent gets: no credentials of the caller's, a home of its own. */
function baseEnv(ctx) {
  const keep = ['PATH', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR'];
  const env = Object.fromEntries(
    keep.filter((k) => process.env[k] !== undefined).map((k) => [k, process.env[k]]),
  );
  return { ...env, HOME: ctx.agentHome, TERM: 'dumb', NO_COLOR: '1', CI: '1', ...opts.env };
}

/** The MCP server command the agent launches: the tap, then the hub. */
function serverCommand(ctx) {
  const hubArgs = opts.standalone ? ['--standalone', '--log-level', 'debug'] : [];
  return {
    command: process.execPath,
    args: [
      TAP,
      ctx.tapLog,
      ...(opts.delayMs > 0 ? ['--delay-ms', String(opts.delayMs)] : []),
      '--',
      process.execPath,
      HUB_CLI,
      ...hubArgs,
    ],
    env: { MCP_BEACON_HOME: ctx.home },
  };
}

const tomlString = (s) => JSON.stringify(s);

const CLIENTS = {
  claude: {
    pkg: '@anthropic-ai/claude-code',
    bin: 'claude',
    api: 'anthropic',
    async setup(ctx) {
      const server = serverCommand(ctx);
      const config = path.join(ctx.work, 'claude-mcp.json');
      await writeFile(
        config,
        JSON.stringify({ mcpServers: { beacon: { type: 'stdio', ...server } } }, null, 2),
      );
      return {
        args: [
          '-p',
          PROMPT,
          '--output-format',
          'stream-json',
          '--verbose',
          '--mcp-config',
          config,
          '--strict-mcp-config',
          '--allowedTools',
          'mcp__beacon',
        ],
        env: {
          ...baseEnv(ctx),
          ANTHROPIC_BASE_URL: ctx.stubUrl,
          ANTHROPIC_API_KEY: 'sk-ant-stub',
          CLAUDE_CONFIG_DIR: path.join(ctx.agentHome, '.claude'),
          CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
          DISABLE_AUTOUPDATER: '1',
        },
        config: { file: config, keys: 'mcpServers.beacon {type: stdio, command, args, env}' },
      };
    },
  },
  codex: {
    pkg: '@openai/codex',
    bin: 'codex',
    api: 'responses',
    async setup(ctx) {
      const server = serverCommand(ctx);
      const codexHome = path.join(ctx.agentHome, '.codex');
      await mkdir(codexHome, { recursive: true });
      const toml = [
        'model = "stub-model"',
        'model_provider = "beacon-stub"',
        'approval_policy = "never"',
        'sandbox_mode = "read-only"',
        'check_for_update_on_startup = false',
        ...(opts.codexGraceMs !== undefined
          ? [`mcp_optional_startup_grace_ms = ${Number(opts.codexGraceMs)}`]
          : []),
        '',
        '[model_providers.beacon-stub]',
        'name = "Beacon stub"',
        `base_url = ${tomlString(`${ctx.stubUrl}/v1`)}`,
        'env_key = "BEACON_STUB_API_KEY"',
        'wire_api = "responses"',
        '',
        '[mcp_servers.beacon]',
        `command = ${tomlString(server.command)}`,
        `args = [${server.args.map(tomlString).join(', ')}]`,
        `env = { ${Object.entries(server.env)
          .map(([k, v]) => `${k} = ${tomlString(v)}`)
          .join(', ')} }`,
        ...(opts.codexRequired ? ['required = true'] : []),
        '',
      ].join('\n');
      const file = path.join(codexHome, 'config.toml');
      await writeFile(file, toml);
      return {
        args: ['exec', '--json', '--skip-git-repo-check', '--ephemeral', PROMPT],
        env: { ...baseEnv(ctx), CODEX_HOME: codexHome, BEACON_STUB_API_KEY: 'stub' },
        config: { file, text: toml },
      };
    },
  },
  gemini: {
    pkg: '@google/gemini-cli',
    bin: 'gemini',
    api: 'gemini',
    async setup(ctx) {
      const server = serverCommand(ctx);
      const dir = path.join(ctx.agentHome, '.gemini');
      await mkdir(dir, { recursive: true });
      const settings = {
        mcpServers: { beacon: { ...server, trust: true } },
        privacy: { usageStatisticsEnabled: false },
        telemetry: { enabled: false },
        general: { enableAutoUpdate: false, enableAutoUpdateNotification: false },
        // With only GOOGLE_GEMINI_BASE_URL set, 0.61 picks the "gateway" auth type, which its
        // headless mode then rejects ("Invalid auth method selected."): name the API-key type.
        security: { auth: { selectedType: 'gemini-api-key' } },
      };
      const file = path.join(dir, 'settings.json');
      await writeFile(file, JSON.stringify(settings, null, 2));
      return {
        args: ['-p', PROMPT, '--output-format', 'json', '--skip-trust'],
        env: {
          ...baseEnv(ctx),
          GEMINI_API_KEY: 'stub',
          GOOGLE_GEMINI_BASE_URL: ctx.stubUrl,
        },
        config: { file, settings },
      };
    },
  },
};

// ------------------------------------------------------------------------------------ install

/** The CLI's bin, installed into `<prefix>/<client>@<version>` with npm when not there yet. */
async function ensureInstalled(clientName, client) {
  const prefix = path.join(opts.prefix, `${clientName}@${opts.version}`);
  const bin = path.join(prefix, 'bin', client.bin);
  if (!existsSync(bin)) {
    process.stderr.write(`installing ${client.pkg}@${opts.version} into ${prefix} ...\n`);
    await mkdir(prefix, { recursive: true });
    await run('npm', ['i', '-g', '--prefix', prefix, `${client.pkg}@${opts.version}`], {
      maxBuffer: 64 * 1024 * 1024,
    });
  }
  return { bin, prefix };
}

// ------------------------------------------------------------------------------------ processes

const started = []; // every child we started: { name, child, group }

function startProcess(name, command, args, options, { group = false } = {}) {
  const child = spawn(command, args, { ...options, detached: group });
  const out = { stdout: '', stderr: '' };
  const cap = (key) => (chunk) => {
    if (out[key].length < 4_000_000) out[key] += chunk.toString('utf8');
  };
  child.stdout?.on('data', cap('stdout'));
  child.stderr?.on('data', cap('stderr'));
  const exited = new Promise((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, at: epochMs() })),
  );
  const entry = { name, child, group, out, exited };
  started.push(entry);
  return entry;
}

const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function stopPid(pid, { group = false, graceMs = 3000 } = {}) {
  const target = group ? -pid : pid;
  try {
    process.kill(target, 'SIGTERM');
  } catch {
    return;
  }
  const until = Date.now() + graceMs;
  while (alive(pid) && Date.now() < until) await sleep(50);
  if (alive(pid)) {
    try {
      process.kill(target, 'SIGKILL');
    } catch {}
  }
}

/** The processes of a process group still there after `waitMs`, with their command lines. */
async function groupMembers(pgid, waitMs) {
  await sleep(waitMs);
  const found = [];
  for (const entry of await readdir('/proc').catch(() => [])) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      // Field 5 of stat(5) is the process group; fields start after the command's ')'.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) !== pgid) continue;
      const cmdline = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).split('\0').join(' ');
      found.push({
        pid: Number(entry),
        comm: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')),
        state: fields[0],
        ppid: Number(fields[1]),
        cmdline: cmdline.trim().slice(0, 200),
      });
    } catch {}
  }
  return found;
}

/** Processes still running whose environment names this trial's Beacon home: our leftovers. */
async function leftovers(home) {
  const found = [];
  for (const entry of await readdir('/proc').catch(() => [])) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const environ = await readFile(`/proc/${entry}/environ`, 'utf8');
      if (!environ.split('\0').includes(`MCP_BEACON_HOME=${home}`)) continue;
      const cmdline = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).split('\0').join(' ');
      found.push({ pid: Number(entry), cmdline: cmdline.trim().slice(0, 300) });
    } catch {}
  }
  return found;
}

async function sharedHubPids(home) {
  const dir = path.join(home, 'hub');
  const pids = [];
  for (const f of await readdir(dir).catch(() => [])) {
    if (!f.endsWith('.lock')) continue;
    const pid = Number.parseInt(await readFile(path.join(dir, f), 'utf8').catch(() => ''), 10);
    if (pid > 0) pids.push(pid);
  }
  return pids;
}

// ------------------------------------------------------------------------------------ setup

/**
 * One client's visit to the shared hub through a bridge (initialize, then its stdin closed),
 * then the hub ended: what the bridge kept from it stays in the data folder.
 */
async function primeHub(env, home) {
  const bridge = spawn(process.execPath, [HUB_CLI], { env, stdio: ['pipe', 'pipe', 'ignore'] });
  const answered = new Promise((resolve) => {
    let text = '';
    bridge.stdout.on('data', (chunk) => {
      text += chunk;
      if (text.includes('"id":1')) resolve(true);
    });
    bridge.on('exit', () => resolve(false));
  });
  bridge.stdin.write(
    `${JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: {
        protocolVersion: '2025-06-18',
        capabilities: {},
        clientInfo: { name: 'beacon-trial-primer', version: '0' },
      },
    })}\n`,
  );
  const ok = await Promise.race([answered, sleep(20_000).then(() => false)]);
  bridge.stdin.end();
  await new Promise((resolve) =>
    bridge.exitCode !== null ? resolve() : bridge.on('exit', resolve),
  );
  const hubs = await sharedHubPids(home);
  for (const pid of hubs) await stopPid(pid, { graceMs: 5000 });
  const kept = (await readdir(path.join(home, 'hub')).catch(() => [])).filter(
    (f) => !/\.(lock|sock)$/.test(f),
  );
  return { initializeAnswered: ok, hubsEnded: hubs, keptInHubFolder: kept };
}

async function makeProject(dir, name) {
  await mkdir(path.join(dir, 'src'), { recursive: true });
  await writeFile(
    path.join(dir, 'package.json'),
    JSON.stringify({ name, private: true, scripts: { hello: `echo hello from ${name}` } }, null, 2),
  );
}

async function waitForRecords(instancesDir, paths, timeoutMs = 20_000) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const records = [];
    for (const f of await readdir(instancesDir).catch(() => [])) {
      if (!f.endsWith('.json')) continue;
      try {
        records.push(JSON.parse(await readFile(path.join(instancesDir, f), 'utf8')));
      } catch {}
    }
    if (paths.every((p) => records.some((r) => r.path === p))) return records;
    await sleep(100);
  }
  throw new Error(`instances did not announce themselves within ${timeoutMs} ms`);
}

// ------------------------------------------------------------------------------------ analysis

async function readTap(file) {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      try {
        return JSON.parse(l);
      } catch {
        return { dir: 'bad', text: l };
      }
    });
}

const META = 'io.modelcontextprotocol/';

/** What passed between the agent and the hub, from the tap's log. */
function analyseWire(tap) {
  const tapStart = tap.find((e) => e.dir === 'tap' && e.msg?.pid);
  const clientMsgs = tap.filter((e) => e.dir === 'in' && e.msg);
  const serverMsgs = tap.filter((e) => e.dir === 'out' && e.msg);
  const requestsIn = (method) => clientMsgs.filter((e) => e.msg.method === method);
  const answerTo = (req) =>
    serverMsgs.find(
      (e) => e.msg.id === req.msg.id && !e.msg.method && ('result' in e.msg || 'error' in e.msg),
    );
  // The 2025 era opens with `initialize`; the 2026-07-28 era with `server/discover`, and says
  // who the client is in every request's `_meta`.
  const init = requestsIn('initialize')[0];
  const discover = requestsIn('server/discover')[0];
  const opening = init ?? discover;
  const openingAnswer = opening && answerTo(opening);
  const meta = discover?.msg.params?._meta ?? {};
  const era = init
    ? 'initialize (2025 era)'
    : discover
      ? 'server/discover (2026-07-28 era)'
      : 'none';
  const capabilities = init ? init.msg.params?.capabilities : meta[`${META}clientCapabilities`];
  const lists = requestsIn('tools/list').map((req) => {
    const ans = answerTo(req);
    const tools = ans?.msg.result?.tools ?? [];
    return {
      at: req.t,
      answeredAt: ans?.t,
      count: tools.length,
      bytes: JSON.stringify(tools).length,
      names: tools.map((t) => t.name),
      tools,
    };
  });
  const calls = requestsIn('tools/call').map((req) => {
    const ans = answerTo(req);
    return {
      at: req.t,
      params: req.msg.params,
      answeredAt: ans?.t,
      result: ans?.msg.result,
      error: ans?.msg.error,
      inputRequired: ans?.msg.result?.resultType === 'input_required',
    };
  });
  // Roots: asked with roots/list (2025 era) or inside a call's input_required (2026-07-28).
  const rootsAsked = serverMsgs.filter((e) => e.msg.method === 'roots/list');
  const rootsAnswers = rootsAsked.map((req) => {
    const ans = clientMsgs.find((e) => e.msg.id === req.msg.id && !e.msg.method);
    return ans ? (ans.msg.result ?? { error: ans.msg.error }) : 'no answer';
  });
  const rootsInCalls = calls.filter((c) => c.result?.inputRequests?.roots);
  const rootsAnsweredInCalls = calls
    .map((c) => c.params?.inputResponses?.roots)
    .filter((r) => r !== undefined);
  const methodsIn = {};
  for (const e of clientMsgs)
    if (e.msg.method) methodsIn[e.msg.method] = (methodsIn[e.msg.method] ?? 0) + 1;
  const methodsOut = {};
  for (const e of serverMsgs)
    if (e.msg.method) methodsOut[e.msg.method] = (methodsOut[e.msg.method] ?? 0) + 1;
  return {
    tapStartedAt: tapStart?.t,
    tapCwd: tapStart?.msg.cwd,
    opening: opening && {
      era,
      method: opening.msg.method,
      at: opening.t,
      answeredAt: openingAnswer?.t,
      protocolVersion: init ? init.msg.params?.protocolVersion : meta[`${META}protocolVersion`],
      clientInfo: init ? init.msg.params?.clientInfo : meta[`${META}clientInfo`],
      capabilities,
      serverProtocolVersion:
        openingAnswer?.msg.result?.protocolVersion ?? openingAnswer?.msg.result?.supportedVersions,
      instructions: openingAnswer?.msg.result?.instructions,
    },
    methodsFromClient: methodsIn,
    methodsFromHub: methodsOut,
    toolsLists: lists,
    listChanged: serverMsgs
      .filter((e) => e.msg.method === 'notifications/tools/list_changed')
      .map((e) => e.t),
    roots: {
      capability: capabilities?.roots ?? null,
      askedWithRootsList: rootsAsked.length,
      rootsListAnswers: rootsAnswers,
      askedInCallInputRequired: rootsInCalls.length,
      answeredInCallInputResponses: rootsAnsweredInCalls,
      rootsChangedNotifications: requestsIn('notifications/roots/list_changed').length,
    },
    calls,
    hubStderr: tap
      .filter((e) => e.dir === 'stderr')
      .map((e) => e.text)
      .join('')
      .split('\n')
      .filter(Boolean),
    tapEvents: tap.filter((e) => e.dir === 'tap').map((e) => ({ t: e.t, ...e.msg })),
  };
}

/** A tool's name as the model sees it: `namespace/name` for Codex's namespaced tools. */
const fullName = (t) => (t.namespace ? `${t.namespace}/${t.name}` : t.name);

/** Beacon tools the first turn names without offering their schema (deferred tools). */
function deferredBeaconNames(turn, hubNames, withSchema) {
  const text = allText([
    turn.body.system ?? '',
    turn.body.messages ?? turn.body.contents ?? turn.body.input ?? [],
  ]);
  const found = {};
  for (const h of hubNames) {
    if (withSchema[h]) continue;
    const m = text.match(new RegExp(`[A-Za-z0-9_.-]*__${h}\\b`));
    if (m) found[h] = m[0];
  }
  return found;
}

/** Which offered tools are Beacon's: the hub's names, as the client spelled them. */
function matchBeaconTools(offered, hubNames) {
  const found = {};
  for (const h of hubNames) {
    const hit = offered.find(
      (t) =>
        t.name === h ||
        t.name.endsWith(`__${h}`) ||
        t.name.endsWith(`_${h}`) ||
        t.name.endsWith(`.${h}`) ||
        (t.namespace && t.name === h),
    );
    if (hit) found[h] = fullName(hit);
  }
  return found;
}

/** Every string in a value, with the key it sits under; strings holding JSON are opened too. */
function stringLeaves(value, key = '', out = []) {
  if (typeof value === 'string') {
    out.push({ key, value });
    const json = value.slice(value.search(/[[{]/));
    if (/^[[{]/.test(json)) {
      try {
        stringLeaves(JSON.parse(json), key, out);
      } catch {}
    }
  } else if (Array.isArray(value)) for (const v of value) stringLeaves(v, key, out);
  else if (value && typeof value === 'object')
    for (const [k, v] of Object.entries(value)) stringLeaves(v, k, out);
  return out;
}

/** Whether any object in a value (strings holding JSON opened) has the key. */
function hasKey(value, wanted) {
  if (typeof value === 'string') {
    const json = value.slice(value.search(/[[{]/));
    if (!/^[[{]/.test(json)) return false;
    try {
      return hasKey(JSON.parse(json), wanted);
    } catch {
      return value.includes(`"${wanted}":`);
    }
  }
  if (Array.isArray(value)) return value.some((v) => hasKey(v, wanted));
  if (value && typeof value === 'object')
    return Object.entries(value).some(([k, v]) => k === wanted || hasKey(v, wanted));
  return false;
}

/**
 * How a tool result reached the model, against what the hub answered: which of the hub's text
 * blocks the model can read, whether its structured content came through, and whether it says
 * who answered (as the hub's last text line, or as `answeredBy` in structured content).
 */
function describeResult(api, results, hubResult) {
  if (results.length === 0) return { reached: false };
  const raw = results[0];
  const s = JSON.stringify(raw);
  const leaves = stringLeaves(raw);
  const blocks = (hubResult?.content ?? []).filter((b) => b.type === 'text');
  const line = blocks.at(-1)?.text ?? 'answered by billing-api (';
  // A text block is visible when the model can read it as text, not only inside the
  // structured content's `answeredBy`.
  const textVisible = (text) =>
    leaves.some(
      (l) =>
        l.key !== 'answeredBy' &&
        l.value.includes(text) &&
        !l.value.includes(`"answeredBy":${JSON.stringify(line)}`),
    );
  const structured = hubResult?.structuredContent;
  const out = {
    reached: true,
    hubTextBlocks: blocks.length,
    hubTextBlocksVisible: blocks.filter((b) => textVisible(b.text)).length,
    hubStructuredContent: structured !== undefined,
    structuredContentVisible:
      structured !== undefined &&
      (s.includes(JSON.stringify(JSON.stringify(structured)).slice(1, -1)) ||
        Object.keys(structured).every((k) => hasKey(raw, k))),
    answeredLineVisibleAsText: textVisible(line),
    answeredByVisibleInStructured: hasKey(raw, 'answeredBy'),
    billingApiScriptVisible: s.includes('hello from billing-api'),
    shopWebVisible: s.includes('shop-web'),
    bytes: s.length,
  };
  if (api === 'anthropic') {
    const c = raw.content;
    out.shape =
      typeof c === 'string'
        ? 'tool_result.content: one string'
        : `tool_result.content: [${(c ?? []).map((b) => b.type).join(', ')}]`;
    out.isError = raw.is_error ?? false;
  } else if (api === 'responses') {
    const o = raw.output;
    out.shape =
      typeof o === 'string'
        ? 'function_call_output.output: one string'
        : `function_call_output.output: [${(o ?? []).map((b) => b.type).join(', ')}]`;
  } else {
    const r = raw.functionResponse?.response;
    out.shape = `functionResponse.response: {${Object.keys(r ?? {}).join(', ')}}`;
  }
  out.raw = s.length > 6000 ? `${s.slice(0, 6000)}...` : raw;
  return out;
}

/** Warnings and errors the agent printed, for the report. */
function agentComplaints(text) {
  return text
    .split('\n')
    .filter(
      (l) =>
        /(^|[\s["'])(warn(ing)?|error|fail(ed|ure)?|invalid|timed out|too long|truncat\w*|skipp\w*)\b/i.test(
          l,
        ) && !/"(total\w*|fail|errorsByType)"/.test(l),
    )
    .map((l) => l.slice(0, 400))
    .slice(0, 40);
}

// ------------------------------------------------------------------------------------ trial

async function trial(clientName) {
  started.length = 0;
  const client = CLIENTS[clientName];
  if (!client) throw new Error(`unknown client ${clientName}: claude, codex or gemini`);
  if (!existsSync(HUB_CLI) || !existsSync(INSTANCE_CLI))
    throw new Error(
      'apps/hub/dist or apps/instance/dist is missing: build first (or wait for a rebuild)',
    );
  const { bin, prefix } = await ensureInstalled(clientName, client);

  const work = await realpath(await mkdtemp(path.join(tmpdir(), `beacon-agent-${clientName}-`)));
  const ctx = {
    work,
    home: path.join(work, 'beacon-home'),
    agentHome: path.join(work, 'agent-home'),
    tapLog: path.join(work, 'tap.jsonl'),
    shopWeb: path.join(work, 'projects/shop-web'),
    billingApi: path.join(work, 'projects/billing-api'),
  };
  const report = {
    client: clientName,
    package: client.pkg,
    options: { ...opts },
    work: opts.keep ? work : undefined,
  };
  try {
    await mkdir(ctx.home, { recursive: true, mode: 0o700 });
    await mkdir(ctx.agentHome, { recursive: true });
    await makeProject(ctx.shopWeb, 'shop-web');
    await makeProject(ctx.billingApi, 'billing-api');
    const cwd = path.join(ctx.billingApi, 'src');

    const versionEnv = { ...baseEnv(ctx) };
    report.version = (
      await run(bin, ['--version'], { env: versionEnv, timeout: 60_000 }).catch((e) => ({
        stdout: `(--version failed: ${e.message})`,
      }))
    ).stdout.trim();
    report.installedAt = prefix;

    let statusDuringRun;
    const stub = await startStub(client.api, {
      // The shared hub's own view of the session, taken while the agent waits for its first
      // answer (a fast agent is gone by the time a status taken later runs).
      onTurn(turn) {
        if (opts.standalone || turn.kind !== 'turn' || statusDuringRun) return;
        statusDuringRun = run(process.execPath, [HUB_CLI, 'status', '--json'], {
          env: { ...process.env, MCP_BEACON_HOME: ctx.home },
          timeout: 15_000,
        })
          .then(({ stdout }) => JSON.parse(stdout))
          .catch((e) => ({ error: e.message }));
        return statusDuringRun;
      },
    });
    started.push({ name: 'stub', close: stub.close });
    ctx.stubUrl = stub.url;

    const instEnv = { ...process.env, MCP_BEACON_HOME: ctx.home };
    for (const dir of [ctx.shopWeb, ctx.billingApi])
      startProcess(`instance ${path.basename(dir)}`, process.execPath, [INSTANCE_CLI], {
        cwd: dir,
        env: instEnv,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    const records = await waitForRecords(path.join(ctx.home, 'instances'), [
      ctx.shopWeb,
      ctx.billingApi,
    ]);
    report.instances = records.map((r) => ({ name: r.name, path: r.path, port: r.port }));

    if (opts.primed && !opts.standalone) report.primed = await primeHub(instEnv, ctx.home);
    if (opts.warm && !opts.standalone) {
      const warm = startProcess('warm shared hub', process.execPath, [HUB_CLI, 'daemon'], {
        env: instEnv,
        cwd: ctx.home,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const until = Date.now() + 20_000;
      while (Date.now() < until && warm.child.exitCode === null) {
        const { stdout } = await run(process.execPath, [HUB_CLI, 'status', '--json'], {
          env: instEnv,
        }).catch(() => ({ stdout: '[]' }));
        const hubs = JSON.parse(stdout || '[]');
        if (hubs.some((h) => h.instances === 2)) break;
        await sleep(200);
      }
      report.warmHub = { pid: warm.child.pid, exited: warm.child.exitCode };
    }

    const setup = await client.setup(ctx);
    report.config = setup.config;
    const spawnedAt = epochMs();
    const agent = startProcess(
      'agent',
      bin,
      setup.args,
      { cwd, env: setup.env, stdio: ['ignore', 'pipe', 'pipe'] },
      { group: true },
    );
    let timer;
    const timedOut = new Promise((resolve) => {
      timer = setTimeout(() => resolve('timeout'), opts.timeoutMs);
    });
    const outcome = await Promise.race([agent.exited, timedOut]);
    clearTimeout(timer);
    // What the agent left running in its process group (its MCP server should be gone).
    const leftInGroup = outcome === 'timeout' ? [] : await groupMembers(agent.child.pid, 1000);
    report.agent = {
      // Zombies (state Z) are exited processes that this machine's pid 1 has not reaped.
      leftInGroupAfterExit: leftInGroup.filter((p) => p.state !== 'Z'),
      zombiesInGroupAfterExit: leftInGroup.filter((p) => p.state === 'Z').length,
      cwd,
      args: setup.args,
      exit: outcome === 'timeout' ? `still running after ${opts.timeoutMs} ms (killed)` : outcome,
      ranMs: Math.round((outcome === 'timeout' ? epochMs() : outcome.at) - spawnedAt),
      complaints: agentComplaints(`${agent.out.stderr}\n${agent.out.stdout}`),
      stdoutTail: agent.out.stdout.slice(-6000),
      stderrTail: agent.out.stderr.slice(-3000),
    };

    // ------------------------------------------------------------------ what happened
    const wire = analyseWire(await readTap(ctx.tapLog));
    const hubTools = wire.toolsLists[0]?.tools ?? [];
    const hubNames = hubTools.map((t) => t.name);
    const turns = stub.recorded.turns;
    const firstTurn = turns.find((t) => t.toolCount > 0);
    const offered = firstTurn?.tools ?? [];
    const beacon = matchBeaconTools(offered, hubNames);
    const beaconDefs = offered.filter((t) => Object.values(beacon).includes(fullName(t)));
    // Tools a client only names (Claude Code's deferred tools, loaded with ToolSearch).
    const deferred = firstTurn ? deferredBeaconNames(firstTurn, hubNames, beacon) : {};
    const calledTurn = turns.find(
      (t) => t.answer?.call && t.answer.call === stub.recorded.called?.name,
    );
    const loaded = calledTurn
      ? calledTurn.tools.filter((t) => pickScriptsList([t.name]) === t.name)
      : [];
    const instructions = wire.opening?.instructions ?? '';
    const afterResult = turns.find((t) => t.kind === 'after-result' || t.results.length > 0);
    const finalCalls = wire.calls.filter((c) => !c.inputRequired);
    const call = finalCalls.at(-1);
    const hubResult = call?.result;
    const rel = (t) => (t === undefined ? undefined : Math.round(t - spawnedAt));

    report.timeline = {
      note: 'ms after the agent was spawned; hub times are when the hub wrote (--delay-ms holds them)',
      mcpServerStarted: rel(wire.tapStartedAt),
      opening:
        wire.opening &&
        `${wire.opening.method} at ${rel(wire.opening.at)}, answered at ${rel(wire.opening.answeredAt)}`,
      toolsList: wire.toolsLists.map((l) => ({
        asked: rel(l.at),
        answered: rel(l.answeredAt),
        tools: l.count,
      })),
      modelTurns: turns.map((t) => ({
        at: rel(t.t),
        kind: t.kind,
        tools: t.toolCount,
        answer: t.answer,
      })),
      toolsCalls: wire.calls.map((c) => ({
        asked: rel(c.at),
        answered: rel(c.answeredAt),
        name: c.params?.name,
        ...(c.inputRequired ? { inputRequired: Object.keys(c.result?.inputRequests ?? {}) } : {}),
        ...(c.params?.inputResponses
          ? { withInputResponses: Object.keys(c.params.inputResponses) }
          : {}),
      })),
      agentExited: report.agent.exit?.at ? rel(report.agent.exit.at) : undefined,
    };
    report.hub = {
      mode: opts.standalone ? 'standalone (--log-level debug)' : 'shared (bridge)',
      mcpServerCwd: wire.tapCwd,
      era: wire.opening?.era,
      protocolVersion: wire.opening?.serverProtocolVersion,
      clientProtocolVersion: wire.opening?.protocolVersion,
      clientInfo: wire.opening?.clientInfo,
      clientCapabilities: wire.opening?.capabilities,
      methodsFromClient: wire.methodsFromClient,
      methodsFromHub: wire.methodsFromHub,
      toolsListRequests: wire.toolsLists.length,
      toolsListedByHub: wire.toolsLists.map((l) => l.count),
      toolsListBytes: wire.toolsLists[0]?.bytes,
      listChangedSent: wire.listChanged.map(rel),
      stderr: wire.hubStderr.slice(0, 80),
      tapEvents: wire.tapEvents.map((e) => ({ ...e, t: rel(e.t) })),
    };
    report.model = {
      requests: stub.recorded.requests.map((r) => ({ ...r, t: rel(r.t) })),
      firstTurn: firstTurn && {
        model: firstTurn.model,
        toolsOffered: firstTurn.toolCount,
        toolNamesOffered: offered.map(fullName),
        beaconToolsListed: hubNames.length,
        beaconToolsWithSchema: Object.keys(beacon).length,
        beaconToolsNamedOnly: Object.keys(deferred).length,
        beaconToolsMissing: hubNames.filter((n) => !beacon[n] && !deferred[n]),
        beaconNames: Object.values(beacon).concat(Object.values(deferred)),
        longestBeaconName: Math.max(
          0,
          ...Object.values(beacon)
            .concat(Object.values(deferred))
            .map((n) => n.length),
        ),
        beaconToolJsonBytes: JSON.stringify(beaconDefs.map((t) => t.def)).length,
        hubToolJsonBytes: JSON.stringify(hubTools).length,
        allToolJsonBytes: JSON.stringify(offered.map((t) => t.def)).length,
        instructionsInPrompt:
          instructions.length > 0 &&
          JSON.stringify(firstTurn.body).includes(instructions.slice(0, 60)),
        schemas: schemaFindings(client.api, beaconDefs, hubTools),
        ...(opts.raw ? { body: firstTurn.body } : {}),
      },
      scriptsListAsCalled: loaded[0] && {
        name: fullName(loaded[0]),
        definition: loaded[0].def,
        ...(loaded[0].namespaceDef ? { namespace: loaded[0].namespaceDef } : {}),
      },
      // Which model request first carried Beacon tools (1 = the first): a server later than the
      // client's start-up grace may still reach later requests.
      beaconToolsFirstInRequest:
        turns
          .filter((t) => t.toolCount > 0)
          .findIndex((t) => {
            const withSchema = matchBeaconTools(t.tools, hubNames);
            const named = deferredBeaconNames(t, hubNames, withSchema);
            return Object.keys(withSchema).length + Object.keys(named).length > 0;
          }) + 1 || null,
      toolSearch: stub.recorded.searched,
      probe: stub.recorded.probed,
      calledTool: stub.recorded.called,
      toolResultAsModelSawIt: describeResult(client.api, afterResult?.results ?? [], hubResult),
      finalTurnReached: Boolean(afterResult),
    };
    report.routing = {
      callArguments: call?.params?.arguments,
      hubAnsweredWith: hubResult && {
        contentTypes: (hubResult.content ?? []).map((b) => b.type),
        lastText: (hubResult.content ?? []).at(-1)?.text,
        structuredAnsweredBy: hubResult.structuredContent?.answeredBy,
        meta: hubResult._meta?.['beacon/instance'],
        isError: hubResult.isError ?? false,
      },
      hubError: call?.error,
      answeredBy: /answered by ([^ ]+)/.exec((hubResult?.content ?? []).at(-1)?.text ?? '')?.[1],
    };
    report.roots = wire.roots;
    if (statusDuringRun) {
      const status = await statusDuringRun;
      report.hub.statusDuringRun = status;
    }
    if (!opts.standalone) {
      const hubDir = path.join(ctx.home, 'hub');
      const logs = (await readdir(hubDir).catch(() => [])).filter((f) => f.endsWith('.log'));
      const lines = [];
      for (const f of logs)
        lines.push(
          ...(await readFile(path.join(hubDir, f), 'utf8').catch(() => ''))
            .split('\n')
            .filter(Boolean),
        );
      report.hub.sharedHubLog = lines.slice(-60);
    }
    report.verdict = verdict(report);
  } catch (error) {
    report.error = String(error?.stack ?? error);
  } finally {
    report.cleanup = await cleanup(ctx);
  }
  return report;
}

/** The JSON Schema keywords a schema uses (property names under `properties` are not keywords). */
function schemaKeywords(schema, out = new Set()) {
  if (Array.isArray(schema)) for (const s of schema) schemaKeywords(s, out);
  else if (schema && typeof schema === 'object')
    for (const [k, v] of Object.entries(schema)) {
      out.add(k);
      if (k === 'properties' && v && typeof v === 'object')
        for (const p of Object.values(v)) schemaKeywords(p, out);
      else if (typeof v === 'object') schemaKeywords(v, out);
    }
  return out;
}

/** Where two schemas differ: `added`, `removed` or `changed`, by path. */
function diffSchema(listed, sent, at = '', out = []) {
  const isObj = (v) => v && typeof v === 'object' && !Array.isArray(v);
  if (isObj(listed) && isObj(sent)) {
    for (const k of Object.keys(listed))
      if (!(k in sent)) out.push(`removed ${at}${k}`);
      else diffSchema(listed[k], sent[k], `${at}${k}.`, out);
    for (const k of Object.keys(sent)) if (!(k in listed)) out.push(`added ${at}${k}`);
  } else if (JSON.stringify(listed) !== JSON.stringify(sent))
    out.push(
      `changed ${at.slice(0, -1)}: ${JSON.stringify(listed)} -> ${JSON.stringify(sent)}`.slice(
        0,
        200,
      ),
    );
  return out;
}

/** What the client did to the schemas on their way to the model (Gemini forwards them). */
function schemaFindings(api, beaconDefs, hubTools) {
  const changes = {};
  let unchanged = 0;
  for (const def of beaconDefs) {
    const hub = hubTools.find(
      (t) =>
        def.name === t.name || def.name.endsWith(`_${t.name}`) || def.name.endsWith(`__${t.name}`),
    );
    if (!hub) continue;
    const diffs = diffSchema(hub.inputSchema ?? null, def.schema ?? null);
    if (diffs.length === 0) unchanged++;
    // Per-tool property names are folded so that one change made to every tool counts once.
    for (const d of diffs) {
      const key = d.replace(/properties\.[^.]+\./, 'properties.<p>.');
      changes[key] = [...(changes[key] ?? []), hub.name];
    }
  }
  return {
    unchanged: `${unchanged}/${beaconDefs.length}`,
    changes: Object.fromEntries(
      Object.entries(changes).map(([k, tools]) => [
        k,
        tools.length === beaconDefs.length ? 'every tool' : tools,
      ]),
    ),
    keywordsListedByHub: [...schemaKeywords(hubTools.map((t) => t.inputSchema))].sort(),
    keywordsSentToModel: [...schemaKeywords(beaconDefs.map((d) => d.schema))].sort(),
    ...(api === 'gemini'
      ? { geminiSchemaField: [...new Set(beaconDefs.map((d) => d.schemaKey))] }
      : {}),
  };
}

function verdict(r) {
  const ft = r.model.firstTurn;
  const res = r.model.toolResultAsModelSawIt;
  const firstList = r.timeline.toolsList[0]?.asked;
  return {
    allBeaconToolsReachedModel: Boolean(
      ft && ft.beaconToolsListed > 0 && ft.beaconToolsMissing.length === 0,
    ),
    beaconToolsReached: !ft
      ? 'no model request with tools'
      : ft.beaconToolsListed === 0
        ? '0 (no tools/list answered during the run)'
        : `${ft.beaconToolsWithSchema + ft.beaconToolsNamedOnly}/${ft.beaconToolsListed}` +
          (ft.beaconToolsNamedOnly > 0
            ? ` (${ft.beaconToolsNamedOnly} by name only, schema loaded on demand)`
            : ''),
    callWithoutInstanceAnsweredBy: r.routing.answeredBy ?? null,
    whoAnsweredVisibleAsText: res.reached ? res.answeredLineVisibleAsText : null,
    whoAnsweredVisibleAsStructured: res.reached ? res.answeredByVisibleInStructured : null,
    textBlocksVisible: res.reached ? `${res.hubTextBlocksVisible}/${res.hubTextBlocks}` : null,
    structuredContentVisible: res.reached ? res.structuredContentVisible : null,
    resultShape: res.shape ?? null,
    roots:
      r.roots.capability === null
        ? 'no roots capability'
        : {
            capability: r.roots.capability,
            given: [...r.roots.rootsListAnswers, ...r.roots.answeredInCallInputResponses],
          },
    toolsListRequests: r.hub.toolsListRequests,
    listChangedBeforeFirstList:
      firstList !== undefined && r.hub.listChangedSent.some((t) => t < firstList),
    instructionsReachedModel: ft ? ft.instructionsInPrompt : null,
    beaconToolsFirstInRequest: r.model.beaconToolsFirstInRequest,
    finalTurnReached: r.model.finalTurnReached,
  };
}

async function cleanup(ctx) {
  const done = [];
  for (const entry of [...started].reverse()) {
    if (entry.close) {
      await entry.close().catch(() => undefined);
      done.push(entry.name);
      continue;
    }
    const { pid } = entry.child;
    if (pid && entry.child.exitCode === null && entry.child.signalCode === null) {
      await stopPid(pid, { group: entry.group });
      done.push(`${entry.name} (pid ${pid})`);
    } else if (entry.group && pid) {
      // The agent is gone; anything it left in its process group goes too.
      try {
        process.kill(-pid, 'SIGTERM');
        done.push(`${entry.name} group (pid ${pid})`);
      } catch {}
    }
  }
  const result = { stopped: done, sharedHub: [], leftovers: [] };
  if (ctx?.home) {
    for (const pid of await sharedHubPids(ctx.home)) {
      if (!alive(pid)) continue;
      await stopPid(pid, { graceMs: 5000 });
      result.sharedHub.push(pid);
    }
    await sleep(200);
    const left = await leftovers(ctx.home);
    for (const p of left) await stopPid(p.pid);
    result.leftovers = left;
  }
  if (ctx?.work && !opts.keep) {
    await rm(ctx.work, { recursive: true, force: true, maxRetries: 3 });
    result.removed = ctx.work;
  }
  return result;
}

// A signal ends the agent, and the trial goes on to report and clean up; a second one exits
// at once, leaving whatever still runs.
let signals = 0;
for (const signal of ['SIGINT', 'SIGTERM'])
  process.on(signal, () => {
    if (++signals > 1) process.exit(130);
    process.exitCode = 130;
    for (const e of started)
      if (e.child?.pid && e.child.exitCode === null && e.group)
        stopPid(e.child.pid, { group: true });
  });

const reports = [];
for (const name of clientNames) {
  try {
    const report = await trial(name);
    if (report.error) process.exitCode = 1;
    reports.push(report);
  } catch (error) {
    process.stderr.write(`trial of ${name} failed: ${error.stack ?? error}\n`);
    process.exitCode = 1;
  }
}
process.stdout.write(`${JSON.stringify(reports.length === 1 ? reports[0] : reports, null, 2)}\n`);
