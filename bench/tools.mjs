#!/usr/bin/env node
// What a client pays for the hub's tool list, at 1, 10 and 100 live instances, for the default
// surface (one tool per name) and `--tools namespaced` side by side, in the same run, and the
// default surface with two beacon-instance builds side by side:
// tool count, bytes of the `tools/list` result, bytes / 4 as a token estimate, longest name.
// The instances are a fleet of MCP servers in this process serving exactly the catalog a real
// beacon-instance lists (captured from one at the start of the run).
// Usage: node bench/tools.mjs [--sizes 1,10,100]
import { spawn } from 'node:child_process';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { makeRecord, startMcpHttpServer } from '../packages/test-utils/dist/index.js';
import { HUB, INSTANCE } from './_cli.mjs';
import { benchHome } from './_home.mjs';
import { rawPipe } from './_raw-pipe.mjs';

const sizesAt = process.argv.indexOf('--sizes');
const SIZES = (sizesAt > 0 ? process.argv[sizesAt + 1] : '1,10,100').split(',').map(Number);
const log = (s) => process.stderr.write(`${s}\n`);

const { work, instancesDir, tempDir, env } = await benchHome('beacon-bench-tools-');
const cleanups = [];

/** The tools/list result of a real beacon-instance in a small project. */
async function realCatalog() {
  const cwd = path.join(work, 'real');
  await mkdir(cwd, { recursive: true });
  await writeFile(
    path.join(cwd, 'package.json'),
    JSON.stringify({ name: 'real', scripts: { dev: 'echo dev', test: 'echo test' } }),
  );
  const child = spawn(process.execPath, [INSTANCE, '--no-register', '--no-auth'], {
    cwd,
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  const url = await new Promise((resolve, reject) => {
    child.stderr.on('data', (c) => {
      err += c;
      const m = /at (http:\S+)/.exec(err);
      if (m) resolve(m[1]);
    });
    child.once('exit', () => reject(new Error(`instance exited: ${err}`)));
  });
  const client = new Client({ name: 'bench', version: '1' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  const { tools } = await client.listTools();
  await client.close();
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
  return tools;
}

/** A streamable-HTTP MCP server in this process that lists `tools` and answers every call. */
async function startFleetServer(tools) {
  const server = await startMcpHttpServer(tools);
  cleanups.push(() => server.close());
  return server;
}

async function announce(server, name) {
  const record = makeRecord({
    pid: process.pid,
    path: path.join(work, 'projects', name),
    port: server.port,
    name,
    url: server.url,
    version: 1,
  });
  const temp = path.join(tempDir, `${record.id}.json.bench.tmp`);
  await writeFile(temp, JSON.stringify(record), { mode: 0o600 });
  await rename(temp, path.join(instancesDir, `${record.id}.json`));
}

/** The hub's first tools/list (it waits for the instances present at start), measured. */
async function measure(args, size) {
  const child = spawn(process.execPath, [HUB, '--standalone', '--log-level', 'error', ...args], {
    env,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const { request, initialize } = rawPipe(child);
  await initialize();
  let line;
  for (;;) {
    ({ line } = await request('tools/call', { name: 'instances_list', arguments: {} }));
    const { instances } = JSON.parse(line).result.structuredContent;
    const active = instances.filter((i) => i.state === 'active').length;
    if (active >= size) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  ({ line } = await request('tools/list'));
  child.stdin.end();
  await new Promise((resolve) => child.once('exit', resolve));
  const { tools } = JSON.parse(line).result;
  const bytes = Buffer.byteLength(JSON.stringify({ tools }));
  return {
    tools: tools.length,
    bytes,
    tokens_estimate: Math.round(bytes / 4),
    longest_name: Math.max(...tools.map((t) => t.name.length)),
    bytes_per_tool: Object.fromEntries(
      tools.map((t) => [t.name, Buffer.byteLength(JSON.stringify(t))]),
    ),
  };
}

/** What a grouped `tools/list` may cost, in bytes, at any number of projects. */
const BUDGET_BYTES = 8 * 1024;

const report = { node: process.version, sizes: SIZES };
try {
  const catalog = await realCatalog();
  report.instance_catalog = {
    tools: catalog.length,
    bytes: Buffer.byteLength(JSON.stringify(catalog)),
  };
  const fleet = [];
  const rows = [];
  for (const size of SIZES) {
    while (fleet.length < size) {
      const server = await startFleetServer(catalog);
      fleet.push(server);
      await announce(server, `project-${String(fleet.length).padStart(3, '0')}`);
    }
    const grouped = await measure([], size);
    const namespaced = await measure(['--tools', 'namespaced'], size);
    rows.push({ instances: size, grouped, namespaced });
    log(`measured ${size} instances`);
  }
  // Two beacon-instance builds side by side (after an upgrade): 10 more instances whose every
  // tool has another description and one more optional property.
  const newer = catalog.map((t) => ({
    ...t,
    description: `${t.description ?? ''} (newer build)`,
    inputSchema: {
      ...t.inputSchema,
      properties: { ...(t.inputSchema.properties ?? {}), since: { type: 'string' } },
    },
  }));
  const uniform = rows.at(-1);
  for (let i = 0; i < 10; i++)
    await announce(await startFleetServer(newer), `newer-${String(i).padStart(2, '0')}`);
  const mixed = await measure([], fleet.length + 10);
  report.mixed_versions = { instances: fleet.length + 10, newer: 10, grouped: mixed };
  log(`measured ${fleet.length + 10} instances of two builds`);
  const one = rows.find((r) => r.instances === 1)?.grouped;
  const hundred = rows.find((r) => r.instances === 100)?.grouped;
  report.rows = rows;
  report.mixed_versions.same_tools_as_one_build = mixed.tools === uniform.grouped.tools;
  if (one && hundred)
    report.targets = {
      at_100_at_most_20_tools: hundred.tools <= 20,
      at_100_bytes_over_1_instance: Math.round((hundred.bytes / one.bytes) * 100) / 100,
      at_100_within_1_5x_bytes_of_1: hundred.bytes <= one.bytes * 1.5,
      // The budget of the whole list, at 1 and at 100 projects (it was 17,741 and 19,697 bytes).
      within_8_kib: [one, hundred].every((r) => r.bytes <= BUDGET_BYTES),
      before: { at_1_bytes: 17_741, at_100_bytes: 19_697 },
      names_within_48: rows.every(
        (r) => r.grouped.longest_name <= 48 && r.namespaced.longest_name <= 48,
      ),
    };
  console.log(JSON.stringify(report, null, 2));
} finally {
  for (const cleanup of cleanups.reverse()) await cleanup();
  await rm(work, { recursive: true, force: true });
}
