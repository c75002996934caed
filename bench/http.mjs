#!/usr/bin/env node
// The HTTP cost of one call, in the same run for each client: `HttpClientTransport.call()` (on
// undici), and node:http with a keep-alive agent as the baseline, each making N sequential JSON-RPC POSTs answered with an SSE body by
// a server in another process. Client CPU and wall time per request, and the client's RSS.
// Usage: node bench/http.mjs [--requests 5000] [--rounds 3]
import { fork } from 'node:child_process';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { HttpClientTransport } from '../packages/connection-manager/dist/index.js';
import { numberFlag } from './_cli.mjs';
import { summarize } from './_stats.mjs';

const REQUESTS = numberFlag('requests', 5000);
const ROUNDS = numberFlag('rounds', 3);
const round = (x) => Math.round(x * 100) / 100;

if (process.argv[2] === '--serve') {
  // The server: answers every POST with its JSON-RPC result as one SSE event.
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      const { id } = JSON.parse(body || '{}');
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.end(
        `event: message\ndata: ${JSON.stringify({ jsonrpc: '2.0', id, result: { content: [{ type: 'text', text: 'hello' }] } })}\n\n`,
      );
    });
  });
  server.listen(0, '127.0.0.1', () => process.send(server.address().port));
} else {
  const child = fork(fileURLToPath(import.meta.url), ['--serve'], { stdio: 'inherit' });
  const port = await new Promise((resolve) => child.once('message', resolve));
  const url = `http://127.0.0.1:${port}/mcp`;

  const viaTransport = () => {
    const transport = new HttpClientTransport(url);
    return {
      call: () => transport.call('tools/call', { name: 'echo', arguments: {} }),
      close: () => transport.close(),
    };
  };
  const viaNodeHttp = () => {
    const agent = new http.Agent({ keepAlive: true });
    let id = 0;
    return {
      call: () =>
        new Promise((resolve, reject) => {
          const body = JSON.stringify({
            jsonrpc: '2.0',
            id: ++id,
            method: 'tools/call',
            params: {},
          });
          const req = http.request(
            url,
            {
              method: 'POST',
              agent,
              headers: {
                'content-type': 'application/json',
                accept: 'application/json, text/event-stream',
                'content-length': Buffer.byteLength(body),
              },
            },
            (res) => {
              let text = '';
              res.setEncoding('utf8');
              res.on('data', (c) => {
                text += c;
              });
              res.on('end', () => resolve(JSON.parse(text.slice(text.indexOf('data: ') + 6))));
            },
          );
          req.on('error', reject);
          req.end(body);
        }),
      close: async () => agent.destroy(),
    };
  };
  const arms = {
    transport: viaTransport,
    node_http_baseline: viaNodeHttp,
  };
  const samples = Object.fromEntries(Object.keys(arms).map((k) => [k, { cpu: [], wall: [] }]));
  // Rounds interleave the arms, so a noisy moment hits each of them.
  for (let r = 0; r < ROUNDS; r++)
    for (const [name, make] of Object.entries(arms)) {
      const client = make();
      for (let i = 0; i < 200; i++) await client.call(); // warm-up
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      for (let i = 0; i < REQUESTS; i++) await client.call();
      const wall = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      samples[name].cpu.push((cpu.user + cpu.system) / REQUESTS);
      samples[name].wall.push((wall * 1000) / REQUESTS);
      await client.close();
    }
  const report = { node: process.version, requests: REQUESTS, rounds: ROUNDS, us_per_request: {} };
  for (const [name, { cpu, wall }] of Object.entries(samples))
    report.us_per_request[name] = { cpu: summarize(cpu).p50, wall: summarize(wall).p50 };
  const base = report.us_per_request.node_http_baseline;
  report.transport_over_node_http = {
    cpu: round(report.us_per_request.transport.cpu / base.cpu),
    wall: round(report.us_per_request.transport.wall / base.wall),
  };
  report.rss_mib_after = round(process.memoryUsage().rss / 1024 / 1024);
  console.log(JSON.stringify(report, null, 2));
  child.kill();
}
