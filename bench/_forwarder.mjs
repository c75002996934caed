#!/usr/bin/env node
// The floor for a stdio -> streamable-HTTP hop: forwards every JSON-RPC line from stdin to one
// upstream session over a node:http keep-alive agent and writes back every message it gets,
// without validating or routing anything. Not a product; bench/hub-scale.mjs measures against it.
// Usage: node bench/_forwarder.mjs <url>
import { Agent, request } from 'node:http';
import { createInterface } from 'node:readline';

const url = new URL(process.argv[2]);
const agent = new Agent({ keepAlive: true });
let session;
const out = (text) => process.stdout.write(`${text}\n`);

function post(body, method = 'POST') {
  const headers = {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
  };
  if (session) headers['mcp-session-id'] = session;
  const req = request(url, { method, agent, headers });
  req.on('response', (res) => {
    session = res.headers['mcp-session-id'] ?? session;
    res.setEncoding('utf8');
    let buffer = '';
    res.on('data', (chunk) => {
      buffer += chunk;
      if (!String(res.headers['content-type']).includes('text/event-stream')) return;
      let nl = buffer.indexOf('\n');
      while (nl >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (line.startsWith('data: ')) out(line.slice(6));
        nl = buffer.indexOf('\n');
      }
    });
    res.on('end', () => {
      if (String(res.headers['content-type']).includes('application/json') && buffer) out(buffer);
    });
  });
  req.on('error', (error) => process.stderr.write(`forwarder: ${error.message}\n`));
  req.end(body);
}

createInterface({ input: process.stdin }).on('line', (line) => line && post(line));
process.stdin.on('end', () => process.exit(0));
