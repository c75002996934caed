import type { ConnectionInfo, ConnectionManager } from '@mcp-beacon/connection-manager';
import { cleanText } from '@mcp-beacon/registry';
import {
  type CallToolResult,
  ErrorCode,
  McpError,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import type { Forwarder, ToolExtra } from './_forward.js';
import { qualifiedName } from './_names.js';
import { HubError } from './errors.js';

/** What the hub tools need from the server. */
export interface HubToolContext {
  manager: ConnectionManager;
  /** Slugs by instance id. */
  slugs(): ReadonlyMap<string, string>;
  callTool: Forwarder['callTool'];
}

const instanceArg = {
  type: 'string',
  description: 'Instance id, an unambiguous id prefix, or its name',
} as const;

const instanceItem = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    slug: { type: 'string' },
    path: { type: 'string' },
    port: { type: 'number' },
    url: { type: 'string' },
    pid: { type: 'number' },
    state: { type: 'string' },
    reason: { type: ['string', 'null'] },
    has_package_json: { type: 'boolean' },
    started: { type: 'string' },
    last_seen: { type: 'string' },
    tool_count: { type: 'number' },
  },
  required: [
    'id',
    'name',
    'slug',
    'path',
    'port',
    'url',
    'pid',
    'state',
    'has_package_json',
    'started',
    'last_seen',
    'tool_count',
  ],
} as const;

/** The hub's own tools. */
export const HUB_TOOLS: Tool[] = [
  {
    name: 'instances_list',
    title: 'List Beacon instances',
    description:
      'Every known project instance with its id, name, path, port, url, pid, connection state and tool count.',
    inputSchema: { type: 'object', properties: {} },
    outputSchema: {
      type: 'object',
      properties: { instances: { type: 'array', items: instanceItem } },
      required: ['instances'],
    },
    annotations: { readOnlyHint: true, openWorldHint: false },
  },
  {
    name: 'instances_connect',
    title: 'Connect to an instance',
    description: 'Connects (or reconnects) to an instance now and answers with its tools.',
    inputSchema: { type: 'object', properties: { instance: instanceArg }, required: ['instance'] },
    annotations: { idempotentHint: true, openWorldHint: false },
  },
  {
    name: 'instances_disconnect',
    title: 'Disconnect an instance',
    description: 'Drops the connection to an instance and hides its tools until instances_connect.',
    inputSchema: { type: 'object', properties: { instance: instanceArg }, required: ['instance'] },
    annotations: { idempotentHint: true, openWorldHint: false },
  },
  {
    name: 'instances_call',
    title: 'Call an instance tool',
    description:
      'Calls a tool of an instance by routing, for clients that do not refresh their tool list.',
    inputSchema: {
      type: 'object',
      properties: {
        instance: instanceArg,
        tool: { type: 'string', description: "The instance's own tool name, e.g. scripts_list" },
        arguments: {
          type: 'object',
          description: 'Arguments for the tool',
          additionalProperties: true,
        },
      },
      required: ['instance', 'tool'],
    },
    annotations: { openWorldHint: false },
  },
];

/**
 * Finds an instance by id, unambiguous id prefix, name or slug.
 * @throws {HubError} `UNKNOWN_INSTANCE` or `AMBIGUOUS_INSTANCE` (listing the candidates).
 */
export function resolveInstance(
  manager: ConnectionManager,
  slugs: ReadonlyMap<string, string>,
  query: string,
): ConnectionInfo {
  const all = manager.list();
  const exact = all.find((c) => c.id === query);
  if (exact) return exact;
  const q = query.toLowerCase();
  for (const match of [
    (c: ConnectionInfo) => c.id.startsWith(q),
    (c: ConnectionInfo) => c.record.name === query,
    (c: ConnectionInfo) => slugs.get(c.id) === q,
  ]) {
    const found = all.filter(match);
    if (found.length === 1) return found[0]!;
    if (found.length > 1) {
      throw new HubError(
        'AMBIGUOUS_INSTANCE',
        `${JSON.stringify(query)} matches ${found.length} instances: ${found.map((c) => `${cleanText(c.record.name)} (${c.id})`).join(', ')}; use an id`,
      );
    }
  }
  throw new HubError(
    'UNKNOWN_INSTANCE',
    `no instance matches ${JSON.stringify(cleanText(query))}; known: ${all.map((c) => cleanText(c.record.name)).join(', ') || '(none)'}`,
  );
}

