import type { ChildProcess, SpawnOptions } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import { manualClock } from '@mcp-beacon/test-utils';
import { describe, expect, it } from 'vitest';
import { type GuardianOptions, groupMembers, startGuardian } from './guardian.js';

const SCRIPT_PID = 4242;
const SELF = 4000;

/** A stand-in for the script's process, and the edges a guardian acts through, recorded. */
function edges(platform: NodeJS.Platform) {
  const child = Object.assign(new EventEmitter(), { pid: SCRIPT_PID }) as unknown as ChildProcess;
  const exit = (code: number | null, signal: NodeJS.Signals | null = null) =>
    setImmediate(() => child.emit('exit', code, signal));
  const spawned: { command: string; args: readonly string[]; options: SpawnOptions }[] = [];
  const taskkills: (readonly string[])[] = [];
  const kills: [number, NodeJS.Signals | 0][] = [];
  const reports: string[] = [];
  let psRuns = 0;
  const clock = manualClock();
  const options: GuardianOptions = {
    command: 'C:\\Program Files\\nodejs\\npm.cmd',
    args: ['run', 'dev', '--', 'a & b'],
    graceMs: 3_000,
    platform,
    self: SELF,
    clock,
    spawn: (command, args, spawnOptions) => {
      spawned.push({ command, args, options: spawnOptions });
      return child;
    },
    taskkill: async (args) => {
      taskkills.push(args);
      // taskkill /F ends the tree: the script with it.
      if (args.includes('/F')) exit(1);
    },
    kill: (pid, signal) => {
      kills.push([pid, signal]);
    },
    members: () => {
      psRuns++;
      return { live: [], zombies: 0 };
    },
    report: (message) => reports.push(message),
  };
  return {
    options,
    child,
    exit,
    spawned,
    taskkills,
    kills,
    reports,
    clock,
    psRuns: () => psRuns,
  };
}

describe('startGuardian on Windows (platform injected)', () => {
  it('starts the script from argv, without a shell string and without a window', async () => {
    const e = edges('win32');
    startGuardian(e.options);
    expect(e.spawned).toHaveLength(1);
    const [call] = e.spawned;
    expect(call?.command).toBe('C:\\Program Files\\nodejs\\npm.cmd');
    expect(call?.args).toEqual(['run', 'dev', '--', 'a & b']);
    expect(call?.options.windowsHide).toBe(true);
    expect(call?.options.shell).toBeUndefined();
  });

  it('on a stop, asks the tree to close (taskkill /T), ends it (/T /F) after the grace period, then exits', async () => {
    const e = edges('win32');
    const guardian = startGuardian(e.options);
    void guardian.sweep();
    await new Promise((resolve) => setImmediate(resolve));
    expect(e.taskkills).toEqual([['/PID', String(SCRIPT_PID), '/T']]);
    await e.clock.advance(2_999);
    expect(e.taskkills).toHaveLength(1);
    await e.clock.advance(1);
    expect(e.taskkills).toEqual([
      ['/PID', String(SCRIPT_PID), '/T'],
      ['/PID', String(SCRIPT_PID), '/T', '/F'],
    ]);
    expect(await guardian.done).toBe(1);
    // Never the POSIX ways: no group to signal, no ps to ask, and never a signal to itself.
    expect(e.kills).toEqual([]);
    expect(e.psRuns()).toBe(0);
  });

  it('does not force a tree that closed when asked, and exits with the script status', async () => {
    const e = edges('win32');
    e.options.taskkill = async (args) => {
      e.taskkills.push(args);
      if (!args.includes('/F')) e.exit(0);
    };
    const guardian = startGuardian(e.options);
    void guardian.sweep();
    expect(await guardian.done).toBe(0);
    await e.clock.advance(10_000);
    expect(e.taskkills).toEqual([['/PID', String(SCRIPT_PID), '/T']]);
    expect(e.clock.pending()).toBe(0);
  });

  it('a script that exits on its own ends the guardian with its status, with no taskkill', async () => {
    const e = edges('win32');
    const guardian = startGuardian(e.options);
    e.exit(3);
    expect(await guardian.done).toBe(3);
    expect(e.taskkills).toEqual([]);
    expect(e.psRuns()).toBe(0);
  });

  it('reports a script that cannot start (cross-spawn refuses a line break for cmd.exe) as 127', async () => {
    const e = edges('win32');
    e.options.spawn = () => {
      throw new TypeError('The command and its arguments cannot contain line breaks');
    };
    const guardian = startGuardian(e.options);
    expect(await guardian.done).toBe(127);
    expect(e.reports.join('')).toContain('cannot start C:\\Program Files\\nodejs\\npm.cmd');
  });
});

