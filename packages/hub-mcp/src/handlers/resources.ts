import { cleanText } from '@mcp-beacon/runtime';
import type { Server } from '@modelcontextprotocol/server';
import {
  ProtocolErrorCode,
  type ReadResourceResult,
  type Result,
} from '@modelcontextprotocol/server';
import type { HubContext } from '../_context.js';
import { type ToolExtra, wireError } from '../calls/forward.js';
import { listHint } from '../catalog/cache-hints.js';
import { departed, parseProxiedUri, proxiedUri } from '../catalog/names.js';
import { extraOf } from '../sessions/peer.js';

/** The instance and its own URI behind a hub-side resource URI (`beacon://` or `ui://`). */
export interface UriRoute {
  id: string;
  slug: string;
  uri: string;
}

/** Routes a hub-side URI, waiting for first contact if it is not known yet. */
export async function routeUri(
  ctx: Pick<HubContext, 'gate' | 'view'>,
  uri: string,
): Promise<UriRoute> {
  const parsed = parseProxiedUri(uri);
  const id = parsed && (await ctx.gate.lookup(() => ctx.view.slugs.idOf(parsed.slug)));
  if (parsed && id) return { id, slug: parsed.slug, uri: parsed.uri };
  // A URI of an instance that left stays its own: it fails, naming who served it.
  const gone = parsed && ctx.view.slugs.retiredHolder(parsed.slug);
  throw wireError(
    ProtocolErrorCode.InvalidParams,
    `Unknown resource: ${cleanText(uri)}${gone ? `: it was served by ${departed(gone)}` : ''}`,
  );
}

/**
 * `resources/list`, `resources/templates/list`, `resources/read` and subscriptions: every
 * instance resource under its hub-side URI, read and subscribed on the instance that owns it.
 */
export function registerResourceHandlers(server: Server, ctx: ResourcesContext): void {
  const { view, gate, forwarder } = ctx;
  const lists = async () => {
    await gate.wait();
    const all = view.lists();
    ctx.notifier.shown('resources');
    return all;
  };
  server.setRequestHandler('resources/list', async (_request, handlerCtx) => ({
    resources: (await lists()).resources,
    ...listHint(ctx.hints, handlerCtx),
  }));
  server.setRequestHandler('resources/templates/list', async (_request, handlerCtx) => ({
    resourceTemplates: (await lists()).resourceTemplates,
    ...listHint(ctx.hints, handlerCtx),
  }));
  server.setRequestHandler('resources/read', async (request, handlerCtx) => {
    const { id, slug, uri } = await routeUri(ctx, request.params.uri);
    const result = (await forwarder.request(
      id,
      'resources/read',
      { ...request.params, uri },
      extraOf(handlerCtx),
    )) as ReadResourceResult;
    return {
      ...result,
      contents: (result.contents ?? []).map((c) => ({ ...c, uri: proxiedUri(slug, c.uri) })),
    };
  });

  const subscription = (method: SubscriptionMethod) =>
    server.setRequestHandler(method, async (request, handlerCtx) =>
      changeSubscription(ctx, method, request.params, extraOf(handlerCtx)),
    );
  subscription('resources/subscribe');
  subscription('resources/unsubscribe');
}

type SubscriptionMethod = 'resources/subscribe' | 'resources/unsubscribe';

/** What changing a subscription uses: routing, the instance, and the session's book. */
export type SubscriptionContext = Pick<
  HubContext,
  'gate' | 'view' | 'manager' | 'forwarder' | 'session'
>;

/** What the resource handlers use of a session. */
export type ResourcesContext = SubscriptionContext & Pick<HubContext, 'notifier' | 'hints'>;

/**
 * Subscribes to (or unsubscribes from) a hub-side resource on its instance, and keeps it in the
 * session state so a new instance session is told again.
 */
export async function changeSubscription(
  ctx: SubscriptionContext,
  method: SubscriptionMethod,
  params: { uri: string } & Record<string, unknown>,
  extra: ToolExtra,
): Promise<Result> {
  const { id, uri } = await routeUri(ctx, params.uri);
  const info = ctx.manager.get(id);
  if (info?.state === 'active' && !info.capabilities?.resources?.subscribe)
    throw wireError(
      ProtocolErrorCode.InvalidRequest,
      `instance ${info.record.name} does not support resource subscriptions (its server does not declare resources.subscribe)`,
    );
  // Another session still following the resource keeps it subscribed on the instance.
  if (method === 'resources/unsubscribe' && ctx.session.heldByOthers(id, uri)) {
    ctx.session.unsubscribed(id, uri);
    return {};
  }
  const result = await ctx.forwarder.request(id, method, { ...params, uri }, extra);
  if (method === 'resources/subscribe') ctx.session.subscribed(id, uri);
  else ctx.session.unsubscribed(id, uri);
  return result;
}
