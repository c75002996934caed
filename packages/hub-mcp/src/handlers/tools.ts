import { cleanText } from '@mcp-beacon/runtime';
import type { InputRequiredResult, ListToolsResult, Server } from '@modelcontextprotocol/server';
import { type CallToolResult, ProtocolErrorCode, type Tool } from '@modelcontextprotocol/server';
import type { HubContext } from '../_context.js';
import { isRecord, toolError } from '../_values.js';
import { type Answerer, attributeError, attributeResult } from '../calls/attribution.js';
import type { ToolCall } from '../calls/fast-calls.js';
import type { ToolExtra } from '../calls/forward.js';
import { wireError } from '../calls/forward.js';
import { listHint } from '../catalog/cache-hints.js';
import { takeInstanceArg } from '../catalog/definitions.js';
import { departed, SEPARATOR } from '../catalog/names.js';
import { looksLikeFolder } from '../routing/folders.js';
import { formatLocation } from '../routing/location.js';
import { type ChoiceResult, chooseInstance } from '../routing/select.js';
import { requestEraOf, runInstanceCall } from '../sessions/era.js';
import { extraOf } from '../sessions/peer.js';
import type { ToolGroup } from '../types.js';
import { type HubToolContext, handleHubTool } from './hub-tools.js';

/** What picking the instance of a grouped call uses. */
export type RoutingContext = Pick<
  HubContext,
  'manager' | 'view' | 'match' | 'workingFolder' | 'folders' | 'roots'
>;

/** What calling an instance tool and naming who answered uses. */
export type CallingContext = Pick<HubContext, 'manager' | 'view' | 'forwarder'>;

/** What the tool handlers use of a session. */
export type ToolsContext = RoutingContext &
  CallingContext &
  Pick<HubContext, 'gate' | 'notifier' | 'hints' | 'relay'>;

function choose(
  ctx: RoutingContext,
  group: ToolGroup,
  instance: unknown,
  roots: readonly string[] | undefined,
): ChoiceResult {
  return chooseInstance({
    group,
    instance,
    all: () => ctx.manager.list(),
    match: ctx.match(),
    roots,
    workingFolder:
      ctx.workingFolder === undefined ? undefined : ctx.folders.keyOf(ctx.workingFolder),
    slice: ctx.view.slice,
  });
}

/** True when picking an instance for this call may depend on the client's roots. */
const needsRoots = (group: ToolGroup, instance: unknown) =>
  instance === undefined && group.members.size > 1;

/** Where an instance that left before it was seen is said to be: its path only. */
const unknownPlace = { kind: 'local', path: '' } as const;

/** Who an instance is, as a result names it (taken before the call: it may leave meanwhile). */
export function answerer(ctx: Pick<HubContext, 'view' | 'manager'>, id: string): Answerer {
  const slice = ctx.view.slice(id);
  const info = ctx.manager.get(id);
  const name = slice?.name ?? cleanText(info?.record.name ?? id);
  const path = slice?.path ?? cleanText(info?.record.path ?? '');
  return {
    id,
    name,
    slug: slice?.slug ?? ctx.view.slugs.slugOf(id) ?? '',
    location: formatLocation({ ...(slice?.location ?? info?.location ?? unknownPlace), path }),
  };
}

/** Calls an instance tool; its result (or JSON-RPC error) says which instance answered. */
export async function callInstanceTool(
  ctx: CallingContext,
  id: string,
  name: string,
  args: Record<string, unknown> | undefined,
  extra: ToolExtra,
): Promise<CallToolResult> {
  const who = answerer(ctx, id);
  try {
    return attributeResult(await ctx.forwarder.callTool(id, name, args, extra), who);
  } catch (error) {
    throw attributeError(error, who);
  }
}

/** The error for a tool name nothing routes, saying who held a namespaced name that left. */
function unknownTool(ctx: Pick<HubContext, 'view'>, name: string): Error {
  const at = name.indexOf(SEPARATOR);
  const gone = at > 0 ? ctx.view.slugs.retiredHolder(name.slice(0, at)) : undefined;
  const was = gone ? ` ${name.slice(0, at)} was ${departed(gone)}.` : '';
  return wireError(
    ProtocolErrorCode.InvalidParams,
    `Unknown tool: ${cleanText(name)}.${was} Call instances_list to see what is connected.`,
  );
}

/**
 * Routes an instance tool call without waiting: a namespaced name, or a grouped one whose
 * instance is named or obvious. Undefined when routing needs to wait (first contact, the
 * client's roots, a folder's realpath) or fails; {@link registerToolHandlers} then answers it.
 */
