import { mkdir, realpath, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from '@mcp-beacon/test-utils';
import { describe, expect, it } from 'vitest';
import { call, useCliFixture } from '../_cli-fixture.js';
import {
  type ErrorView,
  pageErrors,
  stopRunLeavingNothing,
  structured,
  useChromium,
} from './_browser-fixture.js';

const MODULES = fileURLToPath(new URL('../../node_modules/', import.meta.url));

const fx = useCliFixture({});

const CONFIG = (devtool: string) => `const path = require('node:path');
module.exports = {
  mode: 'development',
  devtool: ${JSON.stringify(devtool)},
  entry: './src/index.js',
  output: { path: path.resolve(__dirname, 'dist'), filename: 'main.js', publicPath: '/' },
  infrastructureLogging: { level: 'info' },
  // The defaults but for the host (loopback only): port 8080 or the next free one, HMR, the
  // error overlay.
  devServer: {
    host: '127.0.0.1',
    static: { directory: path.resolve(__dirname, 'public'), watch: false },
  },
};
`;

// Version 2 has one more line before the throw: its error is on line 8, not 7.
const INDEX = (version: number) => `import { describe } from './describe.js';
const app = document.querySelector('#app');
app.textContent = describe(${version});
${version === 1 ? '' : '// version 2\n'}setTimeout(() => {
  const broken = undefined;
  app.dataset.name = broken.name;
}, 20);
if (import.meta.webpackHot) import.meta.webpackHot.accept();
if (${version} === 1) setTimeout(() => {
  const printed = new Error('printed, then thrown');
  console.error(printed);
  throw printed;
}, 30);
`;

const launched = useChromium();

async function writeProject(devtool: string) {
  // The dev server's command names the project's folder: what the leak check looks for.
  const cli = path.join(fx.project, 'node_modules', 'webpack-cli', 'bin', 'cli.js');
  await writeFile(
    path.join(fx.project, 'package.json'),
    JSON.stringify({ name: 'my-app', scripts: { dev: `node ${JSON.stringify(cli)} serve` } }),
  );
  await mkdir(path.join(fx.project, 'src'), { recursive: true });
  await mkdir(path.join(fx.project, 'public'));
  await mkdir(path.join(fx.project, 'node_modules'));
  for (const name of ['webpack', 'webpack-cli', 'webpack-dev-server'])
    await symlink(
      await realpath(path.join(MODULES, name)),
      path.join(fx.project, 'node_modules', name),
    );
  await writeFile(path.join(fx.project, 'webpack.config.js'), CONFIG(devtool));
  await writeFile(
    path.join(fx.project, 'public', 'index.html'),
    '<!doctype html><html><head><title>webpack app</title></head><body><div id="app"></div><script src="/main.js"></script></body></html>',
  );
  await writeFile(
    path.join(fx.project, 'src', 'describe.js'),
    "export function describe(version) {\n  return 'version ' + version;\n}\n",
  );
  await writeFile(path.join(fx.project, 'src', 'index.js'), INDEX(1));
}

// Generous time: a dev server's first build and a browser share two cores with other tests.
describe.each(['eval-source-map', 'source-map'])('webpack-dev-server, devtool %s', (devtool) => {
  it('takes an edit through the proxied /ws socket and reports errors at src/index.js', async () => {
    await writeProject(devtool);
    const { record } = await fx.startAndWaitForRecord();
    const client = await fx.connectClient(record);
    const run = structured<{ id: string; urls: string[]; pageUrls: string[] }>(
      await call(client, 'scripts_run', {
        name: 'dev',
        waitFor: { url: true, timeoutMs: 120_000 },
      }),
    );
    expect(run.pageUrls).toHaveLength(1);
    const proxied = new URL(run.pageUrls[0]!);
    // webpack-dev-server also compiles after it prints its URL: wait for the bundle.
    await waitFor(async () => (await fetch(new URL('/main.js', proxied))).ok, {
      what: 'the first bundle',
      timeoutMs: 120_000,
      intervalMs: 250,
    });

    const page = await launched.browser.newPage();
    const sockets: string[] = [];
    page.on('websocket', (ws) => sockets.push(ws.url()));
    await page.goto(proxied.href);
    await page.waitForFunction(`document.querySelector('#app')?.textContent === 'version 1'`);

    const errorsOf = () => pageErrors(client);
    const first = await waitFor(
      async () => (await errorsOf()).find((e) => e.at?.startsWith('src/index.js:6:')),
      { what: 'the TypeError at src/index.js:6', timeoutMs: 30_000 },
    );
    expect(first.message).toMatch(/TypeError/);
    expect(first.code).toBe('app.dataset.name = broken.name;');

    // An Error printed with console.error, then thrown: one page error, at its line.
    const printed = await waitFor(
      async () =>
        (await errorsOf()).find((e) => e.message.includes('printed, then thrown') && e.at),
      { what: 'the printed error, mapped', timeoutMs: 30_000 },
    );
    expect(printed).toMatchObject({ message: 'Error: printed, then thrown', count: 1 });
    expect(printed.at).toMatch(/^src\/index\.js:10:\d+$/);
    expect(
      (await errorsOf()).filter((e) => e.message.includes('printed, then thrown')),
    ).toHaveLength(1);

    // The HMR socket is the proxy's; an edit is applied in the same document (no reload).
    await waitFor(() => sockets.length > 0, { what: 'the HMR socket', timeoutMs: 30_000 });
    expect(new URL(sockets[0]!).host).toBe(proxied.host);
    expect(new URL(sockets[0]!).pathname).toBe('/ws');
    await page.evaluate('window.__sameDocument = true');
    await writeFile(path.join(fx.project, 'src', 'index.js'), INDEX(2));
    await page.waitForFunction(`document.querySelector('#app')?.textContent === 'version 2'`, {
      timeout: 60_000,
    });
    expect(await page.evaluate('window.__sameDocument')).toBe(true);
    // The new module's error maps through the hot update's map, one line lower.
    const second = await waitFor(
      async () => (await errorsOf()).find((e) => e.at?.startsWith('src/index.js:7:')),
      { what: 'the TypeError at src/index.js:7', timeoutMs: 30_000 },
    );
    expect(second.code).toBe('app.dataset.name = broken.name;');

    const all = structured<{ pageErrors?: ErrorView[] }>(await call(client, 'errors_get'));
    expect(all.pageErrors?.some((e) => e.at?.startsWith('src/index.js:6:'))).toBe(true);
    await page.close();

    // Stopped through the instance: nothing of the dev server stays behind.
    await stopRunLeavingNothing(client, run.id, fx.project);
  }, 300_000);
});
