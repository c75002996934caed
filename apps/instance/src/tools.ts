// Over 300 lines on purpose: the instance's tool list, one registration per tool with its
// schema and description, reads best as one table; each tool's work is in the runner
// (`scripts.ts`), the ready-wait (`ready.ts`), the grep (`grep.ts`) or `diagnostics.ts`.
import type { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { portable } from './_portable.js';
import type { BrowserPages } from './browser/pages.js';
import { describePageError, pageErrors } from './browser/tools.js';
import { findDiagnostics } from './diagnostics.js';
import { compileGrep, createTimeBudget, filterLines } from './grep.js';
import { gitBranch, readProject } from './project.js';
import { waitUntilReady } from './ready.js';
import type { RunInfo, ScriptRunner } from './scripts.js';

/** What the tools need from the running instance. */
export interface ToolContext {
  cwd: string;
  name: string;
  runner: ScriptRunner;
  /** The URL the instance serves; filled once it listens. */
  url: () => string | undefined;
  started: string;
  /** The browser half (page proxies and what pages report), when there is one. */
  pages?: BrowserPages;
}

function result<T extends Record<string, unknown>>(data: T) {
  return {
    content: [{ type: 'text' as const, text: JSON.stringify(data, null, 2) }],
    structuredContent: data,
  };
}

/** Ready-waits: bounds of `waitFor.timeoutMs`. */
export const WAIT_DEFAULT_MS = 30_000;
export const WAIT_MAX_MS = 300_000;

/** Bounds of `logs_search` and `errors_get` results. */
const SEARCH_MAX = 1_000;
const ERRORS_MAX = 500;

const runningUrls = (runs: RunInfo[], field: 'urls' | 'pageUrls' = 'urls') => [
  ...new Set(runs.filter((r) => r.state === 'running').flatMap((r) => r[field])),
];

/**
 * Registers the project tools on `server`: `project_info`, `scripts_list`, `scripts_run`,
 * `scripts_stop`, `scripts_restart`, `scripts_status`, `errors_get`, `logs_search`, `logs_get`.
 */
export function registerTools(server: McpServer, ctx: ToolContext): void {
  server.registerTool(
    'project_info',
    {
      description: 'Name, folder, package manager, scripts, git branch, and URLs its runs printed.',
      annotations: { readOnlyHint: true },
    },
    async () => {
      const [project, branch] = await Promise.all([
        readProject(ctx.cwd, ctx.name),
        gitBranch(ctx.cwd),
      ]);
      return result({
        name: project.name,
        path: project.path,
        packageManager: project.packageManager,
        hasPackageJson: project.hasPackageJson,
        scriptsCount: Object.keys(project.scripts).length,
        gitBranch: branch ?? null,
        url: ctx.url() ?? null,
        urls: runningUrls(ctx.runner.list()),
        pageUrls: runningUrls(ctx.runner.list(), 'pageUrls'),
        pid: process.pid,
        started: ctx.started,
      });
    },
  );

  server.registerTool(
    'scripts_list',
    {
      description: "The project's package.json scripts with their commands.",
      annotations: { readOnlyHint: true },
    },
    async () => {
      const project = await readProject(ctx.cwd, ctx.name);
      return result({
        packageManager: project.packageManager,
        scripts: Object.entries(project.scripts).map(([name, command]) => ({ name, command })),
      });
    },
  );

  server.registerTool(
    'scripts_run',
    {
      description:
        'Starts a package.json script (argv, no shell) unless it runs. waitFor: answer once output matches `pattern`, a local URL is printed (`url`), it exits, or `timeoutMs`. Open pageUrls so page errors reach browser_report.',
      inputSchema: portable({
        name: z.string().min(1).max(256).describe('Script name in package.json'),
        args: z.array(z.string().max(4096)).max(64).optional().describe('Extra arguments'),
        waitFor: z
          .object({
            pattern: z.string().min(1).max(200).optional().describe('RE2 regex (case-insensitive)'),
            url: z.boolean().optional().describe('Once it prints a local URL'),
            timeoutMs: z
              .number()
              .int()
              .min(1)
              .max(WAIT_MAX_MS)
              .optional()
              .describe(`Default ${WAIT_DEFAULT_MS}`),
          })
          .optional()
          .describe('Answer once it is ready'),
      }),
      annotations: { destructiveHint: false },
    },
    async ({ name, args, waitFor }, extra) => {
      const matcher = waitFor?.pattern === undefined ? undefined : compileGrep(waitFor.pattern);
      const { run, alreadyRunning } = await ctx.runner.run(name, args ?? []);
      if (waitFor === undefined) return result({ ...run, alreadyRunning });
      const timeoutMs = waitFor.timeoutMs ?? WAIT_DEFAULT_MS;
      const progressToken = extra.mcpReq._meta?.progressToken;
      const { waited, line } = await waitUntilReady(ctx.runner, run.id, {
        ...(matcher === undefined ? {} : { pattern: matcher }),
        url: waitFor.url === true,
        timeoutMs,
        signal: extra.mcpReq.signal,
        ...(progressToken === undefined
          ? {}
          : {
              onProgress: (elapsed: number, lines: number) => {
                void extra.mcpReq
                  .notify({
                    method: 'notifications/progress',
                    params: {
                      progressToken,
                      progress: elapsed,
                      total: timeoutMs,
                      message: `waiting for ${run.script} (${run.id}): ${lines} new lines so far`,
                    },
                  })
                  .catch(() => undefined);
              },
            }),
        includeEarlierLines: !alreadyRunning,
      });
      // A page proxy starts as its URL is printed; the answer lists it once it listens.
      await ctx.pages?.ready();
      const now = ctx.runner.watch(run.id).run;
      return result({ ...now, alreadyRunning, waited, line, urls: now.urls });
    },
  );

  server.registerTool(
    'scripts_stop',
    {
      description: "Stops a run's process group (SIGTERM, then SIGKILL) and says how it ended.",
      inputSchema: portable({ run: z.string().min(1).describe('Run id') }),
      annotations: { destructiveHint: true, idempotentHint: true },
    },
    async ({ run }, extra) => result({ ...(await ctx.runner.stop(run, extra.mcpReq.signal)) }),
  );

  server.registerTool(
    'scripts_status',
    {
      description: 'Every kept run: state, pid, exit code, times, urls and pageUrls.',
      annotations: { readOnlyHint: true },
    },
    async () => result({ runs: ctx.runner.list() }),
  );

  server.registerTool(
    'scripts_restart',
    {
      description: 'Stops a run if running and starts it again.',
      inputSchema: portable({ run: z.string().min(1).describe('Run id') }),
      annotations: { destructiveHint: true },
    },
    async ({ run }, extra) => {
      const { run: next, previous } = await ctx.runner.restart(run, extra.mcpReq.signal);
      return result({
        ...next,
        previous: { id: previous.id, state: previous.state, exitCode: previous.exitCode },
      });
    },
  );

  server.registerTool(
    'errors_get',
    {
      description:
        'Errors in run output (TypeScript, ESLint, build, test, Node) and pages, newest last, at file:line:column.',
      inputSchema: portable({
        run: z.string().min(1).optional().describe('Only this run'),
        limit: z.number().int().min(1).max(ERRORS_MAX).optional().describe('Newest N (default 50)'),
      }),
      annotations: { readOnlyHint: true },
    },
    async ({ run, limit }) => {
      const runs = ctx.runner.runLines(run === undefined ? undefined : [run]);
      // One budget for the whole call, as grep has: its slices span every run's scan.
      const budget = createTimeBudget('errors_get');
      const errors = [];
      for (const { run: info, lines } of runs)
        for (const d of await findDiagnostics(lines, budget))
          errors.push({ run: info.id, script: info.script, ...d });
      // What broke in the page too, at its source line, so one call answers "what is broken".
      const page =
        run === undefined && ctx.pages
          ? pageErrors(ctx.pages).map((e) => {
              const d = describePageError(e);
              return { run: 'browser', script: e.pageUrl, ...d };
            })
          : [];
      return result({
        errors: errors.slice(-(limit ?? 50)),
        total: errors.length,
        ...(page.length > 0 ? { pageErrors: page.slice(-(limit ?? 50)) } : {}),
      });
    },
  );

  server.registerTool(
    'logs_search',
    {
      description: 'Output lines of the kept runs matching a pattern, oldest first.',
      inputSchema: portable({
        pattern: z.string().min(1).max(200).describe('RE2 regex, case-insensitive'),
        runs: z.array(z.string().min(1)).max(64).optional().describe('Only these runs'),
        limit: z
          .number()
          .int()
          .min(1)
          .max(SEARCH_MAX)
          .optional()
          .describe('Newest N (default 100)'),
      }),
      annotations: { readOnlyHint: true },
    },
    async ({ pattern, runs, limit }) => {
      const matcher = compileGrep(pattern);
      const all = ctx.runner
        .runLines(runs)
        .flatMap(({ run, lines }) => lines.map((line) => ({ run: run.id, ...line })));
      const hits = await filterLines(all, (hit) => hit.text, matcher, { limit: limit ?? 100 });
      return result({ hits, searchedLines: all.length });
    },
  );

  server.registerTool(
    'logs_get',
    {
      description:
        'Output lines of a run (default: the newest), oldest first; pass `next` back as `since` for newer ones.',
      inputSchema: portable({
        run: z.string().min(1).optional().describe('Run id'),
        grep: z
          .string()
          .min(1)
          .max(200)
          .optional()
          .describe('RE2 regex lines must match (case-insensitive)'),
        limit: z.number().int().min(1).max(2000).optional().describe('Newest N (default 200)'),
        since: z.number().int().min(0).optional().describe('Only lines after this seq'),
      }),
      annotations: { readOnlyHint: true },
    },
    async ({ run, grep, limit, since }) => {
      const matcher = grep === undefined ? undefined : compileGrep(grep);
      const logs = ctx.runner.logs({
        ...(run === undefined ? {} : { run }),
        ...(since === undefined ? {} : { since }),
        ...(matcher === undefined ? { limit: limit ?? 200 } : {}),
      });
      if (matcher !== undefined)
        logs.lines = await filterLines(logs.lines, (line) => line.text, matcher, {
          limit: limit ?? 200,
        });
      const last = logs.lines.at(-1)?.seq ?? since ?? 0;
      return result({ run: logs.run, lines: logs.lines, next: last });
    },
  );
}
