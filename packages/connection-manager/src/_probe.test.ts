import { createServer } from 'node:net';
import type { LoopbackAddress, PortOwnership } from '@mcp-beacon/registry';
import { freePort, makeRecord } from '@mcp-beacon/test-utils';
import { describe, expect, it } from 'vitest';
import { probePort, safeTarget, urlEndpoint } from './_probe.js';

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

describe('safeTarget', () => {
  const record = makeRecord({ pid: 4321, port: 8080, url: 'http://localhost:8080/mcp' });
  const deps = (
    portOwner: () => Promise<PortOwnership>,
    loopbacks: () => Promise<LoopbackAddress[] | undefined> = async () => ['127.0.0.1'],
  ) => ({ probe: async () => true, portOwner, loopbacks });

  it('refuses while the port-owner check fails, and goes ahead where it is off', async () => {
    const failing = async (): Promise<never> => {
      throw new Error('/usr/sbin/lsof failed: no answer within 5000 ms');
    };
    expect(await safeTarget(record, deps(failing), false)).toEqual({
      refused:
        'cannot tell which process holds port 8080 (/usr/sbin/lsof failed: no answer within 5000 ms); not connecting, so its token stays private',
    });
    expect(
      await safeTarget(
        record,
        deps(async () => 'owner', failing),
        false,
      ),
    ).toMatchObject({
      refused: expect.stringMatching(/^cannot tell which process holds port 8080/),
    });
    expect(
      await safeTarget(
        record,
        deps(
          async () => 'unknown',
          async () => undefined,
        ),
        false,
      ),
    ).toEqual({ record });
    expect(
      await safeTarget(
        record,
        deps(async () => 'owner'),
        false,
      ),
    ).toEqual({
      record: { ...record, url: 'http://127.0.0.1:8080/mcp' },
    });
  });
});
