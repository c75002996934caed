// Over 300 lines on purpose: the hub's own tools (instances_list, instances_tools, instances_start,
// ...) as one table of definitions and handlers, so their names and schemas sit together.
import {
  CONNECTION_STATES,
  type ConnectionInfo,
  type ConnectionManager,
  remoteOf,
} from '@mcp-beacon/connection-manager';
import { portableSchema } from '@mcp-beacon/registry';
import { cleanText } from '@mcp-beacon/runtime';
import { type CallToolResult, ProtocolErrorCode, type Tool } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { type Forwarder, type ToolExtra, wireError } from '../calls/forward.js';
import { searchTools } from '../catalog/tool-search.js';
import type { HubView } from '../catalog/view.js';
import { HubError } from '../errors.js';
import { looksLikeFolder } from '../routing/folders.js';
import { type MatchContext, resolveInstance } from '../routing/select.js';

/** What {@link LaunchInstance} answers. */
export interface StartedInstance {
  info: ConnectionInfo;
  /** False when the folder already had a live instance, which is what `info` describes. */
  started: boolean;
}

/**
 * Starts (or finds) the instance of a project folder and resolves once it is active.
 * @throws {HubError} `NOT_A_PROJECT` or `START_FAILED`, which reach the caller as tool errors.
 */
export type LaunchInstance = (
  folder: string,
  options: { signal?: AbortSignal },
) => Promise<StartedInstance>;

/** What the hub tools need from the server. */
export interface HubToolContext {
  manager: ConnectionManager;
  /** Enables `instances_start`. */
  launchInstance?: LaunchInstance;
  /** What the client is shown: slugs, and each instance tool's hub-side name. */
  view: HubView;
  /** Calls an instance tool; its result says which instance answered. */
  callTool: Forwarder['callTool'];
  /** What matching an `instance` argument needs now. */
  match(): MatchContext;
  /** Resolves a folder an `instance` argument names (its realpath), before it is matched. */
  resolveFolder(path: string): Promise<unknown>;
  /** The hub's remotes, for `instances_list` (absent: none). */
  remotes?: () => readonly RemoteSummary[];
}

/** A remote (another machine's hub, reached through a command) as `instances_list` shows it. */
const RemoteSummarySchema = z.object({
  name: z.string(),
  command: z.string(),
  state: z.enum(['connecting', 'connected', 'unreachable', 'refused']),
  reason: z.string().nullable(),
  instances: z.number(),
});

/** See {@link RemoteSummarySchema}. */
export type RemoteSummary = z.infer<typeof RemoteSummarySchema>;

const instanceArg = z.string().min(1).describe('Project name, id, folder or id prefix');

/** One instance as `instances_list` reports it: the one definition of that shape. */
const InstanceSummarySchema = z.object({
  id: z.string(),
  name: z.string(),
  slug: z
    .string()
    .describe('Its short name: the prefix of its namespaced tools and prompts (<slug>__<name>)'),
  path: z.string(),
  port: z.number(),
  url: z.string(),
  pid: z.number(),
  state: z.enum(CONNECTION_STATES),
  reason: z
    .string()
    .nullable()
    .describe('Why it is in its state; null when there is nothing to say'),
  has_package_json: z.boolean(),
  started: z.string(),
  last_seen: z.string(),
  tool_count: z.number(),
  remote: z
    .string()
    .nullable()
    .describe("The remote it runs on (its path and pid are that machine's); null when local"),
  catalog_truncated: z
    .string()
    .nullable()
    .describe('Why its tools, resources or prompts were cut at a bound; null when whole'),
  degraded: z
    .string()
    .nullable()
    .describe(
      'Why an active instance is not whole (its event stream is lost, so its notifications do not arrive); null when whole',
    ),
});

/** One instance as `instances_list` reports it (its structured content is `{ instances }`). */
export type InstanceSummary = z.infer<typeof InstanceSummarySchema>;

/** Input shapes of the hub tools; their JSON Schemas and the handlers' types derive from them. */
const INPUTS = {
  instances_list: z.object({}),
  instances_connect: z.object({ instance: instanceArg }),
  instances_disconnect: z.object({ instance: instanceArg }),
  instances_call: z.object({
    instance: instanceArg,
    tool: z.string().min(1).describe("The project's own tool name"),
    arguments: z.record(z.string(), z.unknown()).optional().describe('Its arguments'),
  }),
  instances_start: z.object({
    path: z.string().min(1).describe('Absolute project folder (REMOTE:/path on a remote)'),
  }),
  instances_tools: z.object({
    instance: instanceArg.optional().describe('Only this project'),
    query: z.string().optional().describe('Words to look for'),
  }),
} as const;

