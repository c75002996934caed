import { mkdir, realpath, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from '@mcp-beacon/test-utils';
import { describe, expect, it } from 'vitest';
import { call, useCliFixture } from '../_cli-fixture.js';
import { pageErrors, stopRunLeavingNothing, structured, useChromium } from './_browser-fixture.js';

const MODULES = fileURLToPath(new URL('../../node_modules/', import.meta.url));

const fx = useCliFixture({ dev: 'vite dev' });

// The throw in boom() is on line 5 of the component.
const PAGE = (version: number) => `<script>
  let count = $state(0);
  function boom() {
    const broken = undefined;
    document.title = broken.name;
  }
</script>

<h1 id="v">version ${version}</h1>
<button id="b" onclick={boom}>boom {count}</button>
`;

const FILES: Record<string, string> = {
  'svelte.config.js': 'export default { kit: {} };\n',
  'vite.config.js': `import { sveltekit } from '@sveltejs/kit/vite';
export default { plugins: [sveltekit()], server: { host: '127.0.0.1', port: 0 } };
`,
  'src/app.html': `<!doctype html>
<html><head><meta charset="utf-8" /><title>kit app</title>%sveltekit.head%</head>
<body><div>%sveltekit.body%</div></body></html>
`,
  'src/routes/+page.svelte': PAGE(1),
  'src/routes/ssr/+page.server.js': `export function load() {
  const broken = undefined;
  return { name: broken.name };
}
`,
  'src/routes/ssr/+page.svelte': '<p>ssr</p>\n',
  // Svelte runs effects itself: an error in one is thrown on, with the component stack added.
  'src/routes/effect/+page.svelte': `<script>
  let n = $state(0);
  $effect(() => {
    if (n > 0) {
      const broken = undefined;
      document.title = broken.name;
    }
  });
</script>
<button id="e" onclick={() => n++}>n {n}</button>
`,
  'src/routes/client-load/+page.js': `export function load() {
  if (typeof window !== 'undefined') {
    throw new Error('client load failed');
  }
  return {};
}
`,
  'src/routes/client-load/+page.svelte': '<p>client load</p>\n',
};

const launched = useChromium();

async function writeProject() {
  await writeFile(
    path.join(fx.project, 'package.json'),
    JSON.stringify({ name: 'my-app', private: true, type: 'module', scripts: { dev: 'vite dev' } }),
  );
  for (const [file, text] of Object.entries(FILES)) {
    await mkdir(path.dirname(path.join(fx.project, file)), { recursive: true });
    await writeFile(path.join(fx.project, file), text);
  }
  const modules = path.join(fx.project, 'node_modules');
  await mkdir(path.join(modules, '@sveltejs'), { recursive: true });
  await mkdir(path.join(modules, '.bin'));
  for (const name of ['@sveltejs/kit', '@sveltejs/vite-plugin-svelte', 'svelte', 'vite'])
    await symlink(await realpath(path.join(MODULES, name)), path.join(modules, name));
  // `vite dev` as npm runs it, from node_modules/.bin (its command line names the project).
  await symlink('../vite/bin/vite.js', path.join(modules, '.bin', 'vite'));
}

// Generous time: Vite's first dependency optimisation and a browser share two cores with others.
describe('SvelteKit through the page proxy, in Chromium', () => {
  it('takes an edit by HMR, reports client errors at their .svelte / load line and server load errors from the output', async () => {
    await writeProject();
    const { record } = await fx.startAndWaitForRecord();
    const client = await fx.connectClient(record);
    const run = structured<{ id: string; pageUrls: string[] }>(
      await call(client, 'scripts_run', {
        name: 'dev',
        waitFor: { url: true, timeoutMs: 120_000 },
      }),
    );
    expect(run.pageUrls).toHaveLength(1);
    const proxied = new URL(run.pageUrls[0]!);
    const errorsOf = () => pageErrors(client);

    const page = await launched.browser.newPage();
    const sockets: string[] = [];
    page.on('websocket', (ws) => sockets.push(ws.url()));
    // The first request has Vite optimise SvelteKit's dependencies: give it time.
    await page.goto(proxied.href, { timeout: 120_000 });
    await page.waitForFunction(`document.querySelector('#v')?.textContent === 'version 1'`, {
      timeout: 60_000,
    });
    await waitFor(() => sockets.length > 0, { what: 'the HMR socket', timeoutMs: 30_000 });
    expect(new URL(sockets[0]!).host).toBe(proxied.host);

    // An error thrown in an onclick handler, at its line in the component.
    await waitFor(
      async () => {
        await page.click('#b');
        return (await errorsOf()).find((e) => e.at?.startsWith('src/routes/+page.svelte:5:'));
      },
      { what: 'the click’s TypeError at src/routes/+page.svelte:5', timeoutMs: 30_000 },
    );
    const clicked = (await errorsOf()).find((e) => e.at?.startsWith('src/routes/+page.svelte:'));
    expect(clicked?.message).toMatch(/TypeError: Cannot read properties of undefined/);
    expect(clicked?.code).toBe('document.title = broken.name;');

    // An edit reaches the page in the same document (before leaving it for other routes).
    await page.evaluate('window.__sameDocument = true');
    await writeFile(path.join(fx.project, 'src', 'routes', '+page.svelte'), PAGE(2));
    await page.waitForFunction(`document.querySelector('#v')?.textContent === 'version 2'`, {
      timeout: 60_000,
    });
    expect(await page.evaluate('window.__sameDocument')).toBe(true);

    // An error in an $effect, at its line in the component.
    await page.goto(new URL('/effect', proxied).href, { timeout: 120_000 });
    const effectError = await waitFor(
      async () => {
        await page.click('#e');
        return (await errorsOf()).find((e) =>
          e.at?.startsWith('src/routes/effect/+page.svelte:6:'),
        );
      },
      { what: 'the $effect’s TypeError at src/routes/effect/+page.svelte:6', timeoutMs: 30_000 },
    );
    expect(effectError.message).toMatch(/TypeError: Cannot read properties of undefined/);
    expect(effectError.code).toBe('document.title = broken.name;');

    // A universal load that throws in the browser: SvelteKit catches it and prints it with
    // console.error; it is a page error once, at its line.
    await page.goto(new URL('/client-load', proxied).href, { timeout: 120_000 });
    const loadError = await waitFor(
      async () =>
        (await errorsOf()).find((e) => e.message.includes('client load failed') && e.at !== null),
      { what: 'the client load error, mapped', timeoutMs: 60_000 },
    );
    expect(loadError.at).toMatch(/^src\/routes\/client-load\/\+page\.js:3:\d+$/);
    expect(loadError.code).toBe("throw new Error('client load failed');");
    expect(loadError.count).toBe(1);
    expect((await errorsOf()).filter((e) => e.message.includes('client load failed'))).toHaveLength(
      1,
    );

    // A server load that throws: a 500 page, and the error in the dev server's output.
    const ssr = await page.goto(new URL('/ssr', proxied).href, { timeout: 120_000 });
    expect(ssr?.status()).toBe(500);
    const fromOutput = await waitFor(
      async () =>
        structured<{
          errors: Array<{ kind: string; message: string; file: string | null; line: number }>;
        }>(await call(client, 'errors_get', { run: run.id })).errors.find(
          (e) => e.kind === 'sveltekit',
        ),
      { what: 'the server load error in the output', timeoutMs: 30_000 },
    );
    expect(fromOutput).toMatchObject({
      message: "TypeError: Cannot read properties of undefined (reading 'name') (500 GET /ssr)",
      file: 'src/routes/ssr/+page.server.js',
      line: 3,
      column: 25,
    });
    // It is not a page error: the page got the 500 page, and threw nothing.
    expect((await errorsOf()).some((e) => e.at?.includes('+page.server.js'))).toBe(false);
    await page.close();

    // Stopped through the instance: nothing of the dev server stays behind.
    await stopRunLeavingNothing(client, run.id, fx.project);
  }, 300_000);
});
