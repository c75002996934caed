// The browser half on Next.js 16 (app router, Turbopack): a real `next dev` started by
// scripts_run in a temp project, a real headless Chromium opening its pages through the page
// proxy, and the Beacon tools reading what went wrong, at the project's own source lines.
import { execFileSync } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isProcessAlive } from '@mcp-beacon/runtime';
import { waitFor } from '@mcp-beacon/test-utils';
import { describe, expect, it } from 'vitest';
import { call, useCliFixture } from '../_cli-fixture.js';
import { pageErrors, structured, useChromium } from './_browser-fixture.js';

const MODULES = fileURLToPath(new URL('../../node_modules/', import.meta.url));
const ROOT_MODULES = fileURLToPath(new URL('../../../../node_modules/', import.meta.url));
const NEXT = path.join(MODULES, 'next', 'dist', 'bin', 'next');

// `next dev` on a free port; Turbopack is the default bundler of Next 16, webpack the other.
const fx = useCliFixture({
  dev: `node ${JSON.stringify(NEXT)} dev --port 0`,
  'dev:webpack': `node ${JSON.stringify(NEXT)} dev --webpack --port 0`,
});

// next, react and react-dom are this package's dev dependencies, linked into the temp project.
// Turbopack compiles nothing outside its root, and the links lead into the workspace's store,
// so the root is the file system's. The fixture is plain JSX: a .tsx file makes Next install
// @types/react from the registry.
const NEXT_CONFIG = `export default {
  turbopack: { root: '/' },
  agentRules: false,
  experimental: { agentUpgrade: false },
};
`;

const LAYOUT = `export default function RootLayout({ children }) {
  return (<html lang="en"><head><title>Beacon next app</title></head><body>{children}</body></html>);
}
`;

// The home page: a client component whose text an edit changes (Fast Refresh keeps the state).
const HOME = (version: number) => `'use client';
import { useState } from 'react';
export default function Home() {
  const [clicks, setClicks] = useState(0);
  return (<main><p id="text">version ${version}</p><button id="more" onClick={() => setClicks(clicks + 1)}>{clicks}</button></main>);
}
`;

// A client component that throws in an effect (in the browser only): React's error boundary
// catches it and Next reports it. The throw is on line 6, column 11.
const BROKEN = `'use client';
import { useEffect } from 'react';
export default function Broken() {
  useEffect(() => {
    const settings = undefined;
    throw new Error('client boom: ' + String(settings));
  }, []);
  return <p>broken</p>;
}
`;

// The same throw under an error boundary of its own (Next's error.jsx): React catches it and
// passes it to console.error only. The throw is on line 6, column 11.
const CAUGHT = BROKEN.replace('client boom', 'caught boom').replace('Broken', 'Caught');
const CAUGHT_BOUNDARY = `'use client';
export default function CaughtError({ error }) {
  return <p id="caught">caught: {error.message}</p>;
}
`;

// Text that differs between the server's render and the browser's: a hydration mismatch.
const MISMATCH = `'use client';
export default function Mismatch() {
  return <p id="where">{typeof window === 'undefined' ? 'rendered on the server' : 'rendered in the browser'}</p>;
}
`;

// A server component that throws: the error is in the dev server's output, not the page.
const SERVER = `export default async function ServerPage() {
  const where = 'on the server';
  throw new Error('server boom ' + where);
}
`;

const launched = useChromium();

async function writeProject() {
  const app = path.join(fx.project, 'app');
  await mkdir(path.join(app, 'broken'), { recursive: true });
  await mkdir(path.join(app, 'server'), { recursive: true });
  await mkdir(path.join(app, 'caught'), { recursive: true });
  await mkdir(path.join(app, 'mismatch'), { recursive: true });
  await mkdir(path.join(fx.project, 'node_modules'));
  for (const name of ['next', 'react', 'react-dom'])
    await symlink(
      realpathSync(path.join(MODULES, name)),
      path.join(fx.project, 'node_modules', name),
      'dir',
    );
  // TypeScript pages: with typescript and the React and Node types at hand, Next installs nothing.
  await mkdir(path.join(fx.project, 'node_modules', '@types'));
  for (const [name, from] of [
    ['typescript', ROOT_MODULES],
    ['@types/node', ROOT_MODULES],
    ['@types/react', MODULES],
  ] as const)
    await symlink(
      realpathSync(path.join(from, name)),
      path.join(fx.project, 'node_modules', name),
      'dir',
    );
  await writeFile(path.join(fx.project, 'next.config.mjs'), NEXT_CONFIG);
  await writeFile(path.join(app, 'layout.jsx'), LAYOUT);
  await writeFile(path.join(app, 'page.jsx'), HOME(1));
  await writeFile(path.join(app, 'broken', 'page.tsx'), BROKEN);
  await writeFile(path.join(app, 'server', 'page.tsx'), SERVER);
  await writeFile(path.join(app, 'caught', 'page.jsx'), CAUGHT);
  await writeFile(path.join(app, 'caught', 'error.jsx'), CAUGHT_BOUNDARY);
  await writeFile(path.join(app, 'mismatch', 'page.jsx'), MISMATCH);
}

/** Every process under `pid` (Next forks its server and Turbopack's workers). */
function processTree(pid: number): number[] {
  const parents = new Map<number, number[]>();
  for (const row of execFileSync('ps', ['-A', '-o', 'pid=,ppid='], { encoding: 'utf8' }).split(
    '\n',
  )) {
    const [child, parent] = row.trim().split(/\s+/).map(Number);
    if (child === undefined || parent === undefined || Number.isNaN(parent)) continue;
    parents.set(parent, [...(parents.get(parent) ?? []), child]);
  }
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) tree.push(...(parents.get(tree[i]!) ?? []));
  return tree;
}

