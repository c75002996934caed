#!/usr/bin/env node
// The end-to-end demo: two throwaway projects, a beacon-instance in each, and beacon-hub
// driven by the official MCP SDK client over stdio, exactly as an MCP client would; then a
// third project on a stand-in "dev box" (a data folder of its own, reached through a remote),
// and a second client on MCP 2026-07-28.
// Everything lives in a temp MCP_BEACON_HOME and is cleaned up, also on Ctrl-C.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Client as ModernClient } from '@modelcontextprotocol/client';
import { StdioClientTransport as ModernStdioTransport } from '@modelcontextprotocol/client/stdio';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';

const root = path.resolve(fileURLToPath(import.meta.url), '../..');
const INSTANCE = path.join(root, 'apps/instance/dist/cli.js');
const HUB = path.join(root, 'apps/hub/dist/cli.js');
// web-shop's dev server is Vite, as installed for beacon-instance's own tests.
const VITE = path.join(root, 'apps/instance/node_modules/vite/bin/vite.js');
const CHROMIUM = process.env.BEACON_CHROMIUM ?? '/usr/bin/chromium';
const bold = (s) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);
const step = (s) => console.log(`\n${bold(`== ${s}`)}`);

const work = await mkdtemp(path.join(tmpdir(), 'beacon-demo-'));
const home = path.join(work, 'beacon-home');
const env = { ...process.env, MCP_BEACON_HOME: home };
// The dev box: another machine would run `ssh devbox beacon-hub`; here it is a second hub
// with a data folder of its own, reached the same way, over its command's stdio.
const boxHome = path.join(work, 'devbox-home');
const boxEnv = { ...process.env, MCP_BEACON_HOME: boxHome };
const quote = (word) =>
  /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;
// The dev box runs a hub of its own for this demo (`--standalone`), so nothing outlives it.
const boxCommand = ['env', `MCP_BEACON_HOME=${boxHome}`, process.execPath, HUB, '--standalone']
  .map(quote)
  .join(' ');
const children = [];
let client;
let interrupted = false;

async function cleanup() {
  await client?.close().catch(() => undefined);
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  await Promise.all(
    children.map((c) =>
      c.exitCode === null && c.signalCode === null
        ? new Promise((r) => c.once('exit', r))
        : undefined,
    ),
  );
  await rm(work, { recursive: true, force: true });
}
// A reader that goes away (`pnpm demo | head`) ends the demo the same way: cleaned up.
process.stdout.on('error', () => {
  if (interrupted) return;
  interrupted = true;
  cleanup().finally(() => process.exit(1));
});
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    interrupted = true;
    console.log(`\n${signal}: cleaning up`);
    cleanup().finally(() => process.exit(130));
  });
}

async function makeProject(name, scripts) {
  const dir = path.join(work, name);
  await mkdir(dir, { recursive: true });
  await writeFile(
    path.join(dir, 'package.json'),
    JSON.stringify({ name, private: true, scripts }, null, 2),
  );
  return dir;
}

