// A streamable-HTTP MCP server on 127.0.0.1 (any port, printed as `listening on <port>` on
// stderr) whose GET event stream is refused (503) the first REFUSALS times; once a stream is
// open, it adds the tool `late_tool` and says so on that stream (tools/list_changed). Each
// GET is written to stderr as `GET <status>`.
// Usage: REFUSALS=5 node flaky-stream.mjs

import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';

const refusals = Number(process.env.REFUSALS ?? 5);
const tools = [{ name: 'early_tool', inputSchema: { type: 'object' } }];
const sessions = new Set();
let gets = 0;

const server = createServer((req, res) => {
  const session = req.headers['mcp-session-id'];
  if (req.method === 'GET') {
    if (!sessions.has(session)) return void res.writeHead(404).end();
    const status = gets++ < refusals ? 503 : 200;
    process.stderr.write(`GET ${status}\n`);
    if (status !== 200) return void res.writeHead(status).end();
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.flushHeaders();
    setTimeout(() => {
      if (!tools.some((t) => t.name === 'late_tool'))
        tools.push({ name: 'late_tool', inputSchema: { type: 'object' } });
      res.write(
        `data: ${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/tools/list_changed' })}\n\n`,
      );
    }, 300);
    return;
  }
  if (req.method === 'DELETE') return void res.writeHead(200).end();
  let body = '';
  req.on('data', (c) => {
    body += c;
  });
  req.on('end', () => {
    const message = JSON.parse(body);
    if (message.id === undefined) return void res.writeHead(202).end();
    const answer = (result, headers = {}) =>
      res
        .writeHead(200, { ...headers, 'content-type': 'application/json' })
        .end(JSON.stringify({ jsonrpc: '2.0', id: message.id, result }));
    if (message.method === 'initialize') {
      const id = randomUUID();
      sessions.add(id);
      return answer(
        {
          protocolVersion: '2025-06-18',
          capabilities: { tools: { listChanged: true } },
          serverInfo: { name: 'flaky-stream', version: '1.0.0' },
        },
        { 'mcp-session-id': id },
      );
    }
    if (message.method === 'tools/list') return answer({ tools });
    if (message.method === 'tools/call')
      return answer({ content: [{ type: 'text', text: `ran ${message.params?.name}` }] });
    return answer({});
  });
});
server.listen(0, '127.0.0.1', () => {
  process.stderr.write(`listening on ${server.address().port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
