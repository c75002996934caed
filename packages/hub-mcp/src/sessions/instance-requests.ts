import { type ConnectionInfo, isLocal } from '@mcp-beacon/connection-manager';
import { type Clock, cleanText } from '@mcp-beacon/runtime';
import {
  type Client,
  type ClientCapabilities,
  type LoggingMessageNotification,
  ProtocolError,
  ProtocolErrorCode,
} from '@modelcontextprotocol/client';
import type { Server } from '@modelcontextprotocol/server';
import { attributeElicitation, attributeSampling } from '../calls/attribution.js';
import { upstreamError, wireError } from '../calls/forward.js';
import type { InputAsk } from '../calls/input-relay.js';
import { createLogBound, LOGS_PER_SECOND } from '../calls/log-bound.js';
import { proxiedUri } from '../catalog/names.js';
import { callingSession } from './scope.js';
import type { ClientSession } from './session.js';
import { admits, type SubscriptionBook } from './subscriptions.js';

/** Sampling parameters as the hub's SDK server takes them (the same JSON, typed by the other SDK). */
type SamplingParams = Parameters<Server['createMessage']>[0];

/** What routing an instance's messages to client sessions needs. */
export interface SessionDirectory {
  /** The open sessions, oldest first. */
  list(): readonly ClientSession[];
  book: SubscriptionBook<ClientSession>;
  clock: Clock;
}

/** The session's name for an instance (its slug in that session's view). */
const slugIn = (session: ClientSession, info: ConnectionInfo) =>
  session.ctx.view.slugs.slugOf(info.id) ?? info.record.name;

/**
 * The session to ask for a request an instance makes outside any session's call: of those that
 * can answer `capability` (2025 sessions; a 2026-07-28 one takes requests only within a call),
 * the one that called this instance last, else the newest.
 */
function askerFor(
  sessions: readonly ClientSession[],
  instance: string,
  capability: keyof ClientCapabilities,
): ClientSession | undefined {
  let best: ClientSession | undefined;
  let bestAt = -1;
  for (const session of sessions) {
    if (session.ctx.peer.askable()?.[capability] === undefined) continue;
    const at = session.lastCalled(instance) ?? 0;
    if (at >= bestAt) {
      best = session;
      bestAt = at;
    }
  }
  return best;
}

/**
 * Installs, on one instance's client, the handlers of what the instance sends the hub's client
 * sessions: log messages and resource updates (renamed to each session's names), and sampling,
 * elicitation and roots requests (attributed to the instance). A request made during a
 * session's call goes to that session only; one made outside any call goes to the session that
 * called the instance last. A remote instance is answered no roots.
 */