/** One instance as `instances_list` reports it (its structured content is `{ instances }`). */
// A type alias, not an interface, so it fits MCP's structured content (an index signature).
export type InstanceSummary = {
  id: string;
  name: string;
  /** The prefix of its tools and prompts: `<slug>__<name>`. */
  slug: string;
  path: string;
  port: number;
  url: string;
  pid: number;
  state: ConnectionInfo['state'];
  /** Why it is in its state; `null` when there is nothing to say. */
  reason: string | null;
  has_package_json: boolean;
  started: string;
  last_seen: string;
  tool_count: number;
};

function describeInstance(c: ConnectionInfo, slug: string): InstanceSummary {
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
  };
}

function table(rows: InstanceSummary[]): string {
  if (rows.length === 0)
    return 'No Beacon instances found. Start one with `beacon-instance` in a project.';
  return rows
    .map(
      (r) =>
        `${r.name} [${r.slug}] ${r.state}${r.reason && r.state !== 'active' ? ` (${r.reason})` : ''} - ${r.tool_count} tools - ${r.url} - pid ${r.pid} - ${r.path} - id ${r.id}`,
    )
    .join('\n');
}

function stringArg(args: Record<string, unknown>, key: string): string {
  const value = args[key];
  if (typeof value !== 'string' || value.length === 0)
    throw new McpError(ErrorCode.InvalidParams, `${key} must be a non-empty string`);
  return value;
}

/** Runs one of {@link HUB_TOOLS}; failures the caller can act on come back as tool errors. */
export async function handleHubTool(
  ctx: HubToolContext,
  name: string,
  args: Record<string, unknown>,
  extra: ToolExtra,
): Promise<CallToolResult> {
  const slugs = ctx.slugs();
  try {
    switch (name) {
      case 'instances_list': {
        const instances = ctx.manager
          .list()
          .sort(
            (a, b) =>
              a.record.name.localeCompare(b.record.name) ||
              a.record.started.localeCompare(b.record.started),
          )
          .map((c) => describeInstance(c, slugs.get(c.id) ?? ''));
        return {
          content: [{ type: 'text', text: table(instances) }],
          structuredContent: { instances },
        };
      }
      case 'instances_connect': {
        const target = resolveInstance(ctx.manager, slugs, stringArg(args, 'instance'));
        const info = await ctx.manager.connect(target.id);
        const slug = slugs.get(info.id) ?? '';
        const tools = info.catalog.tools.map((t) => qualifiedName(slug, t.name));
        const text =
          info.state === 'active'
            ? `${cleanText(info.record.name)} is active with ${tools.length} tools: ${tools.join(', ')}`
            : `${cleanText(info.record.name)} is ${info.state}: ${cleanText(info.reason ?? '')}`;
        return {
          content: [{ type: 'text', text }],
          structuredContent: { ...describeInstance(info, slug), tools },
          isError: info.state !== 'active',
        };
      }
      case 'instances_disconnect': {
        const target = resolveInstance(ctx.manager, slugs, stringArg(args, 'instance'));
        const info = await ctx.manager.disconnect(target.id);
        return {
          content: [
            {
              type: 'text',
              text: `${cleanText(info.record.name)} disconnected; its tools are hidden until instances_connect`,
            },
          ],
          structuredContent: describeInstance(info, slugs.get(info.id) ?? ''),
        };
      }
      case 'instances_call': {
        const target = resolveInstance(ctx.manager, slugs, stringArg(args, 'instance'));
        const tool = stringArg(args, 'tool');
        const toolArgs = args.arguments;
        if (
          toolArgs !== undefined &&
          (typeof toolArgs !== 'object' || toolArgs === null || Array.isArray(toolArgs))
        ) {
          throw new McpError(ErrorCode.InvalidParams, 'arguments must be an object');
        }
        return ctx.callTool(
          target.id,
          tool,
          toolArgs as Record<string, unknown> | undefined,
          extra,
        );
      }
      default:
        throw new McpError(ErrorCode.InvalidParams, `Unknown tool: ${name}`);
    }
  } catch (error) {
    if (error instanceof HubError)
      return { isError: true, content: [{ type: 'text', text: error.message }] };
    throw error;
  }
}
