import { waitFor } from '@mcp-beacon/test-utils';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { useChromium } from './_browser-fixture.js';
import { pageScript } from './page-script.js';

const launched = useChromium();

type Event = Record<string, unknown> & { type: string; message?: string; stack?: string };

/** A page at http://beacon.test/ with the page script; every event it reports lands in `events`. */
async function openPage(): Promise<{ page: Page; events: Event[] }> {
  const page = await launched.browser.newPage();
  const events: Event[] = [];
  await page.route('http://beacon.test/**', async (route) => {
    const url = new URL(route.request().url());
    if (url.pathname === '/__beacon/events') {
      events.push(...(route.request().postDataJSON() as { events: Event[] }).events);
      await route.fulfill({ status: 204 });
    } else if (url.pathname.startsWith('/__beacon/'))
      await route.fulfill({ status: 200, contentType: 'application/json', body: '{}' });
    else
      await route.fulfill({
        status: 200,
        contentType: 'text/html; charset=utf-8',
        body: `<!doctype html><html><head><script>${pageScript('k'.repeat(32))}</script></head><body>page</body></html>`,
      });
  });
  await page.goto('http://beacon.test/');
  return { page, events };
}

/** Waits for the `console.warn('done')` the page ends with, then returns the error events. */
async function errorsUntilDone(events: Event[]) {
  await waitFor(() => events.some((e) => e.type === 'console' && e.message === 'done'), {
    what: 'the page’s last event',
    timeoutMs: 30_000,
  });
  return events.filter((e) => e.type === 'error');
}

describe('the page script and console.error', () => {
  it('reports an Error passed to console.error once, however many ways it comes', async () => {
    const { page, events } = await openPage();
    await page.evaluate(() => {
      // The page's reportError (this package's types have no DOM library).
      const reportError = (globalThis as unknown as { reportError(e: unknown): void }).reportError;
      const caught = new Error('caught by a boundary');
      console.error('The above error occurred in <Broken>', caught);
      console.error(caught);
      reportError(caught);
      const uncaught = new TypeError('thrown and logged');
      reportError(uncaught);
      console.error(uncaught);
      console.warn('done');
    });
    const errors = await errorsUntilDone(events);
    expect(errors.map((e) => e.message)).toEqual([
      'Error: caught by a boundary',
      // The uncaught one as window.onerror words it (reportError goes there first).
      'Uncaught TypeError: thrown and logged',
    ]);
    expect(errors[0]?.stack).toMatch(/caught by a boundary\n\s+at /);
    await page.close();
  });

  it('reports React’s hydration warnings that carry no Error', async () => {
    const { page, events } = await openPage();
    await page.evaluate(() => {
      console.error(
        "A tree hydrated but some attributes of the server rendered HTML didn't match the client properties.%s",
        '\n  <p className="x">',
      );
      console.error('nothing about hydration here');
      console.warn('done');
    });
    const errors = await errorsUntilDone(events);
    expect(errors.map((e) => e.message)).toEqual([
      "A tree hydrated but some attributes of the server rendered HTML didn't match the client properties.%s",
    ]);
    await page.close();
  });

  it('stays within bounds and never throws into a hostile page', async () => {
    const { page, events } = await openPage();
    const answers = await page.evaluate(() => {
      const trap = () => {
        throw new Error('trap');
      };
      const hostile = new Proxy({}, { get: trap, getPrototypeOf: trap, has: trap, ownKeys: trap });
      const getters = {
        get message() {
          return trap();
        },
        get stack() {
          return trap();
        },
      };
      const results = [
        console.error(hostile),
        console.error(getters),
        console.error(new Error('x'.repeat(1_000_000))),
        console.error(...Array.from({ length: 20 }, (_, i) => new Error(`many ${i}`))),
        console.error(Object.assign(Object.create(null), { message: 'bare', stack: 'bare\n at' })),
      ];
      console.warn('done');
      return results.map(String);
    });
    expect(answers).toEqual(Array(5).fill('undefined'));
    const errors = await errorsUntilDone(events);
    const long = errors.find((e) => e.message?.startsWith('Error: xxx'));
    expect(long?.message?.length).toBeLessThanOrEqual(2_001);
    expect(long?.stack?.length).toBeLessThanOrEqual(4_001);
    expect(errors.filter((e) => e.message?.startsWith('Error: many '))).toHaveLength(8);
    expect(errors.some((e) => e.message === 'Error: bare')).toBe(true);
    await page.close();
  });
});
