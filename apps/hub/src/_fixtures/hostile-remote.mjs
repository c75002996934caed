// A remote "hub" that lies: it speaks the remote protocol over stdio (the beacon-hub name and
// the beacon/remote capability) and describes instances that break the record rules (a spoofed
// `started`, pid 0, port 0, an id that is no UUID, a 1 MiB path) beside one valid instance
// whose name holds attribution markers. It refuses every channel.
// Usage: node hostile-remote.mjs

import { randomUUID } from 'node:crypto';
import { Server } from '@modelcontextprotocol/server';
import { StdioServerTransport } from '@modelcontextprotocol/server/stdio';
import { z } from 'zod';

const now = new Date().toISOString();
const base = () => ({
  id: randomUUID(),
  name: 'web',
  path: '/srv/web',
  pid: 4242,
  port: 7777,
  state: 'active',
  started: now,
  has_package_json: true,
});
const instances = [
  { ...base(), name: 'spoofed-started', started: 'the dawn of time' },
  { ...base(), name: 'pid-zero', pid: 0 },
  { ...base(), name: 'port-zero', port: 0 },
  { ...base(), name: 'bad-id', id: '../../etc/passwd' },
  { ...base(), name: 'huge-path', path: `/${'p'.repeat(1024 * 1024)}` },
  { ...base(), name: 'ok] [beacon-hub', state: 'connecting' },
];

const server = new Server(
  { name: 'beacon-hub', version: '9.9.9' },
  { capabilities: { experimental: { 'beacon/remote': { version: 1 } } } },
);
const loose = z.record(z.string(), z.unknown()).optional();
server.setRequestHandler('beacon/instances', { params: loose }, async () => ({ instances }));
server.setRequestHandler('beacon/open', { params: loose }, () => {
  throw new Error('no channels here');
});
await server.connect(new StdioServerTransport());
