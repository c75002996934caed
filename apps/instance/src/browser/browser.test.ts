import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from '@mcp-beacon/test-utils';
import { describe, expect, it } from 'vitest';
import { call, useCliFixture } from '../_cli-fixture.js';
import { type ErrorView, pageErrors, structured, useChromium } from './_browser-fixture.js';

const VITE = fileURLToPath(new URL('../../node_modules/vite/bin/vite.js', import.meta.url));

const fx = useCliFixture({ dev: `node ${JSON.stringify(VITE)} --host 127.0.0.1 --port 0` });

// The line `broken!.name` is on, and its column, in src/main.ts below.
const MAIN = (version: number) => `// the app, version ${version}
document.title = 'Beacon test app';
const app = document.querySelector('#app') as HTMLElement;
app.textContent = 'version ${version}';
type Shape = { name: string };
setTimeout(() => {
  const broken = undefined as Shape | undefined;
  app.dataset.name = broken!.name${version === 1 ? '' : '.toUpperCase()'};
}, 20);
Promise.reject(new Error('rejected in version ${version}'));
fetch('/api/boom').then((r) => r.text());
console.warn('warned by version ${version}');
`;

const VITE_CONFIG = `export default {
  plugins: [{
    name: 'test-routes',
    configureServer(server) {
      server.middlewares.use('/api/boom', (_req, res) => { res.statusCode = 500; res.end('boom'); });
      server.middlewares.use('/csp.html', (_req, res) => {
        res.setHeader('content-type', 'text/html');
        res.setHeader('content-security-policy', "default-src 'none'; script-src 'nonce-abc'");
        res.end('<!doctype html><html><head><title>csp</title></head><body><script nonce="abc">throw new Error("thrown under a CSP")</script></body></html>');
      });
    },
  }],
};
`;

const launched = useChromium();

async function startApp() {
  await mkdir(path.join(fx.project, 'src'), { recursive: true });
  await writeFile(
    path.join(fx.project, 'index.html'),
    '<!doctype html><html><head><title>app</title></head><body><div id="app"></div><script type="module" src="/src/main.ts"></script></body></html>',
  );
  await writeFile(path.join(fx.project, 'src', 'main.ts'), MAIN(1));
  await writeFile(path.join(fx.project, 'vite.config.mjs'), VITE_CONFIG);
  const { record } = await fx.startAndWaitForRecord();
  const client = await fx.connectClient(record);
  const run = structured<{ urls: string[]; pageUrls: string[] }>(
    await call(client, 'scripts_run', { name: 'dev', waitFor: { url: true } }),
  );
  expect(run.pageUrls).toHaveLength(1);
  const direct = new URL(run.urls[0]!);
  const proxied = new URL(run.pageUrls[0]!);
  expect(proxied.hostname).toBe('127.0.0.1');
  expect(proxied.port).not.toBe(direct.port);
  return { client, direct, proxied };
}

const errorsOf = pageErrors;

