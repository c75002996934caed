import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { exitStatus, isProcessAlive, runTaskkill, signalGroup, taskkillTree } from './process.js';

async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await once(child, 'exit');
  return child.pid!;
}

describe('isProcessAlive', () => {
  it('is true for this process and false for an exited child', async () => {
    expect(isProcessAlive(process.pid)).toBe(true);
    expect(isProcessAlive(await deadPid())).toBe(false);
  });

  it('is false for nonsense pids', () => {
    expect(isProcessAlive(0)).toBe(false);
    expect(isProcessAlive(-5)).toBe(false);
    expect(isProcessAlive(1.5)).toBe(false);
  });
});

describe('exitStatus', () => {
  it('is the code, or 128 + the signal number, as shells report it', () => {
    expect(exitStatus(0, null)).toBe(0);
    expect(exitStatus(3, null)).toBe(3);
    expect(exitStatus(null, 'SIGTERM')).toBe(143);
    expect(exitStatus(null, 'SIGKILL')).toBe(137);
    expect(exitStatus(null, null)).toBe(1);
    expect(exitStatus(null, null, 127)).toBe(127);
  });
});

describe.skipIf(process.platform === 'win32')('signalGroup', () => {
  it('signals every member of the group, and says false once it is gone', async () => {
    // A group leader with a grandchild: both must end from one signal to the group.
    const leader = spawn(
      process.execPath,
      [
        '-e',
        `const c = require('node:child_process').spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', 'beacon-test-signal-group'], { stdio: ['ignore', 'inherit', 'ignore'] });
         process.stdout.write(String(c.pid) + '\\n'); setInterval(() => {}, 1000);`,
        'beacon-test-signal-group',
      ],
      { detached: true, stdio: ['ignore', 'pipe', 'ignore'] },
    );
    const [chunk] = (await once(leader.stdout!, 'data')) as [Buffer];
    const grandchild = Number(chunk.toString().trim());
    expect(isProcessAlive(grandchild)).toBe(true);

    expect(signalGroup(leader.pid, 'SIGTERM')).toBe(true);
    const [code, signal] = await once(leader, 'exit');
    expect(exitStatus(code, signal)).toBe(143);
    const deadline = Date.now() + 5_000;
    while (isProcessAlive(grandchild) && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 20));
    expect(isProcessAlive(grandchild)).toBe(false);
    expect(signalGroup(leader.pid, 'SIGTERM')).toBe(false);
  });

  it('refuses pids that would signal something else', () => {
    expect(signalGroup(undefined, 'SIGTERM')).toBe(false);
    expect(signalGroup(0, 'SIGTERM')).toBe(false);
    expect(signalGroup(-1, 'SIGTERM')).toBe(false);
  });
});

// Above Linux's largest pid (2^22): if a signal ever escaped the injected edges, it would reach
// no process.
const NO_SUCH_PID = 4_194_999;

describe('signalGroup on Windows (platform injected)', () => {
  const edges = () => {
    const kills: [number, NodeJS.Signals | 0][] = [];
    const taskkills: (readonly string[])[] = [];
    return {
      kills,
      taskkills,
      kill: (pid: number, signal: NodeJS.Signals | 0) => {
        kills.push([pid, signal]);
      },
      taskkill: async (args: readonly string[]) => {
        taskkills.push(args);
      },
    };
  };

  it('ends the whole tree with taskkill /T /F, not the leader alone', () => {
    for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
      const e = edges();
      const sent = signalGroup(NO_SUCH_PID, signal, {
        platform: 'win32',
        kill: e.kill,
        taskkill: e.taskkill,
      });
      expect(sent).toBe(true);
      expect(e.taskkills).toEqual([['/PID', String(NO_SUCH_PID), '/T', '/F']]);
      // Only probed, never signalled: a signal would end the leader and orphan its tree.
      expect(e.kills).toEqual([[NO_SUCH_PID, 0]]);
    }
  });

  it('says false, and runs nothing, once the root of the tree is gone', () => {
    const e = edges();
    const gone = (pid: number, signal: NodeJS.Signals | 0) => {
      e.kill(pid, signal);
      throw Object.assign(new Error('kill ESRCH'), { code: 'ESRCH' });
    };
    expect(
      signalGroup(NO_SUCH_PID, 'SIGTERM', { platform: 'win32', kill: gone, taskkill: e.taskkill }),
    ).toBe(false);
    expect(e.taskkills).toEqual([]);
    expect(signalGroup(undefined, 'SIGTERM', { platform: 'win32', taskkill: e.taskkill })).toBe(
      false,
    );
  });

  it('asks a tree to close, or forces it, through taskkill /T', async () => {
    const e = edges();
    await taskkillTree(42, false, e.taskkill);
    await taskkillTree(42, true, e.taskkill);
    expect(e.taskkills).toEqual([
      ['/PID', '42', '/T'],
      ['/PID', '42', '/T', '/F'],
    ]);
  });

  it('runTaskkill resolves when taskkill cannot even start (as here, on Linux)', async () => {
    await expect(runTaskkill(['/PID', String(NO_SUCH_PID), '/T'])).resolves.toBeUndefined();
  });
});

describe('signalGroup on macOS (platform injected)', () => {
  it('signals the POSIX group (a negative pid) and never runs taskkill', () => {
    const kills: [number, NodeJS.Signals | 0][] = [];
    const taskkills: (readonly string[])[] = [];
    const sent = signalGroup(NO_SUCH_PID, 'SIGTERM', {
      platform: 'darwin',
      kill: (pid, signal) => kills.push([pid, signal]),
      taskkill: async (args) => {
        taskkills.push(args);
      },
    });
    expect(sent).toBe(true);
    expect(kills).toEqual([[-NO_SUCH_PID, 'SIGTERM']]);
    expect(taskkills).toEqual([]);
  });
});