export function handleInstanceRequests(
  sessions: SessionDirectory,
  client: Client,
  info: ConnectionInfo,
) {
  // Who asks, for the person approving: a remote instance by its `<remote>/<name>`, so the
  // machine is in plain sight; a local one by its slug.
  const asker = (session: ClientSession) =>
    isLocal(info.location) ? slugIn(session, info) : cleanText(info.record.name);
  const noClient = (what: string) =>
    wireError(
      ProtocolErrorCode.InvalidRequest,
      `the MCP client connected to the Beacon hub does not support ${what}`,
    );
  /** The session that asks: the caller whose call this is, else {@link askerFor}. */
  const target = (capability: keyof ClientCapabilities, what: string): ClientSession => {
    const calling = callingSession<ClientSession>(info.id);
    if (calling?.open === true) return calling;
    // Sent outside the call's own stream: a session with a call running on this instance
    // (the one that called it last), else one that can answer it at any time.
    const running = sessions
      .list()
      .filter((s) => s.open && s.running(info.id) > 0)
      .sort((a, b) => (b.lastCalled(info.id) ?? 0) - (a.lastCalled(info.id) ?? 0));
    const session = running[0] ?? askerFor(sessions.list(), info.id, capability);
    if (!session) throw noClient(what);
    return session;
  };
  /** The server to ask a 2025 session through, when it can answer `capability`. */
  const askable = (session: ClientSession, capability: keyof ClientCapabilities, what: string) => {
    const server = session.ctx.peer.server;
    if (server && session.ctx.peer.askable()?.[capability] !== undefined) return server;
    throw noClient(what);
  };
  /**
   * For a 2026-07-28 session, which takes no requests from a server: the request, carried by one
   * of its calls to this instance as an `input_required` result.
   */
  const carried = (session: ClientSession, ask: InputAsk, what: string): Promise<never> => {
    const answer = session.ctx.relay.ask(info.id, ask);
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
  /**
   * An instance's request to a session's client, as the session's era takes it: carried by one of
   * its calls (2026-07-28), or asked of the client directly (2025).
   */
  const ask = <T>(
    session: ClientSession,
    capability: 'sampling' | 'elicitation' | 'roots',
    request: InputAsk,
    direct: (server: NonNullable<ClientSession['ctx']['peer']['server']>) => Promise<T>,
  ): Promise<T> =>
    session.ctx.peer.era === 'modern'
      ? carried(session, request, capability)
      : direct(askable(session, capability, capability)).catch(asUpstream);

  /** A log message to one session: 2026-07-28, to a request that asked for it, or nowhere. */
  const logTo = async (session: ClientSession, params: LoggingMessageNotification['params']) => {
    const { peer } = session.ctx;
    if (!peer.connected()) return;
    const named = {
      ...params,
      logger: params.logger ? `${slugIn(session, info)}/${params.logger}` : slugIn(session, info),
    };
    if (peer.era === 'modern') session.ctx.relay.log(info.id, named);
    else if (admits(sessions.book.levelOf(session), params.level))
      await peer.server?.sendLoggingMessage(named).catch(() => undefined);
  };
  /** A message of a call goes to the calling session; any other to every session. */
  const passLog = async (params: LoggingMessageNotification['params']) => {
    const calling = callingSession<ClientSession>(info.id);
    const to = calling?.open === true ? [calling] : sessions.list();
    await Promise.all(to.map((session) => logTo(session, params)));
  };
  const logs = createLogBound(sessions.clock, (count) =>
    passLog({
      level: 'warning',
      data: `${count} log messages of ${cleanText(info.record.name)} dropped: more than ${LOGS_PER_SECOND} a second`,
    }),
  );
  client.setNotificationHandler('notifications/message', async (notification) => {
    if (!logs.admit()) return;
    await passLog(notification.params);
  });
  client.setNotificationHandler('notifications/resources/updated', async (notification) => {
    const { uri } = notification.params;
    await Promise.all(
      sessions.book.holders(info.id, uri).map((session) =>
        session.ctx.peer.connected()
          ? session.ctx.peer.server
              ?.sendResourceUpdated({
                ...notification.params,
                uri: proxiedUri(slugIn(session, info), uri),
              })
              .catch(() => undefined)
          : undefined,
      ),
    );
  });
  client.setRequestHandler('sampling/createMessage', async (request, ctx) => {
    const session = target('sampling', 'sampling');
    const params = attributeSampling(request.params, asker(session));
    return ask(session, 'sampling', { method: 'sampling/createMessage', params }, (server) =>
      server.createMessage(params as SamplingParams, { signal: ctx.mcpReq.signal }),
    );
  });
  client.setRequestHandler('elicitation/create', async (request, ctx) => {
    const session = target('elicitation', 'elicitation');
    const params = attributeElicitation(request.params, asker(session));
    return ask(
      session,
      'elicitation',
      // 2026-07-28 names the mode of every elicitation; a 2025 form request may not.
      { method: 'elicitation/create', params: { mode: 'form', ...params } },
      (server) => server.elicitInput(params, { signal: ctx.mcpReq.signal }),
    );
  });
  client.setRequestHandler('roots/list', async (_request, ctx) => {
    // The client's roots are this machine's folders: they mean nothing on another machine or in
    // a container, and would tell it the laptop's folder layout. A remote instance gets none.
    if (!isLocal(info.location)) return { roots: [] };
    const session = target('roots', 'roots');
    return ask(session, 'roots', { method: 'roots/list', params: {} }, (server) =>
      server.listRoots(undefined, { signal: ctx.mcpReq.signal }),
    );
  });
}
