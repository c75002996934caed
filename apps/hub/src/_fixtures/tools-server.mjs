// A streamable-HTTP MCP server on 127.0.0.1:$PORT that lists the tools given (as JSON) and
// answers every call with `<label> ran <tool> <arguments>`, writing `called <tool>` to stderr:
// a stand-in for another project's server, an older or newer beacon-instance, or a hostile one.
// Usage: PORT=n node tools-server.mjs <label> '<tools as JSON>'

import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';

const [label, toolsJson] = process.argv.slice(2);
const tools = JSON.parse(toolsJson);
const sessions = new Map();

function makeServer() {
  const server = new Server({ name: label, version: '1.0.0' }, { capabilities: { tools: {} } });
  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools }));
  server.setRequestHandler(CallToolRequestSchema, async (request) => {
    process.stderr.write(`called ${request.params.name}\n`);
    const args = JSON.stringify(request.params.arguments ?? {});
    return { content: [{ type: 'text', text: `${label} ran ${request.params.name} ${args}` }] };
  });
  return server;
}

const http = createServer(async (req, res) => {
  const id = req.headers['mcp-session-id'];
  let transport = id ? sessions.get(id) : undefined;
  if (!transport) {
    if (id) return void res.writeHead(404).end();
    transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (sid) => sessions.set(sid, transport),
    });
    transport.onclose = () => sessions.delete(transport.sessionId);
    await makeServer().connect(transport);
  }
  await transport.handleRequest(req, res);
});
http.listen(Number(process.env.PORT), '127.0.0.1', () =>
  process.stderr.write(`listening on ${process.env.PORT}\n`),
);
process.on('SIGTERM', () => process.exit(0));
