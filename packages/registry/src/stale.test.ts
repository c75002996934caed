import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { checkStale } from './stale.js';

async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await once(child, 'exit');
  return child.pid!;
}

describe('checkStale', () => {
  const now = Date.parse('2026-01-01T00:01:00.000Z');
  it('is proof when the pid is dead', async () => {
    expect(
      checkStale({ pid: await deadPid(), last_seen: new Date(now).toISOString() }, { now }),
    ).toEqual({
      stale: true,
      reason: 'pid-dead',
    });
  });

  it('hints when the heartbeat is old', () => {
    const record = { pid: process.pid, last_seen: '2026-01-01T00:00:00.000Z' };
    expect(checkStale(record, { now, maxAgeMs: 30_000 })).toEqual({
      stale: true,
      reason: 'heartbeat-expired',
    });
    expect(checkStale(record, { now, maxAgeMs: 120_000 })).toEqual({ stale: false });
  });
});
