import { randomUUID } from 'node:crypto';
import { type ConnectionManager, createConnectionManager } from '@mcp-beacon/connection-manager';
import { afterEach, describe, expect, it } from 'vitest';
import { ChannelTable } from './channels.js';
import { MAX_REMOTE_INSTANCES } from './protocol.js';
import { RemoteInstances, remoteInstanceId } from './remote-instances.js';

const now = () => new Date().toISOString();
const described = (patch: Record<string, unknown> = {}) => ({
  id: randomUUID(),
  name: 'web',
  path: '/srv/web',
  pid: 4242,
  port: 7777,
  state: 'active',
  started: now(),
  has_package_json: true,
  ...patch,
});

let managers: ConnectionManager[] = [];
afterEach(async () => {
  await Promise.all(managers.map((m) => m.close()));
  managers = [];
});

/** Instances of remote `box`, added to a real manager whose channels never open (no link). */
function setup(addToManager = true) {
  const manager = createConnectionManager({ backoff: { initialMs: 60_000, maxMs: 60_000 } });
  managers.push(manager);
  const logs: string[] = [];
  let changes = 0;
  const remote = new RemoteInstances({
    remote: 'box',
    manager,
    host: new ChannelTable('box', () => undefined),
    clock: { now: Date.now, setTimeout, clearTimeout } as never,
    addToManager,
    onChange: () => {
      changes++;
    },
    log: (line) => logs.push(line),
  });
  return { manager, remote, logs, changes: () => changes };
}

describe('RemoteInstances, given a hostile remote hub', () => {
  it('holds each description to the record rules and reports each rejection once, bounded', () => {
    const { manager, remote, logs } = setup();
    const good = described({ name: 'fine' });
    const list = [
      described({ name: 'spoofed-started', started: 'the dawn of time' }),
      described({ name: 'pid-zero', pid: 0 }),
      described({ name: 'port-zero', port: 0 }),
      described({ name: 'port-high', port: 70_000 }),
      described({ name: 'bad-id', id: '../../etc/passwd' }),
      described({ name: 'huge-path', path: `/${'p'.repeat(1024 * 1024)}` }),
      described({ name: 'n'.repeat(257) }),
      described({ name: 'long-state', state: 's'.repeat(10_000) }),
      described({ name: 'long-reason', reason: 'r'.repeat(10_000) }),
      'not an object',
      null,
      good,
    ];
    remote.replaceAll(list);
    remote.replaceAll(list);
    expect(remote.size).toBe(1);
    expect(manager.list().map((c) => c.record.name)).toEqual(['box/fine']);
    // Eleven rejections, each reported once though listed twice; no line repeats a 1 MiB field.
    expect(logs).toHaveLength(11);
    for (const line of logs) expect(line.length).toBeLessThan(600);
    expect(logs.join('\n')).toMatch(/ignoring instance \.\.\/\.\.\/etc\/passwd: id: /);
    expect(logs.join('\n')).toMatch(/ignoring instance \S+: pid: /);
  });

  it('names every instance under its remote, cleaned, and derives ids no remote can choose', () => {
    const { manager, remote } = setup();
    const local = randomUUID();
    const spoofed = described({ id: local, name: '../\u001b[31mweb\u0007' });
    remote.replaceAll([spoofed]);
    const [info] = manager.list();
    // Colour codes dropped, other control characters shown as text.
    expect(info!.record.name).toBe('box/../web\\x07');
    // Its local id is derived from the remote's name and its id there: never the id it sent.
    expect(info!.id).toBe(remoteInstanceId('box', local));
    expect(info!.id).not.toBe(local);
    expect(remoteInstanceId('other', local)).not.toBe(info!.id);
    expect(info!.location).toEqual({ kind: 'remote', remote: 'box', path: '/srv/web' });
    expect(info!.record.url).toBe('http://127.0.0.1:7777/mcp');
  });

  it(`keeps at most ${MAX_REMOTE_INSTANCES} instances and says so`, () => {
    const { manager, remote, logs } = setup(false);
    remote.replaceAll(Array.from({ length: MAX_REMOTE_INSTANCES + 5 }, () => described()));
    expect(remote.size).toBe(MAX_REMOTE_INSTANCES);
    expect(manager.list()).toEqual([]);
    expect(logs.filter((l) => l.includes(`more than ${MAX_REMOTE_INSTANCES}`))).toHaveLength(5);
  });
});

describe('RemoteInstances', () => {
  it('adds an instance once the remote reaches it, and removes it when the remote says', () => {
    const { manager, remote } = setup();
    const web = described({ state: 'connecting' });
    remote.replaceAll([web]);
    expect(remote.size).toBe(1);
    expect(manager.list()).toEqual([]);
    remote.change({ instance: { ...web, state: 'active' } });
    expect(manager.list().map((c) => c.id)).toEqual(remote.localIds());
    remote.change({ id: web.id, removed: true });
    expect(remote.size).toBe(0);
    expect(manager.list().filter((c) => c.state !== 'removed')).toEqual([]);
  });

  it('drops what a new full list leaves out, and everything when the link drops', () => {
    const { manager, remote } = setup();
    const [a, b] = [described({ name: 'a' }), described({ name: 'b' })];
    remote.replaceAll([a, b]);
    expect(manager.list()).toHaveLength(2);
    remote.replaceAll([b]);
    expect(remote.instances().map((i) => i.name)).toEqual(['b']);
    expect(manager.list().map((c) => c.record.name)).toEqual(['box/b']);
    remote.hideAll('link dropped');
    expect(remote.size).toBe(0);
    expect(manager.list()).toEqual([]);
  });

  it('with addToManager off, keeps the descriptions only (beacon-hub list)', () => {
    const { manager, remote, changes } = setup(false);
    const web = described();
    remote.replaceAll([web]);
    expect(remote.instances()).toEqual([
      expect.objectContaining({ id: web.id, localId: remoteInstanceId('box', web.id) }),
    ]);
    expect(manager.list()).toEqual([]);
    expect(remote.localIds()).toEqual([]);
    expect(changes()).toBeGreaterThan(0);
  });
});