describe('startGuardian on macOS (platform injected)', () => {
  it('on a stop, SIGTERMs its group, SIGKILLs the members left at the deadline, then exits', async () => {
    const e = edges('darwin');
    let live = [5001, 5002];
    e.options.members = () => ({ live, zombies: 0 });
    e.options.kill = (pid, signal) => {
      e.kills.push([pid, signal]);
      if (signal === 'SIGKILL') live = live.filter((p) => p !== pid);
    };
    const guardian = startGuardian(e.options);
    void guardian.sweep();
    await e.clock.advance(1_000);
    expect(e.kills).toEqual([[-SELF, 'SIGTERM']]);
    await e.clock.advance(2_100);
    expect(e.kills).toEqual([
      [-SELF, 'SIGTERM'],
      [5001, 'SIGKILL'],
      [5002, 'SIGKILL'],
    ]);
    e.exit(null, 'SIGTERM');
    await e.clock.advance(100);
    expect(await guardian.done).toBe(143);
    expect(e.taskkills).toEqual([]);
  });
});

describe('groupMembers', () => {
  it('on macOS reads the group from ps: other members, zombies counted apart, other groups left out', () => {
    const ps = [
      `  ${SELF}  ${SELF} Ss`,
      `  5001  ${SELF} S+`,
      `  5002  ${SELF} Z+`,
      '  5003   777 R',
      '',
    ].join('\n');
    expect(groupMembers(SELF, { platform: 'darwin', ps: () => ps })).toEqual({
      live: [5001],
      zombies: 1,
    });
    expect(groupMembers(SELF, { platform: 'darwin', ps: () => '' })).toEqual({
      live: [],
      zombies: 0,
    });
  });
});

describe("cross-spawn on Windows (the guardian's default spawn edge)", () => {
  // cross-spawn reads process.platform when it loads: a fresh copy is loaded as on Windows,
  // and dropped after. It pins what the guardian relies on, and fails the day it changes.
  const parseAsWindows = (command: string, args: string[]) => {
    const require = createRequire(import.meta.url);
    const drop = () => {
      for (const id of Object.keys(require.cache))
        if (/[\\/](cross-spawn|which|isexe)@/.test(id)) delete require.cache[id];
    };
    const platform = Object.getOwnPropertyDescriptor(process, 'platform')!;
    drop();
    Object.defineProperty(process, 'platform', { ...platform, value: 'win32' });
    try {
      const crossSpawn = require('cross-spawn') as {
        _parse(
          command: string,
          args: string[],
          options: SpawnOptions,
        ): {
          command: string;
          args: string[];
          options: SpawnOptions;
        };
      };
      return crossSpawn._parse(command, args, { windowsHide: true });
    } finally {
      Object.defineProperty(process, 'platform', platform);
      drop();
    }
  };

  it('runs npm.cmd in cmd.exe with every argument quoted and %VAR% neutralised, hidden', () => {
    const parsed = parseAsWindows('C:\\Program Files\\nodejs\\npm.cmd', [
      'run',
      'dev',
      '--',
      'a & b',
      '%PATH%',
    ]);
    expect(parsed.command).toMatch(/cmd\.exe$/i);
    expect(parsed.args.slice(0, 5)).toEqual(['/d', '/e:on', '/v:off', '/s', '/c']);
    expect(parsed.args[5]).toBe(
      '""C:\\Program Files\\nodejs\\npm.cmd" "run" "dev" "--" "a & b" "%%cd:~,%PATH%%cd:~,%""',
    );
    expect(parsed.options).toMatchObject({ windowsHide: true, windowsVerbatimArguments: true });
  });

  it('refuses a line break, which cmd.exe would take for the end of the command', () => {
    expect(() => parseAsWindows('C:\\nodejs\\npm.cmd', ['run', 'x\r\ncalc'])).toThrow(
      /line breaks/,
    );
  });
});
