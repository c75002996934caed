// What the announced fixture servers share: listen on 127.0.0.1 (any port) of whatever network
// namespace they run in, announce themselves as `name` in $MCP_BEACON_HOME, say
// `listening on <port>` on stderr, and withdraw the record on SIGTERM or SIGINT.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { resolvePaths } from '@mcp-beacon/paths';
import { register } from '@mcp-beacon/registry';
import { NodeStreamableHTTPServerTransport } from '@modelcontextprotocol/node';

/** Listens with `http`, then announces it as `name`; `beforeExit` runs after the withdrawal. */
export async function listenAndAnnounce(http, name, beforeExit = async () => undefined) {
  await new Promise((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address();
  const registration = await register({
    paths: resolvePaths(),
    record: {
      pid: process.pid,
      path: process.cwd(),
      port,
      name,
      has_package_json: false,
      url: `http://127.0.0.1:${port}/mcp`,
    },
  });
  process.stderr.write(`listening on ${port}\n`);
  const stop = async () => {
    await registration.close();
    await beforeExit();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

/**
 * An HTTP server of streamable-HTTP MCP sessions (SDK 2's node transport, 2025 sessions), each
 * with a server from `makeServer`; `opened` is called as each session starts.
 */
export function sessionServer(makeServer, opened = () => undefined) {
  const sessions = new Map();
  return createServer(async (req, res) => {
    const id = req.headers['mcp-session-id'];
    let transport = id ? sessions.get(id) : undefined;
    if (!transport) {
      if (id) return void res.writeHead(404).end();
      transport = new NodeStreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (sid) => {
          opened();
          sessions.set(sid, transport);
        },
      });
      transport.onclose = () => sessions.delete(transport.sessionId);
      await makeServer().connect(transport);
    }
    await transport.handleRequest(req, res);
  });
}
