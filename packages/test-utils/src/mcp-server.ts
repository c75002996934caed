import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { NodeStreamableHTTPServerTransport } from '@modelcontextprotocol/node';
import { Server, type Tool } from '@modelcontextprotocol/server';

/** A running {@link startMcpHttpServer}. */
export interface McpHttpServer {
  url: string;
  port: number;
  /** `tools/list` requests answered so far. */
  lists(): number;
  /** From now on, every session gets `notifications/tools/list_changed` every `everyMs`. */
  flood(everyMs: number): void;
  close(): Promise<void>;
}

/** Options of {@link startMcpHttpServer}. */
export interface McpHttpServerOptions {
  host?: '127.0.0.1' | '::1';
  /** The port to listen on (default: any free one). */
  port?: number;
  /** The server's name (default `test-server`). */
  name?: string;
  /** The text a call is answered with (default `called <name>`). */
  answer?: (name: string, args: Record<string, unknown> | undefined) => string;
}

/**
 * A streamable-HTTP MCP server on 127.0.0.1 (or `host`; SDK 2's, 2025 sessions, one per client) that lists
 * `tools` as given, unvalidated (a hostile server lists anything), and answers every call with
 * `called <name>` (or what `answer` says).
 */
export async function startMcpHttpServer(
  tools: readonly unknown[],
  options: McpHttpServerOptions = {},
): Promise<McpHttpServer> {
  const answer = options.answer ?? ((name: string) => `called ${name}`);
  let lists = 0;
  let floodMs: number | undefined;
  const servers = new Set<Server>();
  const timers = new Set<NodeJS.Timeout>();
  const sessions = new Map<string, NodeStreamableHTTPServerTransport>();
  const startFlood = (server: Server) => {
    if (floodMs === undefined) return;
    timers.add(
      setInterval(() => void server.sendToolListChanged().catch(() => undefined), floodMs),
    );
  };
  const http = createServer(async (req, res) => {
    const id = req.headers['mcp-session-id'] as string | undefined;
    let transport = id ? sessions.get(id) : undefined;
    if (!transport) {
      if (id) return void res.writeHead(404).end();
      const server = new Server(
        { name: options.name ?? 'test-server', version: '1.0.0' },
        { capabilities: { tools: { listChanged: true } } },
      );
      server.setRequestHandler('tools/list', async () => {
        lists++;
        return { tools: tools as Tool[] };
      });
      server.setRequestHandler('tools/call', async (r) => ({
        content: [{ type: 'text', text: answer(r.params.name, r.params.arguments) }],
      }));
      server.oninitialized = () => startFlood(server);
      servers.add(server);
      const created: NodeStreamableHTTPServerTransport = new NodeStreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        enableJsonResponse: true,
        onsessioninitialized: (sid: string) => {
          sessions.set(sid, created);
        },
      });
      transport = created;
      await server.connect(created);
    }
    await transport.handleRequest(req, res);
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve) => http.listen(options.port ?? 0, host, resolve));
  const { port } = http.address() as { port: number };
  return {
    url: `http://${host === '::1' ? '[::1]' : host}:${port}/mcp`,
    port,
    lists: () => lists,
    flood(everyMs) {
      floodMs = everyMs;
      for (const server of servers) startFlood(server);
    },
    async close() {
      for (const timer of timers) clearInterval(timer);
      for (const server of servers) await server.close().catch(() => undefined);
      await new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      });
    },
  };
}
