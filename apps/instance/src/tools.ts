import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { compileGrep, filterLines } from './grep.js';
import { gitBranch, readProject } from './project.js';
import type { ScriptRunner } from './scripts.js';

/** What the tools need from the running instance. */
export interface ToolContext {
  cwd: string;
  name: string;
  runner: ScriptRunner;
  /** The URL the instance serves; filled once it listens. */
  url: () => string | undefined;
  started: string;
}

function result<T extends Record<string, unknown>>(data: T) {
  return {
    content: [{ type: 'text' as const, text: JSON.stringify(data, null, 2) }],
    structuredContent: data,
  };
}

const runShape = {
  id: z.string(),
  script: z.string(),
  args: z.array(z.string()),
  command: z.string(),
  state: z.enum(['running', 'exited', 'failed', 'stopped']),
  pid: z.number().optional(),
  exitCode: z.number().nullable(),
  started: z.string(),
  ended: z.string().nullable(),
  droppedLines: z.number(),
};

/** Registers the project tools (`project_info`, `scripts_*`, `logs_get`) on `server`. */
export function registerTools(server: McpServer, ctx: ToolContext): void {
  server.registerTool(
    'project_info',
    {
      title: 'Project info',
      description:
        'Name, path, package manager, package.json presence, script count and git branch of this project.',
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    async () => {
      const project = await readProject(ctx.cwd, ctx.name);
      const branch = await gitBranch(ctx.cwd);
      return result({
        name: project.name,
        path: project.path,
        packageManager: project.packageManager,
        hasPackageJson: project.hasPackageJson,
        scriptsCount: Object.keys(project.scripts).length,
        gitBranch: branch ?? null,
        url: ctx.url() ?? null,
        pid: process.pid,
        started: ctx.started,
      });
    },
  );

  server.registerTool(
    'scripts_list',
    {
      title: 'List scripts',
      description: "The project's package.json scripts with their commands.",
      annotations: { readOnlyHint: true, openWorldHint: false },
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
      title: 'Run a script',
      description:
        'Starts a package.json script with the project package manager and returns its run id at once. Arguments are passed as argv, never through a shell. A script already running is reported, not started twice.',
      inputSchema: {
        name: z.string().min(1).max(256).describe('A script name defined in package.json'),
        args: z
          .array(z.string().max(4096))
          .max(64)
          .optional()
          .describe('Extra arguments for the script'),
      },
      annotations: { destructiveHint: false, openWorldHint: false },
    },
    async ({ name, args }) => {
      const { run, alreadyRunning } = await ctx.runner.run(name, args ?? []);
      return result({ ...run, alreadyRunning });
    },
  );

  server.registerTool(
    'scripts_stop',
    {
      title: 'Stop a run',
      description:
        "Stops a run's process group (SIGTERM, then SIGKILL after a grace period) and reports how it ended.",
      inputSchema: { run: z.string().min(1).describe('Run id from scripts_run or scripts_status') },
      annotations: { destructiveHint: true, idempotentHint: true, openWorldHint: false },
    },
    async ({ run }, extra) => result({ ...(await ctx.runner.stop(run, extra.signal)) }),
  );

  server.registerTool(
    'scripts_status',
    {
      title: 'Script runs',
      description: 'Every run with its state, pid, exit code, start and end time.',
      annotations: { readOnlyHint: true, openWorldHint: false },
      outputSchema: { runs: z.array(z.object(runShape)) },
    },
    async () => result({ runs: ctx.runner.list() }),
  );

  server.registerTool(
    'logs_get',
    {
      title: 'Get script output',
      description:
        'Output lines of a run (default: the newest), oldest first, from a bounded buffer. Pass the returned `next` as `since` to fetch only newer lines.',
      inputSchema: {
        run: z.string().min(1).optional().describe('Run id; default the newest run'),
        grep: z
          .string()
          .min(1)
          .max(200)
          .optional()
          .describe(
            'Case-insensitive RE2 regular expression lines must match (linear time: no backreferences or lookaround)',
          ),
        limit: z
          .number()
          .int()
          .min(1)
          .max(2000)
          .optional()
          .describe('Newest N matching lines (default 200)'),
        since: z.number().int().min(0).optional().describe('Only lines with seq greater than this'),
      },
      annotations: { readOnlyHint: true, openWorldHint: false },
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