export function routeToolCall(
  ctx: RoutingContext,
  name: string,
  args: Record<string, unknown> | undefined,
): ToolCall | undefined {
  const target = ctx.view.tool(name);
  if (!target) return undefined;
  if (target.kind === 'route') return { id: target.route.id, name: target.route.name, args };
  const { instance, rest } = takeInstanceArg(args);
  const roots = ctx.roots.knownKeys();
  const byRoots = needsRoots(target.group, instance);
  if (byRoots && roots === undefined) return undefined;
  const chosen = choose(ctx, target.group, instance, roots);
  // A folder's realpath still running may change the choice: the slow path waits for it.
  const byFolder = byRoots || (typeof instance === 'string' && looksLikeFolder(instance));
  if (!chosen.ok || (byFolder && ctx.folders.busy())) return undefined;
  return { id: chosen.id, name: chosen.tool, args: rest };
}

/**
 * `tools/list` (the hub's tools, then instance tools as the view lists them) and `tools/call`:
 * hub tools run here; a grouped tool runs on the instance its `instance` argument names (or the
 * default one), stripped of that argument; a namespaced one on its instance. Every instance
 * result says which instance answered.
 */
export function registerToolHandlers(
  server: Server,
  ctx: ToolsContext,
  hubTools: readonly Tool[],
  hubContext: HubToolContext,
): void {
  const { view, gate } = ctx;
  server.setRequestHandler('tools/list', async (_request, handlerCtx) => {
    await gate.wait();
    const { tools } = view.lists();
    ctx.notifier.shown('tools');
    return { tools: tools as ListToolsResult['tools'], ...listHint(ctx.hints, handlerCtx) };
  });

  server.setRequestHandler('tools/call', async (request, handlerCtx) => {
    const extra = extraOf(handlerCtx);
    const era = requestEraOf(handlerCtx);
    // A 2026-07-28 client answering what an instance asked during this call.
    if (era.kind === 'modern' && era.state !== undefined)
      return ctx.relay.resume(era.state, handlerCtx.mcpReq.inputResponses, extra.signal, era.log);
    /** The instance call; a 2026-07-28 client's may come back first as `input_required`. */
    const call = (id: string, tool: string, args: Record<string, unknown> | undefined) =>
      runInstanceCall(
        era,
        ctx.relay,
        id,
        (signal) => callInstanceTool(ctx, id, tool, args, { ...extra, signal }),
        extra.signal,
      );
    const { name, arguments: args } = request.params;
    if (hubTools.some((t) => t.name === name)) {
      // A client may call instances_list first thing: it sees what a first list would.
      await gate.wait();
      // instances_call by a 2026-07-28 client carries its instance's requests as that one does.
      const hubCtx: HubToolContext =
        era.kind === 'modern'
          ? {
              ...hubContext,
              callTool: (id, tool, toolArgs) => call(id, tool, toolArgs) as Promise<CallToolResult>,
            }
          : hubContext;
      return handleHubTool(hubCtx, name, args ?? {}, extra);
    }
    const target = await gate.lookup(() => view.tool(name));
    if (!target) throw unknownTool(ctx, name);
    if (target.kind === 'route') return call(target.route.id, target.route.name, args);
    const { group } = target;
    const { instance, rest } = takeInstanceArg(args);
    let roots = needsRoots(group, instance) ? await ctx.roots.keys() : undefined;
    if (era.kind === 'modern' && roots === undefined && needsRoots(group, instance)) {
      // A 2026-07-28 client is asked for its roots within the call (input_required).
      const answer = rootsAnswer(handlerCtx.mcpReq.inputResponses);
      if (answer) roots = await ctx.roots.keysOf(answer);
      else if (era.capabilities?.roots !== undefined) return askRoots();
    }
    if (typeof instance === 'string' && looksLikeFolder(instance))
      await ctx.folders.resolve(instance);
    await ctx.folders.settled();
    const chosen = choose(ctx, group, instance, roots);
    if (!chosen.ok) return toolError(chosen.message);
    return call(chosen.id, chosen.tool, rest);
  });
}

/** The `input_required` that asks a 2026-07-28 client for its roots. */
const askRoots = () =>
  ({
    resultType: 'input_required',
    inputRequests: { roots: { method: 'roots/list', params: {} } },
  }) as unknown as InputRequiredResult;

/** The roots in a 2026-07-28 client's answer to {@link askRoots}, if it gave them. */
function rootsAnswer(responses: unknown): { uri: string }[] | undefined {
  const roots =
    isRecord(responses) && isRecord(responses.roots) ? responses.roots.roots : undefined;
  return Array.isArray(roots)
    ? roots.filter((r): r is { uri: string } => isRecord(r) && typeof r.uri === 'string')
    : undefined;
}