describe('the browser half of a Vite project, in Chromium', () => {
  it('reports page errors at their source line, rejections, failed fetches and console; eval; HMR through the proxy', async () => {
    const { client, proxied } = await startApp();
    const page = await launched.browser.newPage();
    await page.goto(proxied.href);
    expect(await page.title()).toBe('Beacon test app');

    // The TypeError, at its line and column in src/main.ts (line 8, `broken!.name`).
    const typeError = await waitFor(
      async () => (await errorsOf(client)).find((e) => e.kind === 'error' && e.at !== null),
      { what: 'the mapped TypeError' },
    );
    expect(typeError.message).toMatch(/TypeError/);
    expect(typeError.at).toMatch(/^src\/main\.ts:8:\d+$/);
    expect(typeError.code).toContain('broken!.name');
    const rejection = (await errorsOf(client)).find((e) => e.kind === 'rejection');
    expect(rejection?.message).toBe('Error: rejected in version 1');
    expect(rejection?.at).toMatch(/^src\/main\.ts:10:\d+$/);

    const requests = await waitFor(
      async () => {
        const r = structured<{ requests: Array<{ url: string; status: number; method: string }> }>(
          await call(client, 'browser_report', { what: 'requests' }),
        ).requests;
        return r.length > 0 ? r : undefined;
      },
      { what: 'the failed fetch' },
    );
    expect(requests[0]).toMatchObject({ method: 'GET', status: 500 });
    expect(requests[0]?.url).toMatch(/\/api\/boom$/);
    const consoleLines = structured<{ lines: Array<{ level: string; message: string }> }>(
      await call(client, 'browser_report', { what: 'console', level: 'warn' }),
    ).lines;
    expect(consoleLines).toEqual([expect.objectContaining({ message: 'warned by version 1' })]);

    const title = structured<{ value: string }>(
      await call(client, 'browser_eval', { expression: 'document.title' }),
    );
    expect(JSON.parse(title.value)).toBe('Beacon test app');
    const awaited = structured<{ value: string }>(
      await call(client, 'browser_eval', { expression: 'Promise.resolve(6 * 7)' }),
    );
    expect(awaited.value).toBe('42');
    const thrown = await call(client, 'browser_eval', { expression: 'nope.nope' });
    expect(thrown.isError).toBe(true);
    expect(JSON.stringify(thrown.structuredContent)).toMatch(/ReferenceError/);

    // A reload asked through the tool: the page loads again, as a reload.
    const reloaded = structured<{ reloaded: string[] }>(await call(client, 'browser_reload'));
    expect(reloaded.reloaded).toHaveLength(1);
    await waitFor(
      async () =>
        structured<{ pages: Array<{ loads: Array<{ navigation: string }> }> }>(
          await call(client, 'browser_report', { what: 'pages' }),
        ).pages.some((p) => p.loads.some((l) => l.navigation === 'reload')),
      { what: 'the reload reported' },
    );

    // An edit: Vite's HMR socket (through the proxy) brings version 2, whose errors are reported.
    await writeFile(path.join(fx.project, 'src', 'main.ts'), MAIN(2));
    await page.waitForFunction(`document.querySelector('#app')?.textContent === 'version 2'`, {
      timeout: 15_000,
    });
    await waitFor(
      async () =>
        (await errorsOf(client)).some((e) => e.message === 'Error: rejected in version 2'),
      { what: 'the new version’s rejection' },
    );
    const pages = structured<{ pages: Array<{ url: string }> }>(
      await call(client, 'browser_report', { what: 'pages' }),
    ).pages;
    expect(pages.length).toBeGreaterThanOrEqual(1);

    // errors_get answers "what is broken" with the page's errors beside the build's.
    const all = structured<{ pageErrors?: ErrorView[] }>(await call(client, 'errors_get'));
    expect(all.pageErrors?.some((e) => e.at?.startsWith('src/main.ts:8:'))).toBe(true);

    // A loop in eval is bounded: the tool answers, the instance stays responsive.
    const started = Date.now();
    const loop = await call(client, 'browser_eval', {
      expression: 'while (true) {}',
      timeoutMs: 1_000,
    });
    expect(loop.isError).toBe(true);
    expect(JSON.stringify(loop.structuredContent)).toMatch(/did not answer within 1000 ms/);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect((await call(client, 'project_info')).isError).toBeFalsy();
    await page.close({ runBeforeUnload: false });
  });

  it('keeps a page’s CSP and still reports it, and takes no events from elsewhere', async () => {
    const { client, direct, proxied } = await startApp();
    const page = await launched.browser.newPage();
    const response = await page.goto(new URL('/csp.html', proxied).href);
    const policy = response?.headers()['content-security-policy'] ?? '';
    expect(policy).toMatch(
      /^default-src 'none'; script-src 'nonce-abc' 'nonce-[^']+'; connect-src 'self'$/,
    );
    const thrown = await waitFor(
      async () => (await errorsOf(client)).find((e) => e.message.includes('thrown under a CSP')),
      { what: 'the error under the CSP' },
    );
    expect(thrown.count).toBe(1);

    // The secret is in the script any proxied page loads; it is not enough from another origin.
    const script = await (await fetch(new URL('/__beacon/page.js', proxied))).text();
    const key = /const KEY = "([^"]+)"/.exec(script)?.[1];
    expect(key).toBeDefined();
    const post = (origin: string, withKey: string | undefined) =>
      fetch(new URL('/__beacon/events', proxied), {
        method: 'POST',
        headers: {
          origin,
          'content-type': 'application/json',
          ...(withKey ? { 'x-beacon-key': withKey } : {}),
        },
        body: JSON.stringify({
          page: 'intruder1',
          url: 'http://evil.example/',
          events: [{ type: 'error', message: 'forged' }],
        }),
      });
    expect((await post('http://evil.example', key)).status).toBe(403);
    expect((await post(direct.origin, key)).status).toBe(403);
    expect((await post(proxied.origin, undefined)).status).toBe(403);
    expect((await post(proxied.origin, 'wrong')).status).toBe(403);
    // A page served by the dev server itself, not through the proxy, cannot post either.
    const outside = await launched.browser.newPage();
    await outside.goto(direct.href);
    const status = await outside.evaluate(
      async ([target, k]) =>
        fetch(target!, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-beacon-key': k! },
          body: JSON.stringify({
            page: 'intruder2',
            events: [{ type: 'error', message: 'forged' }],
          }),
        }).then(
          (r) => r.status,
          () => 'blocked',
        ),
      [new URL('/__beacon/events', proxied).href, key],
    );
    expect(status).not.toBe(204);
    expect((await errorsOf(client)).some((e) => e.message === 'forged')).toBe(false);
    // And a wrong Host is refused (DNS rebinding).
    const rebound = await new Promise<number>((resolve, reject) => {
      const req = request(proxied, { headers: { host: 'evil.example' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    expect(rebound).toBe(421);
    await page.close();
    await outside.close();
    expect(await readFile(path.join(fx.project, 'src', 'main.ts'), 'utf8')).toContain('version 1');
  });
});
