import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ConnectionManager, createConnectionManager } from '@mcp-beacon/connection-manager';
import { createTempDir, processesWith, testNode, waitFor } from '@mcp-beacon/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { RemoteLink } from './link.js';
import type { RemoteInfo, RemoteLinkOptions } from './types.js';

const fixture = (name: string) => fileURLToPath(new URL(`../_fixtures/${name}`, import.meta.url));

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

/** A link running `command`, with a real manager; it retries after a minute unless told. */
function link(command: string[], options: Partial<RemoteLinkOptions> = {}) {
  const manager: ConnectionManager = createConnectionManager();
  const states: RemoteInfo[] = [];
  const logs: string[] = [];
  const remote = new RemoteLink({
    spec: { name: 'box', command },
    manager,
    clientInfo: { name: 'beacon-hub', version: '1.0.0' },
    handshakeTimeoutMs: 5_000,
    backoff: { initialMs: 60_000, maxMs: 60_000 },
    onChange: (info) => states.push(info),
    log: (line) => logs.push(line),
    ...options,
  });
  cleanups.push(() => manager.close());
  cleanups.push(() => remote.close());
  remote.start();
  return { remote, manager, states, logs };
}

const sh = (script: string) => ['/bin/sh', '-c', script];

describe('RemoteLink, given a command that is no Beacon hub', () => {
  it('refuses output that is not MCP, quoting it', async () => {
    const { remote } = link(sh('echo "Welcome to devbox!"; sleep 30'));
    await remote.firstAttemptEnded;
    expect(remote.info()).toMatchObject({
      state: 'refused',
      reason: 'not a Beacon hub: not JSON-RPC on stdout: "Welcome to devbox!"',
    });
  });

  it('refuses an MCP server that is not a hub, and a hub too old to serve remotes', async () => {
    const other = link([testNode, fixture('stdio-server.mjs'), 'other', '2.0.0']).remote;
    const old = link([testNode, fixture('stdio-server.mjs'), 'beacon-hub', '0.1.0']).remote;
    await Promise.all([other.firstAttemptEnded, old.firstAttemptEnded]);
    expect(other.info()).toMatchObject({
      state: 'refused',
      reason: 'not a Beacon hub: it answered as other 2.0.0',
      hub: { name: 'other', version: '2.0.0' },
    });
    expect(old.info().reason).toBe(
      'beacon-hub 0.1.0 there is too old to serve as a remote; upgrade it on that machine',
    );
  });

  it('says why a command exited, with its last stderr line, and retries with backoff', async () => {
    const tmp = await createTempDir();
    cleanups.push(() => tmp.cleanup());
    const tries = path.join(tmp.path, 'tries');
    const { remote, states } = link(
      sh(`echo x >> '${tries}'; echo 'Permission denied (publickey).' >&2; exit 255`),
      { backoff: { initialMs: 50, maxMs: 100 } },
    );
    await remote.firstAttemptEnded;
    // Read from the reported states: the next attempt may have begun already.
    expect(states.find((s) => s.state !== 'connecting')).toMatchObject({
      state: 'unreachable',
      reason:
        'the command exited (code 255): it asks for a password or a host-key confirmation, which the hub cannot answer; use a key (ssh-agent) and a known host (stderr: Permission denied (publickey).)',
    });
    // Backoff of 50-100 ms: tried again and again, each time reported as connecting first.
    await waitFor(async () => (await readFile(tries, 'utf8')).split('\n').length > 4, {
      what: 'three retries',
    });
    expect(states.filter((s) => s.state === 'connecting').length).toBeGreaterThanOrEqual(3);
  });

  it('cannot run a program that does not exist, and says so', async () => {
    const { remote } = link([`/nonexistent/${randomUUID()}`]);
    await remote.firstAttemptEnded;
    expect(remote.info()).toMatchObject({ state: 'unreachable' });
    expect(remote.info().reason).toMatch(/^cannot run \/nonexistent\/.*ENOENT/);
  });
});

describe('RemoteLink, given a hub that lies about its instances', () => {
  it('connects, keeps only the descriptions that pass the record rules, and adds none yet', async () => {
    const { remote, manager, logs } = link([testNode, fixture('hostile-remote.mjs')]);
    await remote.firstAttemptEnded;
    expect(remote.info()).toMatchObject({ state: 'connected', instances: 1 });
    expect(remote.instances().map((i) => i.name)).toEqual(['ok] [beacon-hub']);
    expect(logs.filter((l) => l.includes('ignoring instance'))).toHaveLength(5);
    // Its one valid instance is still connecting there: nothing is added to this manager.
    expect(manager.list()).toEqual([]);
    await expect(remote.startInstance('/srv/web', { timeoutMs: 2_000 })).rejects.toThrow();
  });
});

describe('RemoteLink.close', () => {
  it('ends the whole process group of a command that never answers', async () => {
    const marker = `beacon-link-test-${randomUUID()}`;
    const script = `${testNode} -e "setInterval(()=>{},1000)" ${marker} & ${testNode} -e "setInterval(()=>{},1000)" ${marker}; wait`;
    const { remote } = link(sh(script), { handshakeTimeoutMs: 60_000 });
    await waitFor(() => processesWith(marker).length >= 3, {
      what: 'the shell and both processes running',
    });
    await remote.close();
    await waitFor(() => processesWith(marker).length === 0, { what: 'none left' });
    expect(remote.info().state).toBe('connecting');
  });
});
