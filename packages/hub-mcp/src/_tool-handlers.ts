import { Protocol } from '@modelcontextprotocol/sdk/shared/protocol.js';
import {
  CallToolRequestSchema,
  type CallToolResult,
  ErrorCode,
  ListToolsRequestSchema,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import type { HubContext } from './_context.js';
import { takeInstanceArg } from './_definitions.js';
import type { ToolCall } from './_fast-calls.js';
import { wireError } from './_forward.js';
import { type HubToolContext, handleHubTool } from './_hub-tools.js';
import { type ChoiceResult, chooseInstance } from './_select.js';
import type { ToolGroup } from './_view.js';

const toolError = (text: string): CallToolResult => ({
  isError: true,
  content: [{ type: 'text', text }],
});

function choose(
  ctx: HubContext,
  group: ToolGroup,
  instance: unknown,
  roots: readonly string[] | undefined,
): ChoiceResult {
  return chooseInstance({
    group,
    instance,
    all: () => ctx.manager.list(),
    slugs: ctx.view.slugs.all(),
    roots,
    slice: ctx.view.slice,
  });
}

/** True when picking an instance for this call may depend on the client's roots. */
const needsRoots = (group: ToolGroup, instance: unknown) =>
  instance === undefined && group.members.size > 1;

/**
 * Routes an instance tool call without waiting: a namespaced name, or a grouped one whose
 * instance is named or obvious. Undefined when routing needs to wait (first contact, the
 * client's roots) or fails; {@link registerToolHandlers} then answers it.
 */
export function routeToolCall(
  ctx: HubContext,
  name: string,
  args: Record<string, unknown> | undefined,
): ToolCall | undefined {
  const target = ctx.view.tool(name);
  if (!target) return undefined;
  if (target.kind === 'route') return { id: target.route.id, name: target.route.name, args };
  const { instance, rest } = takeInstanceArg(args);
  const roots = ctx.roots.known();
  if (roots === undefined && needsRoots(target.group, instance)) return undefined;
  const chosen = choose(ctx, target.group, instance, roots);
  return chosen.ok ? { id: chosen.id, name: target.group.own, args: rest } : undefined;
}

/**
 * `tools/list` (the hub's tools, then instance tools as the view lists them) and `tools/call`:
 * hub tools run here; a grouped tool runs on the instance its `instance` argument names (or the
 * default one), stripped of that argument; a namespaced one on its instance.
 */
export function registerToolHandlers(
  ctx: HubContext,
  hubTools: readonly Tool[],
  hubContext: HubToolContext,
): void {
  const { server, view, gate, forwarder } = ctx;
  server.setRequestHandler(ListToolsRequestSchema, async () => {
    await gate.wait();
    const { tools } = view.lists();
    view.markShown();
    ctx.notifier.shown('tools');
    return { tools };
  });

  // Registered on Protocol directly: the low-level Server would parse every result against
  // CallToolResultSchema again, though the instance's SDK built it and the client checks it.
  Protocol.prototype.setRequestHandler.call(
    server,
    CallToolRequestSchema,
    async (request, extra) => {
      const { name, arguments: args } = request.params;
      if (hubTools.some((t) => t.name === name)) {
        // A client may call instances_list first thing: it sees what a first list would.
        await gate.wait();
        return handleHubTool(hubContext, name, args ?? {}, extra);
      }
      const target = await gate.lookup(() => view.tool(name));
      if (!target)
        throw wireError(
          ErrorCode.InvalidParams,
          `Unknown tool: ${name}. Call instances_list to see what is connected.`,
        );
      if (target.kind === 'route')
        return forwarder.callTool(target.route.id, target.route.name, args, extra);
      const { group } = target;
      const { instance, rest } = takeInstanceArg(args);
      const roots = needsRoots(group, instance) ? await ctx.roots.folders() : undefined;
      const chosen = choose(ctx, group, instance, roots);
      if (!chosen.ok) return toolError(chosen.message);
      return forwarder.callTool(chosen.id, group.own, rest, extra);
    },
  );
}
