// The browser half's tools: what pages served through the page proxies reported (errors with
// their source lines, console, requests), the connected pages, and reload and eval in a page.

import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { compileGrep } from '../grep.js';
import { type BrowserPages, CHANNEL_BOUNDS } from './pages.js';
import type { PageError, PageRecord } from './store.js';

const result = <T extends Record<string, unknown>>(data: T) => ({
  content: [{ type: 'text' as const, text: JSON.stringify(data, null, 2) }],
  structuredContent: data,
});

const pageArg = z.string().min(1).max(64).optional();

/** A page error as the tools show it: where it is in the project first. */
export function describePageError(error: PageError) {
  const top = error.frames[0];
  return {
    kind: error.kind,
    message: error.message,
    at: top ? `${top.file}:${top.line}:${top.column}` : null,
    code: top?.code ?? null,
    frames: error.frames.map((f) => ({
      at: `${f.file}:${f.line}:${f.column}`,
      ...(f.code ? { code: f.code } : {}),
    })),
    count: error.count,
    firstSeen: error.firstSeen,
    lastSeen: error.lastSeen,
    pageUrl: error.pageUrl,
    stack: error.stack.split('\n').slice(0, 6).join('\n'),
  };
}

/** Every page's errors (or one page's), the most recently seen last. */
export function pageErrors(pages: BrowserPages, page?: string): PageError[] {
  const records =
    page === undefined
      ? pages.store.list()
      : [pages.store.get(page)].filter((p) => p !== undefined);
  return records
    .flatMap((p: PageRecord) => [...p.errors.values()])
    .sort((a, b) => a.lastSeen.localeCompare(b.lastSeen));
}

const pagesOf = (pages: BrowserPages, page?: string) =>
  page === undefined ? pages.store.list() : [pages.store.get(page)].filter((p) => p !== undefined);

/** Registers `browser_pages`, `browser_errors`, `browser_console`, `browser_requests`, `browser_reload` and `browser_eval`. */
export function registerBrowserTools(server: McpServer, pages: BrowserPages): void {
  server.registerTool(
    'browser_pages',
    {
      title: 'Connected pages',
      description:
        "Browser pages open on this project's dev servers through Beacon's page proxy (the proxied URLs scripts_status lists), with what each reported.",
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    async () =>
      result({
        pages: pages.connected().map((p) => ({
          page: p.id,
          url: p.url,
          title: p.title,
          errors: p.errors.size,
          consoleLines: p.console.length,
          requests: p.requests.length,
          loads: p.loads.slice(-5),
          lastHeard: new Date(p.lastHeard).toISOString(),
        })),
      }),
  );

  server.registerTool(
    'browser_errors',
    {
      title: 'Errors in the page',
      description:
        'Uncaught errors, unhandled rejections and failed resource loads in pages served through the page proxy, deduplicated with counts, each at its project source line (mapped through the dev server source maps).',
      inputSchema: {
        page: pageArg.describe('Only this page (default: every page)'),
        limit: z.number().int().min(1).max(100).optional().describe('Newest N (default 20)'),
      },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    async ({ page, limit }) => {
      const errors = pageErrors(pages, page);
      return result({
        errors: errors.slice(-(limit ?? 20)).map(describePageError),
        total: errors.length,
      });
    },
  );

  server.registerTool(
    'browser_console',
    {
      title: 'Page console',
      description:
        'console.error / console.warn / console.log lines of pages served through the page proxy (log lines at most 10 a second per page), oldest first.',
      inputSchema: {
        level: z.enum(['error', 'warn', 'log']).optional().describe('Only this level'),
        pattern: z
          .string()
          .min(1)
          .max(200)
          .optional()
          .describe('Case-insensitive RE2 regular expression lines must match'),
        page: pageArg.describe('Only this page'),
        limit: z.number().int().min(1).max(500).optional().describe('Newest N (default 50)'),
      },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    async ({ level, pattern, page, limit }) => {
      const matcher = pattern === undefined ? undefined : compileGrep(pattern);
      const lines = pagesOf(pages, page)
        .flatMap((p) => p.console)
        .filter(
          (l) =>
            (level === undefined || l.level === level) && (!matcher || matcher.test(l.message)),
        )
        .sort((a, b) => a.at.localeCompare(b.at));
      return result({ lines: lines.slice(-(limit ?? 50)), total: lines.length });
    },
  );

  server.registerTool(
    'browser_requests',
    {
      title: 'Page requests',
      description:
        'fetch and XMLHttpRequest calls of pages served through the page proxy: method, URL, status (0 for a network or CORS error) and duration; failed ones only unless `all`.',
      inputSchema: {
        all: z
          .boolean()
          .optional()
          .describe('Every request, not only failed ones (status >= 400 or 0)'),
        page: pageArg.describe('Only this page'),
        limit: z.number().int().min(1).max(300).optional().describe('Newest N (default 50)'),
      },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    async ({ all, page, limit }) => {
      const requests = pagesOf(pages, page)
        .flatMap((p) => p.requests)
        .filter((r) => all === true || r.status === 0 || r.status >= 400)
        .sort((a, b) => a.at.localeCompare(b.at));
      return result({ requests: requests.slice(-(limit ?? 50)), total: requests.length });
    },
  );

  server.registerTool(
    'browser_reload',
    {
      title: 'Reload pages',
      description: 'Reloads a connected page (default: every connected page).',
      inputSchema: { page: pageArg.describe('The page to reload') },
      annotations: { destructiveHint: false, openWorldHint: false },
    },
    async ({ page }) => result({ reloaded: pages.reload(page) }),
  );

  server.registerTool(
    'browser_eval',
    {
      title: 'Evaluate in the page',
      description: `Evaluates a JavaScript expression in a connected page (default: the one heard from last) and returns its value as JSON (promises awaited; at most ${CHANNEL_BOUNDS.evalResultChars / 1024} KiB) or the error it threw. Bounded in time (default ${CHANNEL_BOUNDS.evalDefaultMs / 1000} s): a page stuck in a loop is reported, not waited for.`,
      inputSchema: {
        expression: z
          .string()
          .min(1)
          .max(10_000)
          .describe('A JavaScript expression, e.g. document.title'),
        page: pageArg.describe('The page (browser_pages lists them)'),
        timeoutMs: z
          .number()
          .int()
          .min(100)
          .max(CHANNEL_BOUNDS.evalMaxMs)
          .optional()
          .describe(`Give up after this many ms (default ${CHANNEL_BOUNDS.evalDefaultMs})`),
      },
      annotations: { destructiveHint: true, openWorldHint: false },
    },
    async ({ expression, page, timeoutMs }) => {
      const answer = await pages.evaluate(expression, {
        ...(page === undefined ? {} : { page }),
        ...(timeoutMs === undefined ? {} : { timeoutMs }),
      });
      return answer.ok
        ? result({ page: answer.page, value: answer.value, truncated: answer.truncated })
        : { ...result({ page: answer.page, error: answer.error }), isError: true };
    },
  );
}
