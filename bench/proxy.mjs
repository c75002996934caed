#!/usr/bin/env node
// What beacon-instance's page proxy adds to a page's requests, with the same-run baseline: a
// dev-server stand-in (its own process) started by scripts_run, then N requests each of a
// module (JS, streamed through) and of the HTML document (rewritten with the page script),
// made to the dev server directly and through the proxied URL scripts_run listed, interleaved.
// The instance's RSS is read once the requests are done (the proxy loaded and used).
// Usage: node bench/proxy.mjs [--requests 2000]
import { spawn } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { INSTANCE, numberFlag } from './_cli.mjs';
import { benchHome } from './_home.mjs';
import { rssMib } from './_proc.mjs';
import { summarize } from './_stats.mjs';

const REQUESTS = numberFlag('requests', 2000);
const round = (x) => Math.round(x * 1000) / 1000;

const SERVER = `
const http = require('node:http');
const js = 'export const x = 1;\\n'.repeat(200);
const html = '<!doctype html><html><head><title>bench</title></head><body>' + 'x'.repeat(4000) + '</body></html>';
const server = http.createServer((req, res) => {
  if (req.url === '/main.js') { res.setHeader('content-type', 'text/javascript'); res.end(js); }
  else { res.setHeader('content-type', 'text/html'); res.end(html); }
});
server.listen(0, '127.0.0.1', () => console.log('  Local: http://127.0.0.1:' + server.address().port + '/'));
`;

const { work, home } = await benchHome('beacon-bench-proxy-');
const project = path.join(work, 'app');
await import('node:fs/promises').then((fs) => fs.mkdir(project));
await writeFile(path.join(project, 'server.cjs'), SERVER);
await writeFile(
  path.join(project, 'package.json'),
  JSON.stringify({ name: 'bench-app', scripts: { dev: 'node server.cjs' } }),
);
const instance = spawn(process.execPath, [INSTANCE, '--no-auth', '--log-level', 'info'], {
  cwd: project,
  env: { ...process.env, MCP_BEACON_HOME: home },
  stdio: ['ignore', 'ignore', 'pipe'],
});
try {
  const url = await new Promise((resolve, reject) => {
    let out = '';
    instance.stderr.setEncoding('utf8').on('data', (c) => {
      out += c;
      const m = /(http:\/\/127\.0\.0\.1:\d+\/mcp)/.exec(out);
      if (m) resolve(m[1]);
    });
    instance.once('exit', () => reject(new Error('beacon-instance exited')));
    setTimeout(() => reject(new Error('no URL from beacon-instance')), 20_000);
  });
  const client = new Client({ name: 'bench', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  const run = await client.callTool({
    name: 'scripts_run',
    arguments: { name: 'dev', waitFor: { url: true } },
  });
  const { urls, pageUrls } = run.structuredContent;
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const get = (href) =>
    new Promise((resolve, reject) => {
      const t0 = performance.now();
      request(href, { agent }, (res) => {
        res.resume();
        res.on('end', () => resolve(performance.now() - t0));
      })
        .on('error', reject)
        .end();
    });
  const arms = {
    js_direct: new URL('/main.js', urls[0]).href,
    js_proxied: new URL('/main.js', pageUrls[0]).href,
    html_direct: new URL('/', urls[0]).href,
    html_proxied: new URL('/', pageUrls[0]).href,
  };
  const times = Object.fromEntries(Object.keys(arms).map((k) => [k, []]));
  for (let i = 0; i < REQUESTS + 100; i++)
    for (const [name, href] of Object.entries(arms)) {
      const ms = await get(href);
      if (i >= 100) times[name].push(ms);
    }
  const stats = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, summarize(v)]));
  // The instance with its proxy loaded and used, once it has settled.
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  const instanceRss = rssMib(instance.pid);
  console.log(
    JSON.stringify(
      {
        node: process.version,
        requests: REQUESTS,
        ms: stats,
        added_p50_ms: {
          js: round(stats.js_proxied.p50 - stats.js_direct.p50),
          html: round(stats.html_proxied.p50 - stats.html_direct.p50),
        },
        instance_rss_mib_after: round(instanceRss),
      },
      null,
      2,
    ),
  );
  agent.destroy();
  await client.close();
} finally {
  instance.kill('SIGTERM');
  await new Promise((resolve) => instance.once('exit', resolve));
  await rm(work, { recursive: true, force: true });
}
