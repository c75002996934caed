// What the browser half's tests share: a real Chromium (Debian's, or BEACON_CHROMIUM) launched
// once per test file, the shapes the tests read from the tools, and the steps the dev-server
// tests repeat.

import { existsSync } from 'node:fs';
import { processesWith, waitFor } from '@mcp-beacon/test-utils';
import type { CallToolResult } from '@modelcontextprotocol/client';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, expect } from 'vitest';
import { call } from '../_cli-fixture.js';

/** The client `call` takes: the test fixture's. */
type Client = Parameters<typeof call>[0];

const CHROMIUM = process.env.BEACON_CHROMIUM ?? '/usr/bin/chromium';

/** Flags for a headless Chromium in a container, without its background traffic. */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** A Chromium launched before the file's tests and closed after them. */
export function useChromium(): { readonly browser: Browser } {
  let browser: Browser | undefined;
  beforeAll(async () => {
    if (!existsSync(CHROMIUM))
      throw new Error(`no Chromium at ${CHROMIUM} (apt-get install chromium)`);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });
  afterAll(async () => {
    await browser?.close();
  });
  return {
    get browser() {
      if (!browser) throw new Error('Chromium did not start');
      return browser;
    },
  };
}

/** A tool result's structured content, once it is known not to be an error. */
export const structured = <T>(r: CallToolResult) => {
  expect(r.isError, JSON.stringify(r.content)).toBeFalsy();
  return r.structuredContent as T;
};

/** A page error as `browser_report` lists it. */
export interface ErrorView {
  kind: string;
  message: string;
  at: string | null;
  code: string | null;
  count: number;
}

/** The page errors `browser_report` holds now (at most 100). */
export const pageErrors = async (client: Client) =>
  structured<{ errors: ErrorView[] }>(
    await call(client, 'browser_report', { what: 'errors', limit: 100 }),
  ).errors;

/** Stops `run` through the instance and waits until nothing started in `project` is left. */
export async function stopRunLeavingNothing(client: Client, run: string, project: string) {
  const stopped = await call(client, 'scripts_stop', { run });
  expect(stopped.isError).toBeFalsy();
  await waitFor(() => processesWith(project).length === 0, {
    what: 'the dev server gone',
    timeoutMs: 30_000,
  });
}
