import type { ClientCapabilities, Server, ServerContext } from '@modelcontextprotocol/server';
import type { ToolExtra } from '../calls/forward.js';
import type { ProtocolEra } from './era.js';

/**
 * The hub's MCP client as the hub reaches it: the SDK server serving its connection, which
 * exists once the client's first message chose the connection's era.
 */
export interface ClientPeer {
  /** The server serving the connection now; undefined before the client's first message. */
  readonly server: Server | undefined;
  /** The era of {@link server}. */
  readonly era: ProtocolEra | undefined;
  /** True while a connection is being served (notifications have somewhere to go). */
  connected(): boolean;
  /**
   * What the client can answer when the hub asks it (sampling, elicitation, roots). A modern
   * client is never asked: 2026-07-28 has no requests from server to client outside a call.
   */
  askable(): ClientCapabilities | undefined;
  /** The connection's server is `server`, serving `era` (the latest built wins). */
  serve(server: Server, era: ProtocolEra): void;
}

/** Creates the peer slot; {@link ClientPeer.serve} fills it. */
export function createClientPeer(): ClientPeer {
  let server: Server | undefined;
  let era: ProtocolEra | undefined;
  return {
    get server() {
      return server;
    },
    get era() {
      return era;
    },
    connected: () => server?.transport !== undefined,
    askable: () => (era === 'legacy' ? server?.getClientCapabilities() : undefined),
    serve(next, nextEra) {
      server = next;
      era = nextEra;
    },
  };
}

/** What a forwarded request needs of the SDK's handler context: its signal, progress token and notify. */
export function extraOf(ctx: ServerContext): ToolExtra {
  const { signal, notify } = ctx.mcpReq;
  const meta = ctx.mcpReq._meta as ToolExtra['_meta'];
  return {
    signal,
    _meta: meta,
    sendNotification: (notification) => notify(notification),
  };
}