type HubToolName = keyof typeof INPUTS;

/** A zod object as the JSON Schema a tool lists: only what every model API takes. */
function jsonSchema(schema: z.ZodObject): Tool['inputSchema'] {
  return {
    ...portableSchema(z.toJSONSchema(schema, { io: 'input' }), { lengths: false }),
    type: 'object',
  } as Tool['inputSchema'];
}

const META: Record<HubToolName, Pick<Tool, 'description' | 'annotations'>> = {
  instances_list: {
    description: 'Every running project Beacon knows: name, id, folder, state and tool count.',
    annotations: { readOnlyHint: true },
  },
  instances_connect: {
    description: 'Connects (or reconnects) to a project now; answers with its tools.',
    annotations: { idempotentHint: true },
  },
  instances_disconnect: {
    description: 'Drops a project and hides its tools until instances_connect.',
    annotations: { idempotentHint: true },
  },
  instances_call: {
    description: "Calls any project's tool by its own name, also one not in your tool list.",
  },
  instances_tools: {
    description:
      'Finds project tools by words, with full definitions, also unlisted ones (for instances_call).',
    annotations: { readOnlyHint: true },
  },
  instances_start: {
    description: 'Starts Beacon in a project folder (it keeps running); answers with its tools.',
    annotations: { idempotentHint: true },
  },
};

/**
 * The hub's own tools, their input schemas derived from {@link INPUTS}. They list no output
 * schema: every client shows their text, and a schema would cost every model turn its bytes
 * (the structured content is the same data).
 */
export const HUB_TOOLS: Tool[] = (Object.keys(INPUTS) as HubToolName[]).map((name) => ({
  name,
  ...META[name],
  inputSchema: jsonSchema(INPUTS[name]),
}));

