import { type ConnectionInfo, isLocal } from '@mcp-beacon/connection-manager';
import { cleanText } from '@mcp-beacon/registry';
import {
  type Client,
  type ClientCapabilities,
  type LoggingMessageNotification,
  ProtocolError,
  ProtocolErrorCode,
} from '@modelcontextprotocol/client';
import type { Server } from '@modelcontextprotocol/server';
import { attributeElicitation, attributeSampling } from './_attribution.js';
import type { HubContext } from './_context.js';
import { upstreamError, wireError } from './_forward.js';
import type { InputAsk } from './_input-relay.js';
import { createLogBound, LOGS_PER_SECOND } from './_log-bound.js';
import { proxiedUri } from './_names.js';

/** Sampling parameters as the hub's SDK server takes them (the same JSON, typed by the other SDK). */
type SamplingParams = Parameters<Server['createMessage']>[0];

/**
 * Installs, on one instance's client, the handlers of what the instance sends the hub's client:
 * log messages and resource updates (renamed to hub-side names), and sampling, elicitation and
 * roots requests (attributed to the instance, refused when the client cannot serve them; a
 * remote instance is answered no roots).
 */
export function handleInstanceRequests(ctx: HubContext, client: Client, info: ConnectionInfo) {
  const { peer, view } = ctx;
  const slug = () => view.slugs.slugOf(info.id) ?? info.record.name;
  // Who asks, for the person approving: a remote instance by its `<remote>/<name>`, so the
  // machine is in plain sight; a local one by its slug.
  const asker = () => (isLocal(info.location) ? slug() : cleanText(info.record.name));
  /** The server to ask the client through, when the client can answer `capability`. */
  const askable = (capability: keyof ClientCapabilities, what: string) => {
    const server = peer.server;
    if (server && peer.askable()?.[capability] !== undefined) return server;
    throw wireError(
      ProtocolErrorCode.InvalidRequest,
      `the MCP client connected to the Beacon hub does not support ${what}`,
    );
  };
  /**
   * For a 2026-07-28 client, which takes no requests from a server: the request, carried by one
   * of its calls to this instance as an `input_required` result.
   */
  const carried = (ask: InputAsk, what: string): Promise<never> => {
    const answer = ctx.relay.ask(info.id, ask);
    if (typeof answer !== 'string') return answer as Promise<never>;
    throw wireError(
      ProtocolErrorCode.InvalidRequest,
      answer === 'unsupported'
        ? `the MCP client connected to the Beacon hub does not support ${what}`
        : `the MCP client connected to the Beacon hub with MCP 2026-07-28, which takes an instance's ${what} request only during one of its calls to that instance`,
    );
  };
  /** The client's own errors go back to the instance as the client sent them. */
  const asUpstream = (error: unknown): never => {
    throw error instanceof ProtocolError ? upstreamError(error) : error;
  };

  /** A log message to the client. 2026-07-28: to a request that asked for it, or nowhere. */
  const passLog = async (params: LoggingMessageNotification['params']) => {
    if (!peer.connected()) return;
    if (peer.era === 'modern') ctx.relay.log(info.id, params);
    else await peer.server?.sendLoggingMessage(params).catch(() => undefined);
  };
  const logs = createLogBound(ctx.clock, (count) =>
    passLog({
      level: 'warning',
      logger: slug(),
      data: `${count} log messages of ${asker()} dropped: more than ${LOGS_PER_SECOND} a second`,
    }),
  );
  client.setNotificationHandler('notifications/message', async (notification) => {
    if (!peer.connected() || !logs.admit()) return;
    const { logger, ...rest } = notification.params;
    await passLog({ ...rest, logger: logger ? `${slug()}/${logger}` : slug() });
  });
  client.setNotificationHandler('notifications/resources/updated', async (notification) => {
    if (!peer.connected()) return;
    await peer.server
      ?.sendResourceUpdated({
        ...notification.params,
        uri: proxiedUri(slug(), notification.params.uri),
      })
      .catch(() => undefined);
  });
  client.setRequestHandler('sampling/createMessage', async (request, ctx) => {
    const params = attributeSampling(request.params, asker());
    if (peer.era === 'modern')
      return carried({ method: 'sampling/createMessage', params }, 'sampling');
    return askable('sampling', 'sampling')
      .createMessage(params as SamplingParams, {
        signal: ctx.mcpReq.signal,
      })
      .catch(asUpstream);
  });
  client.setRequestHandler('elicitation/create', async (request, ctx) => {
    const params = attributeElicitation(request.params, asker());
    if (peer.era === 'modern')
      return carried(
        // 2026-07-28 names the mode of every elicitation; a 2025 form request may not.
        { method: 'elicitation/create', params: { mode: 'form', ...params } },
        'elicitation',
      );
    return askable('elicitation', 'elicitation')
      .elicitInput(params, { signal: ctx.mcpReq.signal })
      .catch(asUpstream);
  });
  client.setRequestHandler('roots/list', async (_request, ctx) => {
    // The client's roots are this machine's folders: they mean nothing on another machine or in
    // a container, and would tell it the laptop's folder layout. A remote instance gets none.
    if (!isLocal(info.location)) return { roots: [] };
    if (peer.era === 'modern') return carried({ method: 'roots/list', params: {} }, 'roots');
    return askable('roots', 'roots')
      .listRoots(undefined, { signal: ctx.mcpReq.signal })
      .catch(asUpstream);
  });
}