function startInstance(cwd, on = env) {
  const child = spawn(process.execPath, [INSTANCE, '--log-level', 'warn'], {
    cwd,
    env: on,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  children.push(child);
  return child;
}

function text(result) {
  return result.content
    .filter((c) => c.type === 'text')
    .map((c) => c.text)
    .join('\n');
}

async function until(check, what, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

try {
  step('Two throwaway projects');
  const shop = await makeProject('web-shop', {
    build: `node -e "for (const s of ['compile','bundle','minify']) console.log('build: ' + s + ' ok'); console.error('build: 1 warning')"`,
    dev: `node ${JSON.stringify(VITE)} --host 127.0.0.1 --port 0`,
    typecheck: `node -e "console.log('src/cart.ts(14,7): error TS2322: Type \\'string\\' is not assignable to type \\'number\\'.'); process.exit(2)"`,
  });
  // A page whose code fails on load, in src/cart.ts line 5.
  await mkdir(path.join(shop, 'src'));
  await writeFile(
    path.join(shop, 'index.html'),
    '<!doctype html><html><head><title>web-shop</title></head><body><div id="cart"></div><script type="module" src="/src/cart.ts"></script></body></html>',
  );
  await writeFile(
    path.join(shop, 'src', 'cart.ts'),
    `type Item = { price: number };
const items: Item[] = [];
const cart = document.querySelector('#cart') as HTMLElement;
cart.textContent = 'cart';
cart.dataset.total = String(items[0]!.price.toFixed(2));
`,
  );
  const api = await makeProject('payments-api', {
    test: 'node -e "console.log(\'12 tests passed\')"',
  });
  const docs = await makeProject('docs-site', {
    build: `node -e "console.log('docs: 42 pages built on ' + require('os').hostname())"`,
  });
  console.log(`  ${shop}\n  ${api}\n  MCP_BEACON_HOME=${home}`);
  console.log(`  and on the dev box: ${docs}\n  MCP_BEACON_HOME=${boxHome}`);

  step('Start beacon-instance in each project (docs-site on the dev box)');
  startInstance(shop);
  const apiInstance = startInstance(api);
  startInstance(docs, boxEnv);

  step('Start beacon-hub over stdio with the MCP SDK client, with the dev box as a remote');
  console.log(`  beacon-hub --remote devbox=${JSON.stringify(boxCommand)}`);
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [HUB, '--standalone', '--log-level', 'warn', '--remote', `devbox=${boxCommand}`],
    env,
    stderr: 'inherit',
  });
  client = new Client({ name: 'beacon-demo', version: '1.0.0' });
  let changes = 0;
  client.setNotificationHandler(ToolListChangedNotificationSchema, async () => {
    changes++;
  });
  const t0 = performance.now();
  await client.connect(transport);
  console.log(
    `  connected to ${client.getServerVersion().name} ${client.getServerVersion().version} in ${Math.round(performance.now() - t0)} ms`,
  );

  const instances = async () =>
    (await client.callTool({ name: 'instances_list', arguments: {} })).structuredContent.instances;
  await until(
    async () => (await instances()).filter((i) => i.state === 'active').length === 3,
    'the three instances',
  );

  step('Discovered instances (instances_list)');
  console.log(
    text(await client.callTool({ name: 'instances_list', arguments: {} })).replace(/^/gm, '  '),
  );

  step('Proxied tools (tools/list): each listed once for both projects, with an instance argument');
  const listed = (await client.listTools()).tools;
  for (const t of listed) {
    const on = /On: ([^.]*)\./.exec(t.description ?? '');
    console.log(`  ${t.name}${on ? `  (on ${on[1]})` : ''}`);
  }

  step('Run web-shop\'s "build" script through the hub, waiting for it to end');
  const built = await client.callTool({
    name: 'scripts_run',
    arguments: { instance: 'web-shop', name: 'build', waitFor: { timeoutMs: 15_000 } },
  });
  const run = built.structuredContent;
  console.log(`  ${run.id}: ${run.command} (pid ${run.pid})`);
  // Every routed result ends with a line naming the instance that answered.
  console.log(`  ${built.content.at(-1).text}`);
  console.log(`  waited: ${run.waited}; ended: ${run.state}, exit code ${run.exitCode}`);

  step('Its logs (logs_get {instance: "web-shop"})');
  const logs = (
    await client.callTool({ name: 'logs_get', arguments: { instance: 'web-shop', run: run.id } })
  ).structuredContent;
  for (const line of logs.lines) console.log(`  [${line.stream}] ${line.text}`);

  step('Run docs-site\'s "build" on the dev box (instance: "devbox/docs-site")');
  const docsRun = (
    await client.callTool({
      name: 'scripts_run',
      arguments: { instance: 'devbox/docs-site', name: 'build', waitFor: { timeoutMs: 15_000 } },
    })
  ).structuredContent;
  const docsLogs = (
    await client.callTool({
      name: 'logs_get',
      arguments: { instance: 'devbox/docs-site', run: docsRun.id },
    })
  ).structuredContent;
  for (const line of docsLogs.lines) console.log(`  [${line.stream}] ${line.text}`);
  console.log(
    '  (the hub reached it through the remote hub, never by its port; its token stayed there)',
  );

  step('Start the dev server and wait until it prints its URL (waitFor: {url: true})');
  const dev = (
    await client.callTool({
      name: 'scripts_run',
      arguments: { instance: 'web-shop', name: 'dev', waitFor: { url: true } },
    })
  ).structuredContent;
  console.log(`  waited: ${dev.waited}; line: ${JSON.stringify(dev.line?.text)}`);
  console.log(`  the dev server: ${dev.urls[0]}; through the page proxy: ${dev.pageUrls[0]}`);

  step('Open the page through the page proxy in headless Chromium; what broke, at which line');
  const playwrightModule = await import(
    pathToFileURL(
      createRequire(path.join(root, 'apps/instance/package.json')).resolve('playwright-core'),
    ).href
  ).catch(() => undefined);
  const playwright = playwrightModule?.chromium ? playwrightModule : playwrightModule?.default;
  if (!playwright?.chromium || !existsSync(CHROMIUM)) {
    console.log(
      `  (no Chromium at ${CHROMIUM}: open ${dev.pageUrls[0]} in your browser, then call browser_report)`,
    );
  } else {
    const browser = await playwright.chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
    });
    try {
      const page = await browser.newPage();
      await page.goto(dev.pageUrls[0]);
      const pageErrors = await until(async () => {
        const found = (
          await client.callTool({ name: 'browser_report', arguments: { instance: 'web-shop' } })
        ).structuredContent.errors.filter((e) => e.at);
        return found.length > 0 ? found : undefined;
      }, 'the page error');
      for (const e of pageErrors)
        console.log(
          `  ${e.message}\n    at ${e.at}: ${e.code}  (seen ${e.count}x on ${e.pageUrl})`,
        );
      const title = (
        await client.callTool({
          name: 'browser_eval',
          arguments: { instance: 'web-shop', expression: 'document.title' },
        })
      ).structuredContent;
      console.log(`  browser_eval document.title -> ${title.value}`);
    } finally {
      await browser.close();
    }
  }

  step('A failing type check, and what errors_get makes of it');
  await client.callTool({
    name: 'scripts_run',
    arguments: { instance: 'web-shop', name: 'typecheck', waitFor: { timeoutMs: 15_000 } },
  });
  const { errors } = (
    await client.callTool({ name: 'errors_get', arguments: { instance: 'web-shop' } })
  ).structuredContent;
  for (const e of errors)
    console.log(`  ${e.kind} ${e.file}:${e.line}:${e.column} ${e.message} (${e.run})`);

  step('Each run is a resource too (resources/list)');
  for (const r of (await client.listResources()).resources) console.log(`  ${r.uri}  ${r.title}`);

  step('A client on MCP 2026-07-28: server/discover, no handshake, the same tools');
  const modern = new ModernClient(
    { name: 'beacon-demo-2026', version: '1.0.0' },
    { versionNegotiation: { mode: { pin: '2026-07-28' } } },
  );
  try {
    await modern.connect(
      new ModernStdioTransport({
        command: process.execPath,
        args: [HUB, '--standalone', '--log-level', 'warn'],
        env,
        stderr: 'inherit',
      }),
    );
    const modernTools = (await modern.listTools()).tools;
    console.log(
      `  era ${modern.getProtocolEra()} (${modern.getNegotiatedProtocolVersion()}); ${modernTools.length} tools, as the 2025 client sees ${listed.length}`,
    );
    const scripts = await modern.callTool({
      name: 'scripts_list',
      arguments: { instance: 'payments-api' },
    });
    console.log(`  scripts_list: ${scripts.content.at(-1).text}`);
  } finally {
    await modern.close();
  }

  step('Stop payments-api (SIGTERM) and watch it leave');
  const before = changes;
  const listedBefore = JSON.stringify((await client.listTools()).tools);
  apiInstance.kill('SIGTERM');
  await until(
    async () =>
      !text(await client.callTool({ name: 'instances_list', arguments: {} })).includes(
        'payments-api',
      ),
    'payments-api to leave instances_list',
  );
  // web-shop still offers every tool payments-api did: the client's list is the same, so it is
  // not told to list again.
  const listedAfter = JSON.stringify((await client.listTools()).tools);
  console.log(
    `  payments-api left; the tool list is ${listedAfter === listedBefore ? 'unchanged' : 'changed'} (${changes - before} list_changed), each tool still reaches web-shop`,
  );
  console.log(
    text(await client.callTool({ name: 'instances_list', arguments: {} })).replace(/^/gm, '  '),
  );

  step('Done: cleaning up');
} catch (error) {
  // After Ctrl-C the steps in flight fail as their processes go; that is not news.
  if (!interrupted) {
    console.error(`demo failed: ${error.stack ?? error}`);
    process.exitCode = 1;
  }
} finally {
  await cleanup();
}