/** Validates a hub tool's arguments against its one shape. */
function input<N extends HubToolName>(name: N, args: unknown): z.infer<(typeof INPUTS)[N]> {
  const parsed = INPUTS[name].safeParse(args);
  if (!parsed.success)
    throw wireError(
      ProtocolErrorCode.InvalidParams,
      `${name}: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'arguments'}: ${i.message}`).join('; ')}`,
    );
  return parsed.data as z.infer<(typeof INPUTS)[N]>;
}

/** An instance as `instances_list` shows it to a client and a model (cleaned text). */
function instanceSummary(c: ConnectionInfo, slug: string): InstanceSummary {
  return {
    id: c.id,
    name: cleanText(c.record.name),
    slug,
    path: cleanText(c.record.path),
    port: c.record.port,
    url: c.record.url,
    pid: c.record.pid,
    state: c.state,
    reason: c.reason === undefined ? null : cleanText(c.reason),
    has_package_json: c.record.has_package_json,
    started: c.record.started,
    last_seen: c.record.last_seen,
    tool_count: c.catalog.tools.length,
    remote: remoteOf(c.location) ?? null,
    catalog_truncated: c.catalogTruncated === undefined ? null : cleanText(c.catalogTruncated),
    degraded: c.degraded === undefined ? null : cleanText(c.degraded),
  };
}

/**
 * An instance's slug and its tools as the client calls them: grouped ones by their own name
 * (with `instance`), the rest as `<slug>__<name>`.
 */
function hubNames(info: ConnectionInfo, view: HubView) {
  const slug = view.slugs.slugOf(info.id) ?? '';
  const names = view.slice(info.id)?.toolNames;
  const tools = info.catalog.tools.map((t) => names?.get(t.name) ?? t.name);
  const grouped = tools.some((t) => view.tool(t)?.kind === 'group');
  return {
    slug,
    tools,
    list: `${tools.join(', ')}${grouped ? ` (pass instance: ${JSON.stringify(slug)})` : ''}`,
  };
}

function table(rows: InstanceSummary[], remotes: readonly RemoteSummary[]): string {
  const lines = rows.map(
    (r) =>
      `${r.name} [${r.slug}] ${r.state}${r.reason && r.state !== 'active' ? ` (${r.reason})` : ''}${r.degraded ? ` (degraded: ${r.degraded})` : ''} - ${r.tool_count} tools${r.catalog_truncated ? ` (cut: ${r.catalog_truncated})` : ''} - ${r.remote ? `on ${r.remote}` : cleanText(r.url)} - pid ${r.pid} - ${r.path} - id ${r.id}`,
  );
  if (rows.length === 0)
    lines.push('No Beacon instances found. Start one with `beacon-instance` in a project.');
  for (const r of remotes)
    lines.push(
      `remote ${r.name}: ${r.state}${r.reason ? ` (${r.reason})` : ''} - ${r.instances} instance${r.instances === 1 ? '' : 's'} - ${r.command}`,
    );
  return lines.join('\n');
}

/** Runs one of {@link HUB_TOOLS}; failures the caller can act on come back as tool errors. */
export async function handleHubTool(
  ctx: HubToolContext,
  name: string,
  args: Record<string, unknown>,
  extra: ToolExtra,
): Promise<CallToolResult> {
  const slugs = ctx.view.slugs.all();
  const query = (args as { instance?: unknown }).instance;
  if (typeof query === 'string' && looksLikeFolder(query)) await ctx.resolveFolder(query);
  const find = (q: string) => resolveInstance(ctx.manager.list(), ctx.match(), q);
  try {
    switch (name) {
      case 'instances_list': {
        input('instances_list', args);
        const instances = ctx.manager
          .list()
          .sort(
            (a, b) =>
              a.record.name.localeCompare(b.record.name) ||
              a.record.started.localeCompare(b.record.started),
          )
          .map((c) => instanceSummary(c, slugs.get(c.id) ?? ''));
        const remotes = ctx.remotes?.() ?? [];
        return {
          content: [{ type: 'text', text: table(instances, remotes) }],
          structuredContent: remotes.length > 0 ? { instances, remotes } : { instances },
        };
      }
      case 'instances_connect': {
        const { instance } = input('instances_connect', args);
        const target = find(instance);
        const info = await ctx.manager.connect(target.id);
        const { slug, tools, list } = hubNames(info, ctx.view);
        const text =
          info.state === 'active'
            ? `${cleanText(info.record.name)} is active with ${tools.length} tools: ${list}`
            : `${cleanText(info.record.name)} is ${info.state}: ${cleanText(info.reason ?? '')}`;
        return {
          content: [{ type: 'text', text }],
          structuredContent: { ...instanceSummary(info, slug), tools },
          isError: info.state !== 'active',
        };
      }
      case 'instances_disconnect': {
        const { instance } = input('instances_disconnect', args);
        const target = find(instance);
        const info = await ctx.manager.disconnect(target.id);
        return {
          content: [
            {
              type: 'text',
              text: `${cleanText(info.record.name)} disconnected; its tools are hidden until instances_connect`,
            },
          ],
          structuredContent: instanceSummary(info, slugs.get(info.id) ?? ''),
        };
      }
      case 'instances_start': {
        const { path } = input('instances_start', args);
        if (!ctx.launchInstance)
          throw wireError(ProtocolErrorCode.InvalidParams, 'this hub cannot start instances');
        const { info, started } = await ctx.launchInstance(path, { signal: extra.signal });
        const { slug, tools, list } = hubNames(info, ctx.view);
        const name = cleanText(info.record.name);
        const text = started
          ? `started ${name} (pid ${info.record.pid}, ${info.record.url}) with ${tools.length} tools: ${list}`
          : `${name} was already running (pid ${info.record.pid}, ${info.state}) with ${tools.length} tools: ${list}`;
        return {
          content: [{ type: 'text', text }],
          structuredContent: { ...instanceSummary(info, slug), tools, launched: started },
        };
      }
      case 'instances_tools': {
        const { instance, query } = input('instances_tools', args);
        const only = instance === undefined ? undefined : find(instance).id;
        const found = searchTools(ctx.view, { only, query });
        return {
          content: [{ type: 'text', text: found.text }],
          structuredContent: found.result,
        };
      }
      case 'instances_call': {
        const { instance, tool, arguments: toolArgs } = input('instances_call', args);
        const target = find(instance);
        return ctx.callTool(target.id, tool, toolArgs, extra);
      }
      default:
        throw wireError(ProtocolErrorCode.InvalidParams, `Unknown tool: ${name}`);
    }
  } catch (error) {
    if (error instanceof HubError)
      return { isError: true, content: [{ type: 'text', text: error.message }] };
    throw error;
  }
}
