#!/usr/bin/env node
// The cost of one call to an instance over HTTP, in the same run for each client, N sequential
// tools/call requests answered with one SSE event by an MCP SDK server in another process:
//  - `manager_call`: `manager.call()` of connection-manager on its own HTTP transport (the hub's
//    path for a 2025-11-25 instance: straight on the transport, no SDK bookkeeping);
//  - `sdk_transport`: `manager.call()` on the SDK's StreamableHTTPClientTransport over undici's
//    fetch (one Agent, each body through a byte-counting stream, as the hub reads a 2026-07-28
//    instance): what the hand-written transport would be replaced with;
//  - `sdk_client_own_transport`: `manager.call()` with a progress callback, which takes the SDK
//    client on the hand-written transport (how much of the difference is the client's);
//  - `node_http_baseline`: node:http with a keep-alive agent, no MCP at all.
// Client CPU and wall time per request (p50 and p99 of the rounds' per-request times), and the
// client's RSS.
// Usage: node bench/http.mjs [--requests 5000] [--rounds 3]
import { fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { NodeStreamableHTTPServerTransport } from '@modelcontextprotocol/node';
import { McpServer } from '@modelcontextprotocol/server';
import { createConnectionManager } from '../packages/connection-manager/dist/index.js';
import { makeRecord } from '../packages/test-utils/dist/index.js';
import { numberFlag } from './_cli.mjs';
import { summarize } from './_stats.mjs';

const REQUESTS = numberFlag('requests', 5000);
const ROUNDS = numberFlag('rounds', 3);
const round = (x) => Math.round(x * 100) / 100;
// undici as connection-manager has it (the root has none of its own).
const undici = createRequire(
  fileURLToPath(new URL('../packages/connection-manager/package.json', import.meta.url)),
)('undici');

if (process.argv[2] === '--serve') {
  // The server: the MCP SDK 2's streamable-HTTP server (one 2025 session per client), `echo`
  // answering at once, its answers one SSE event each, as an instance's are.
  const transports = new Map();
  const server = http.createServer(async (req, res) => {
    const id = req.headers['mcp-session-id'];
    let transport = typeof id === 'string' ? transports.get(id) : undefined;
    if (!transport) {
      const fresh = new NodeStreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (sid) => transports.set(sid, fresh),
      });
      transport = fresh;
      const mcp = new McpServer({ name: 'bench-http', version: '1.0.0' });
      mcp.registerTool('echo', { description: 'answers at once' }, async () => ({
        content: [{ type: 'text', text: 'hello' }],
      }));
      await mcp.connect(transport);
    }
    await transport.handleRequest(req, res);
  });
  server.listen(0, '127.0.0.1', () => process.send(server.address().port));
} else {
  const child = fork(fileURLToPath(import.meta.url), ['--serve'], { stdio: 'inherit' });
  const port = await new Promise((resolve) => child.once('message', resolve));
  const url = `http://127.0.0.1:${port}/mcp`;
  const record = makeRecord({ name: 'bench', pid: child.pid, port, url });
  const request = { method: 'tools/call', params: { name: 'echo', arguments: {} } };

  /** A fetch as the hub's for 2026-07-28 instances: undici, one Agent, bodies counted. */
  const countingFetch = (agent) => async (input, init) => {
    const response = await undici.fetch(String(input), { ...init, dispatcher: agent });
    if (!response.body) return response;
    let size = 0;
    const count = new TransformStream({
      transform(chunk, controller) {
        size += chunk.byteLength;
        if (size > 64 * 1024 * 1024) controller.error(new Error('too large'));
        else controller.enqueue(chunk);
      },
    });
    return new Response(response.body.pipeThrough(count), {
      status: response.status,
      headers: response.headers,
    });
  };

  const viaManager =
    (createTransport, options = { timeoutMs: 10_000 }) =>
    async () => {
      const manager = createConnectionManager(createTransport ? { createTransport } : {});
      manager.upsert(record);
      await manager.whenFirstAttemptsDone();
      if (manager.get(record.id)?.state !== 'active')
        throw new Error(`not connected: ${manager.get(record.id)?.reason}`);
      return {
        call: () => manager.call(record.id, request, options),
        close: () => manager.close(),
      };
    };
  const viaTransport = viaManager(undefined);
  // The SDK client's bookkeeping on the hand-written transport (a progress callback takes it).
  const viaSdkClient = viaManager(undefined, { timeoutMs: 10_000, onprogress: () => undefined });
  const viaSdkTransport = () => {
    const agent = new undici.Agent({ connections: 64, pipelining: 1 });
    const arm = viaManager(
      (r) => new StreamableHTTPClientTransport(new URL(r.url), { fetch: countingFetch(agent) }),
    );
    return arm().then((client) => ({
      call: client.call,
      close: async () => {
        await client.close();
        await agent.close();
      },
    }));
  };
  /** The baseline: one MCP session opened by hand, then bare keep-alive POSTs on node:http. */
  const viaNodeHttp = async () => {
    const agent = new http.Agent({ keepAlive: true });
    let id = 0;
    let session;
    const post = (message) =>
      new Promise((resolve, reject) => {
        const body = JSON.stringify(message);
        const req = http.request(
          url,
          {
            method: 'POST',
            agent,
            headers: {
              'content-type': 'application/json',
              accept: 'application/json, text/event-stream',
              'content-length': Buffer.byteLength(body),
              ...(session
                ? { 'mcp-session-id': session, 'mcp-protocol-version': '2025-11-25' }
                : {}),
            },
          },
          (res) => {
            session ??= res.headers['mcp-session-id'];
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (c) => {
              text += c;
            });
            res.on('end', () => {
              if (message.id === undefined) return resolve(undefined);
              const answer = JSON.parse(text.slice(text.indexOf('data: ') + 6));
              if (answer.error) reject(new Error(answer.error.message));
              else resolve(answer);
            });
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    await post({
      jsonrpc: '2.0',
      id: ++id,
      method: 'initialize',
      params: {
        protocolVersion: '2025-11-25',
        capabilities: {},
        clientInfo: { name: 'baseline', version: '1.0.0' },
      },
    });
    await post({ jsonrpc: '2.0', method: 'notifications/initialized' });
    return {
      call: () => post({ jsonrpc: '2.0', id: ++id, ...request }),
      close: async () => agent.destroy(),
    };
  };
  const arms = {
    manager_call: viaTransport,
    sdk_client_own_transport: viaSdkClient,
    sdk_transport: viaSdkTransport,
    node_http_baseline: viaNodeHttp,
  };
  const samples = Object.fromEntries(Object.keys(arms).map((k) => [k, { cpu: [], wall: [] }]));
  // Rounds interleave the arms, so a noisy moment hits each of them.
  for (let r = 0; r < ROUNDS; r++)
    for (const [name, make] of Object.entries(arms)) {
      const client = await make();
      for (let i = 0; i < 200; i++) await client.call(); // warm-up
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      const walls = [];
      for (let i = 0; i < REQUESTS; i++) {
        const s0 = performance.now();
        await client.call();
        walls.push((performance.now() - s0) * 1000);
      }
      const wall = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      samples[name].cpu.push((cpu.user + cpu.system) / REQUESTS);
      samples[name].wall.push((wall * 1000) / REQUESTS);
      samples[name].p50 = [...(samples[name].p50 ?? []), summarize(walls).p50];
      samples[name].p99 = [...(samples[name].p99 ?? []), summarize(walls).p99];
      await client.close();
    }
  const report = { node: process.version, requests: REQUESTS, rounds: ROUNDS, us_per_request: {} };
  for (const [name, { cpu, wall, p50, p99 }] of Object.entries(samples))
    report.us_per_request[name] = {
      cpu: summarize(cpu).p50,
      wall_mean: summarize(wall).p50,
      wall_p50: summarize(p50).p50,
      wall_p99: summarize(p99).p50,
    };
  const base = report.us_per_request.node_http_baseline;
  const ours = report.us_per_request.manager_call;
  const sdk = report.us_per_request.sdk_transport;
  report.over_node_http = {
    manager_call: {
      cpu: round(ours.cpu / base.cpu),
      wall_p50: round(ours.wall_p50 / base.wall_p50),
    },
    sdk_transport: {
      cpu: round(sdk.cpu / base.cpu),
      wall_p50: round(sdk.wall_p50 / base.wall_p50),
    },
  };
  report.sdk_transport_over_manager_call = {
    cpu: round(sdk.cpu / ours.cpu),
    wall_p50_us: round(sdk.wall_p50 - ours.wall_p50),
    wall_p99_us: round(sdk.wall_p99 - ours.wall_p99),
  };
  report.rss_mib_after = round(process.memoryUsage().rss / 1024 / 1024);
  console.log(JSON.stringify(report, null, 2));
  child.kill();
}
