import type { ChildProcess, SpawnOptions } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import { manualClock } from '@mcp-beacon/test-utils';
import { describe, expect, it } from 'vitest';
import { LogRing } from './ring.js';
import { spawnRun } from './run.js';

describe('spawnRun', () => {
  it('starts the guardian detached and without a window, the script as argv after it', async () => {
    const calls: { command: string; args: readonly string[]; options: SpawnOptions }[] = [];
    const child = Object.assign(new EventEmitter(), {
      pid: 4242,
      stdin: new PassThrough(),
      stdout: new PassThrough(),
      stderr: new PassThrough(),
    }) as unknown as ChildProcess;
    const ends: [string, number | null][] = [];
    const run = spawnRun({
      id: 'run-1',
      script: 'dev',
      args: ['--port', '0'],
      command: 'npm',
      argv: ['run', 'dev', '--', '--port', '0'],
      program: 'C:\\Program Files\\nodejs\\npm.cmd',
      guardian: 'C:\\beacon\\dist\\guardian.js',
      graceMs: 3_000,
      cwd: 'C:\\project',
      clock: manualClock(),
      logs: new LogRing({ lines: 10, chars: 10_000 }),
      onLine: () => undefined,
      hasListeners: () => false,
      onEnd: (_run, state, exitCode) => ends.push([state, exitCode]),
      spawn: (command, args, options) => {
        calls.push({ command, args, options });
        return child;
      },
    });
    expect(calls).toHaveLength(1);
    const [call] = calls;
    expect(call?.command).toBe(process.execPath);
    expect(call?.args).toEqual([
      'C:\\beacon\\dist\\guardian.js',
      '3000',
      'C:\\Program Files\\nodejs\\npm.cmd',
      'run',
      'dev',
      '--',
      '--port',
      '0',
    ]);
    expect(call?.options).toMatchObject({ detached: true, windowsHide: true, cwd: 'C:\\project' });
    expect(call?.options.shell).toBeUndefined();
    expect(run.info).toMatchObject({ pid: 4242, command: 'npm run dev -- --port 0' });
    child.emit('close', 0, null);
    await run.exited;
    expect(ends).toEqual([['exited', 0]]);
  });
});
