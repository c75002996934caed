import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:net';
import { startProcess, testNode } from '@mcp-beacon/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { checkPortOwner, findPortOwner } from './sockets.js';

const servers: Server[] = [];
const fresh = { maxAgeMs: 0 };
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function listen(host = '127.0.0.1'): Promise<number> {
  const server = createServer();
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return (server.address() as AddressInfo).port;
}

describe.runIf(process.platform === 'linux')('checkPortOwner (Linux /proc)', () => {
  it('knows the pid that listens, on IPv4 and IPv6', async () => {
    const v4 = await listen();
    expect(await checkPortOwner(process.pid, v4, fresh)).toBe('owner');
    expect(await findPortOwner(v4)).toBe(process.pid);
    const v6 = await listen('::1').catch(() => undefined);
    if (v6 !== undefined) expect(await checkPortOwner(process.pid, v6, fresh)).toBe('owner');
  });

  it('tells another process on the port from nothing on it', async () => {
    const port = await listen();
    await using other = startProcess(testNode, ['-e', 'setInterval(() => {}, 1000)']);
    expect(await checkPortOwner(other.pid, port, fresh)).toBe('other');
    const free = await listen();
    await new Promise((resolve) => servers.pop()!.close(resolve));
    expect(await checkPortOwner(process.pid, free, fresh)).toBe('none');
    expect(await checkPortOwner(999_999_999, port, fresh)).toBe('other');
  });
});

describe.runIf(process.platform === 'linux')('checkPortOwner in a burst', () => {
  it('answers many checks against one process with many sockets, each right', async () => {
    const ports = await Promise.all(Array.from({ length: 50 }, () => listen()));
    const answers = await Promise.all(ports.map((port) => checkPortOwner(process.pid, port)));
    expect(new Set(answers)).toEqual(new Set(['owner']));
    // A socket opened after the burst's scan is found: a miss scans afresh.
    const late = await listen();
    expect(await checkPortOwner(process.pid, late)).toBe('owner');
  });
});

describe('checkPortOwner elsewhere', () => {
  it('answers unknown without /proc', async () => {
    if (process.platform === 'linux')
      expect(await checkPortOwner(process.pid, 1, { proc: '/nonexistent' })).toBe('none');
    else expect(await checkPortOwner(process.pid, 1)).toBe('unknown');
  });
});
