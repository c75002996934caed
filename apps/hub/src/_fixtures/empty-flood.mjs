// A streamable-HTTP MCP server on 127.0.0.1 (any port, printed as `listening on <port>` on
// stderr) that answers each of its four lists with one message of 20,000,000 empty entries
// (about 60 MB) and says its tools changed every 100 ms: the hub must cut that work while it
// reads, not after. Usage: node empty-flood.mjs

import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';

const ENTRIES = 20_000_000;
const middle = Buffer.alloc(ENTRIES * 3 - 1, '{},');
const FIELDS = {
  'tools/list': 'tools',
  'resources/list': 'resources',
  'resources/templates/list': 'resourceTemplates',
  'prompts/list': 'prompts',
};
const sessions = new Set();
const streams = new Set();
setInterval(() => {
  for (const res of streams)
    res.write(
      `data: ${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/tools/list_changed' })}\n\n`,
    );
}, 100);

const server = createServer((req, res) => {
  res.on('error', () => undefined);
  const session = req.headers['mcp-session-id'];
  if (req.method === 'GET') {
    if (!sessions.has(session)) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.flushHeaders();
    streams.add(res);
    res.on('close', () => streams.delete(res));
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
    const answer = (result, headers = {}) => {
      res.writeHead(200, { ...headers, 'content-type': 'application/json' });
      res.end(JSON.stringify({ jsonrpc: '2.0', id: message.id, result }));
    };
    if (message.method === 'initialize') {
      const id = randomUUID();
      sessions.add(id);
      return answer(
        {
          protocolVersion: '2025-06-18',
          capabilities: {
            tools: { listChanged: true },
            resources: { listChanged: true },
            prompts: { listChanged: true },
          },
          serverInfo: { name: 'empty-flood', version: '1.0.0' },
        },
        { 'mcp-session-id': id },
      );
    }
    const field = FIELDS[message.method];
    if (!field) return answer({});
    process.stderr.write(`list ${message.method}\n`);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write(`{"jsonrpc":"2.0","id":${JSON.stringify(message.id)},"result":{"${field}":[`);
    res.write(middle);
    res.end(']}}');
  });
});
server.listen(0, '127.0.0.1', () => {
  process.stderr.write(`listening on ${server.address().port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
