import { createServer } from 'node:net';
import { freePort } from '@mcp-beacon/test-utils';
import { describe, expect, it } from 'vitest';
import { probePort, urlEndpoint } from './_probe.js';

describe('probePort', () => {
  it('says a listening port is open and a refusing one is not, sending nothing', async () => {
    let received = 0;
    const server = createServer((socket) => {
      socket.on('data', () => received++);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    expect(await probePort('127.0.0.1', port)).toBe(true);
    expect(await probePort('127.0.0.1', await freePort())).toBe(false);
    await new Promise((resolve) => server.close(resolve));
    expect(received).toBe(0);
  });

  it('reads host and port from an instance URL, IPv6 literals unbracketed', () => {
    expect(urlEndpoint('http://127.0.0.1:7778/mcp')).toEqual({ host: '127.0.0.1', port: 7778 });
    expect(urlEndpoint('http://[::1]:9/mcp')).toEqual({ host: '::1', port: 9 });
    expect(urlEndpoint('http://localhost/mcp')).toEqual({ host: 'localhost', port: 80 });
  });
});