/**
 * The scenario on `next dev` with `bundler`. Page errors are mapped to their source lines under
 * Turbopack; webpack's dev build evaluates each module from a string (eval-source-map), whose
 * frames (`webpack-internal:///...`) are not mapped here, so only that they are reported is
 * checked there.
 */
async function scenario(bundler: 'turbopack' | 'webpack') {
  const mapped = bundler === 'turbopack';
  await writeProject();
  const { record } = await fx.startAndWaitForRecord([], { NEXT_TELEMETRY_DISABLED: '1' });
  const client = await fx.connectClient(record);
  const run = structured<{ id: string; pid: number; urls: string[]; pageUrls: string[] }>(
    await call(client, 'scripts_run', {
      name: bundler === 'turbopack' ? 'dev' : 'dev:webpack',
      waitFor: { url: true },
    }),
  );
  expect(run.pageUrls).toHaveLength(1);
  const proxied = new URL(run.pageUrls[0]!);
  const errorsOf = () => pageErrors(client);

  // Hydration: the button's handler works only once React has hydrated the page.
  const page = await launched.browser.newPage();
  // Next's HMR socket, through the proxy: Turbopack's updates come once it has said hello.
  const hmr = new Promise<void>((resolve) => {
    page.on('websocket', (socket) => {
      if (socket.url().includes('/_next/')) socket.once('framereceived', () => resolve());
    });
  });
  await page.goto(proxied.href, { timeout: 180_000 });
  await page.click('#more', { timeout: 60_000 });
  await page.waitForFunction(`document.querySelector('#more')?.textContent === '1'`, null, {
    timeout: 60_000,
  });

  // Fast Refresh through the proxy's HMR socket: the edit reaches the open page, whose state
  // (one click) is kept, so the page was not reloaded.
  await hmr;
  await writeFile(path.join(fx.project, 'app', 'page.jsx'), HOME(2));
  await page.waitForFunction(`document.querySelector('#text')?.textContent === 'version 2'`, null, {
    timeout: 120_000,
  });
  expect(await page.textContent('#more')).toBe('1');

  // A client component's error, caught by React, at its line in app/broken/page.tsx, once.
  await page.goto(new URL('/broken', proxied).href, { timeout: 180_000 });
  const boom = await waitFor(
    async () =>
      (await errorsOf()).find(
        (e) => e.message.includes('client boom') && (e.at !== null || !mapped),
      ),
    { what: 'the client component’s error, mapped', timeoutMs: 120_000 },
  );
  if (mapped) {
    expect(boom.at).toBe('app/broken/page.tsx:6:11');
    expect(boom.code).toContain("throw new Error('client boom: '");
  }
  const same = (await errorsOf()).filter((e) => e.message.includes('client boom'));
  expect(same).toHaveLength(1);
  expect(same[0]?.count).toBe(1);

  // Caught by the page's own error boundary: only console.error hears of it.
  await page.goto(new URL('/caught', proxied).href, { timeout: 180_000 });
  await page.waitForSelector('#caught', { timeout: 120_000 });
  const caught = await waitFor(
    async () =>
      (await errorsOf()).find(
        (e) => e.message.includes('caught boom') && (e.at !== null || !mapped),
      ),
    { what: 'the caught error, mapped', timeoutMs: 120_000 },
  );
  // Worded as console.error heard it (window.onerror would say "Uncaught Error: ...").
  expect(caught.message).toBe('Error: caught boom: undefined');
  if (mapped) expect(caught.at).toBe('app/caught/page.jsx:6:11');
  expect(caught.count).toBe(1);

  // A hydration mismatch, which React recovers from and reports through console.error.
  await page.goto(new URL('/mismatch', proxied).href, { timeout: 180_000 });
  await page.waitForFunction(
    `document.querySelector('#where')?.textContent === 'rendered in the browser'`,
    null,
    { timeout: 120_000 },
  );
  const hydration = await waitFor(
    async () => (await errorsOf()).find((e) => /hydrat/i.test(e.message)),
    { what: 'the hydration mismatch', timeoutMs: 60_000 },
  );
  expect(hydration.kind).toBe('error');

  // A server component's error: in the run's output, at app/server/page.tsx:3.
  await page.goto(new URL('/server', proxied).href, { timeout: 180_000 });
  const server = await waitFor(
    async () => {
      const all = structured<{ errors: Array<Record<string, unknown>> }>(
        await call(client, 'errors_get'),
      );
      return all.errors.find((e) => String(e.message).includes('server boom'));
    },
    { what: 'the server component’s error in errors_get', timeoutMs: 120_000 },
  );
  expect(server).toMatchObject({ kind: 'next', file: 'app/server/page.tsx', line: 3, column: 9 });
  await page.close({ runBeforeUnload: false });

  // The instance's normal stop path ends next dev and every worker it started.
  const tree = processTree(run.pid);
  expect(tree.length).toBeGreaterThan(1);
  structured(await call(client, 'scripts_stop', { run: run.id }));
  await waitFor(() => tree.every((p) => !isProcessAlive(p)), {
    what: `every process of next dev (${tree.join(', ')}) to end`,
    timeoutMs: 30_000,
  });
}

describe('the browser half of a Next.js 16 project, in Chromium', () => {
  it('with Turbopack: hydrates and hot-reloads through the proxy, and reports client and server component errors at their source lines', async () => {
    await scenario('turbopack');
  }, 600_000);

  it('with webpack: hydrates and hot-reloads through the proxy, and reports client and server component errors', async () => {
    await scenario('webpack');
  }, 600_000);
});
