// The browser half's tools: what pages served through the page proxies reported (errors with
// their source lines, console, requests), the connected pages, and reload and eval in a page.

import type { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { portable } from '../_portable.js';
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

/** Every page, or the one named (when it is known). */
const pagesOf = (pages: BrowserPages, page?: string) =>
  page === undefined ? pages.store.list() : [pages.store.get(page)].filter((p) => p !== undefined);

/** Every page's errors (or one page's), the most recently seen last. */
export function pageErrors(pages: BrowserPages, page?: string): PageError[] {
  return pagesOf(pages, page)
    .flatMap((p: PageRecord) => [...p.errors.values()])
    .sort((a, b) => a.lastSeen.localeCompare(b.lastSeen));
}

/**
 * Registers `browser_report` (errors, console, requests or pages, by `what`), `browser_reload`
 * and `browser_eval`: three tools, since every byte of a tool list is paid on every model turn.
 */
export function registerBrowserTools(server: McpServer, pages: BrowserPages): void {
  server.registerTool(
    'browser_report',
    {
      description:
        'What pages at pageUrls reported: errors at their source line, console lines, failed requests, or the pages.',
      inputSchema: portable({
        what: z
          .enum(['errors', 'console', 'requests', 'pages'])
          .optional()
          .describe('Default errors'),
        page: pageArg.describe('Page id'),
        level: z.enum(['error', 'warn', 'log']).optional().describe('console: only this level'),
        pattern: z.string().min(1).max(200).optional().describe('console: RE2 pattern'),
        all: z.boolean().optional().describe('requests: all, not only failed'),
        limit: z.number().int().min(1).max(500).optional().describe('Newest N (default 20)'),
      }),
      annotations: { readOnlyHint: true },
    },
    async ({ what, page, level, pattern, all, limit }) => {
      const newest = <T>(list: T[]) => list.slice(-(limit ?? 20));
      switch (what ?? 'errors') {
        case 'errors': {
          const errors = pageErrors(pages, page);
          return result({ errors: newest(errors).map(describePageError), total: errors.length });
        }
        case 'console': {
          const matcher = pattern === undefined ? undefined : compileGrep(pattern);
          const lines = pagesOf(pages, page)
            .flatMap((p) => p.console)
            .filter(
              (l) =>
                (level === undefined || l.level === level) && (!matcher || matcher.test(l.message)),
            )
            .sort((a, b) => a.at.localeCompare(b.at));
          return result({ lines: newest(lines), total: lines.length });
        }
        case 'requests': {
          const requests = pagesOf(pages, page)
            .flatMap((p) => p.requests)
            .filter((r) => all === true || r.status === 0 || r.status >= 400)
            .sort((a, b) => a.at.localeCompare(b.at));
          return result({ requests: newest(requests), total: requests.length });
        }
        default:
          return result({
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
          });
      }
    },
  );

  server.registerTool(
    'browser_reload',
    {
      description: 'Reloads a page (default: every connected page).',
      inputSchema: portable({ page: pageArg.describe('Page id') }),
      annotations: { destructiveHint: false },
    },
    async ({ page }) => result({ reloaded: pages.reload(page) }),
  );

  server.registerTool(
    'browser_eval',
    {
      description:
        'Evaluates JavaScript in a page (default: the latest); answers its value as JSON, or its error.',
      inputSchema: portable({
        expression: z.string().min(1).max(10_000).describe('e.g. document.title'),
        page: pageArg.describe('Page id'),
        timeoutMs: z
          .number()
          .int()
          .min(100)
          .max(CHANNEL_BOUNDS.evalMaxMs)
          .optional()
          .describe(`Bound in ms (default ${CHANNEL_BOUNDS.evalDefaultMs})`),
      }),
      annotations: { destructiveHint: true },
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
