import type { Server } from '@modelcontextprotocol/server';
import { ProtocolErrorCode } from '@modelcontextprotocol/server';
import type { HubContext } from '../_context.js';
import { wireError } from '../calls/forward.js';
import { listHint } from '../catalog/cache-hints.js';
import { extraOf } from '../sessions/peer.js';
import { routeUri } from './resources.js';

/** What the prompt and completion handlers use of a session. */
export type PromptsContext = Pick<
  HubContext,
  'gate' | 'view' | 'manager' | 'forwarder' | 'notifier' | 'hints'
>;

/**
 * `prompts/list`, `prompts/get`, and `completion/complete`, which is routed by the prompt or
 * resource template it completes.
 */
export function registerPromptHandlers(server: Server, ctx: PromptsContext): void {
  const { view, gate, forwarder, manager } = ctx;
  server.setRequestHandler('prompts/list', async (_request, handlerCtx) => {
    await gate.wait();
    const { prompts } = view.lists();
    ctx.notifier.shown('prompts');
    return { prompts, ...listHint(ctx.hints, handlerCtx) };
  });
  const routePrompt = async (name: string) => {
    const route = await gate.lookup(() => view.promptRoute(name));
    if (!route) throw wireError(ProtocolErrorCode.InvalidParams, `Unknown prompt: ${name}`);
    return route;
  };
  server.setRequestHandler('prompts/get', async (request, handlerCtx) => {
    const route = await routePrompt(request.params.name);
    return forwarder.request(
      route.id,
      'prompts/get',
      { ...request.params, name: route.name },
      extraOf(handlerCtx),
    ) as never;
  });

  server.setRequestHandler('completion/complete', async (request, handlerCtx) => {
    const { ref } = request.params;
    let target: { id: string; ref: typeof ref };
    if (ref.type === 'ref/prompt') {
      const route = await routePrompt(ref.name);
      target = { id: route.id, ref: { ...ref, name: route.name } };
    } else {
      const { id, uri } = await routeUri(ctx, ref.uri);
      target = { id, ref: { ...ref, uri } };
    }
    // An instance without completions has nothing to suggest; that is not an error.
    const info = manager.get(target.id);
    if (info?.state === 'active' && !info.capabilities?.completions)
      return { completion: { values: [], hasMore: false } };
    return forwarder.request(
      target.id,
      'completion/complete',
      { ...request.params, ref: target.ref },
      extraOf(handlerCtx),
    ) as never;
  });
}
