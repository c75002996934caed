import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createTempDir, startProcess, type TempDir, waitFor } from '@mcp-beacon/test-utils';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hubEndpoint, takeLock } from './endpoint.js';

let tmp: TempDir;
beforeEach(async () => {
  tmp = await createTempDir();
});
afterEach(async () => {
  await tmp.cleanup();
});

const endpointIn = async () => {
  const endpoint = hubEndpoint(tmp.path, '1.0.0', { args: [] });
  await mkdir(endpoint.dir, { mode: 0o700 });
  return endpoint;
};

describe('the hub lock', () => {
  it('goes to one of many takers at the same moment', async () => {
    const endpoint = await endpointIn();
    // Each taker is this (live) process, as ten starting hubs would each be alive.
    const takers = Array.from({ length: 10 }, () => takeLock(endpoint));
    const results = await Promise.all(takers);
    expect(results.filter((r) => r.taken)).toHaveLength(1);
  });

  it('is held by a live process that took it lately', async () => {
    const endpoint = await endpointIn();
    await writeFile(endpoint.lock, `${process.pid}\n`);
    expect(await takeLock(endpoint, 1)).toEqual({ taken: false, holder: process.pid });
  });

  it('is taken over from a process that is gone, or a zombie nothing reaped', async () => {
    const endpoint = await endpointIn();
    await writeFile(endpoint.lock, '2147483646\n');
    expect(await takeLock(endpoint, 1)).toEqual({ taken: true });

    // `sleep 30` replaces the shell and never reaps the short sleep it inherited: a zombie.
    const parent = startProcess('sh', ['-c', 'sleep 0.05 & echo $!; exec sleep 30']);
    try {
      const zombie = Number(await waitFor(() => parent.stdout().trim() || undefined));
      await waitFor(async () => {
        const { readFile } = await import('node:fs/promises');
        const status = await readFile(`/proc/${zombie}/status`, 'utf8').catch(() => '');
        return /^State:\s+Z/m.test(status) || undefined;
      });
      const other = hubEndpoint(path.join(tmp.path, 'other'), '1.0.0', { args: [] });
      await mkdir(other.dir, { recursive: true, mode: 0o700 });
      await writeFile(other.lock, `${zombie}\n`);
      expect(await takeLock(other, 2)).toEqual({ taken: true });
    } finally {
      await parent.kill();
    }
  });
});
