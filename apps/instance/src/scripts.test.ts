import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createTempDir, manualClock, type TempDir, waitFor } from '@mcp-beacon/test-utils';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ScriptRunner } from './scripts.js';

// Stand-ins for the guardian that say what reached them: a stop through stdin (Windows), or a
// SIGTERM to the group (POSIX). The polite one then exits; the stuck one ignores both.
// It says it is up only once it listens for both, so a stop sent at once is seen.
const GUARDIAN = (stuck: boolean) => `
process.on('SIGTERM', () => { process.stdout.write('got SIGTERM\\n'); ${stuck ? '' : 'process.exit(143);'} });
process.stdin.on('end', () => { process.stdout.write('stdin ended\\n'); ${stuck ? '' : 'process.exit(0);'} });
process.stdin.resume();
process.stdout.write('guardian up, running ' + process.argv[3] + '\\n');
setInterval(() => {}, 1000);
`;

let tmp: TempDir;
let project: string;
let polite: string;
let stuck: string;
const started: number[] = [];
beforeEach(async () => {
  tmp = await createTempDir();
  project = path.join(tmp.path, 'app');
  await mkdir(project);
  await writeFile(
    path.join(project, 'package.json'),
    JSON.stringify({ name: 'app', scripts: { dev: 'node server.js' } }),
  );
  polite = path.join(tmp.path, 'polite-guardian.mjs');
  stuck = path.join(tmp.path, 'stuck-guardian.mjs');
  await writeFile(polite, GUARDIAN(false));
  await writeFile(stuck, GUARDIAN(true));
});
afterEach(async () => {
  for (const pid of started.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Gone.
    }
  }
  await tmp.cleanup();
});

const text = (runner: ScriptRunner, id: string) =>
  runner
    .logs({ run: id })
    .lines.map((line) => line.text)
    .join('\n');

describe('ScriptRunner on Windows (platform injected)', () => {
  it('runs the package manager found by the Windows rules, and stops a run through the guardian stdin, not a signal', async () => {
    const taskkills: (readonly string[])[] = [];
    const runner = new ScriptRunner({
      cwd: project,
      guardianPath: polite,
      platform: 'win32',
      findProgram: (name) => `C:\\Program Files\\nodejs\\${name}.cmd`,
      taskkill: async (args) => {
        taskkills.push(args);
      },
    });
    const { run } = await runner.run('dev');
    started.push(run.pid!);
    await waitFor(() => text(runner, run.id).includes('guardian up'), { what: 'guardian up' });
    expect(text(runner, run.id)).toContain('running C:\\Program Files\\nodejs\\npm.cmd');
    const stopped = await runner.stop(run.id);
    expect(stopped.state).toBe('stopped');
    expect(text(runner, run.id)).toContain('stdin ended');
    expect(text(runner, run.id)).not.toContain('got SIGTERM');
    expect(taskkills).toEqual([]);
  });

  it('ends a guardian still there 2 s after the grace period with its whole tree (taskkill /T /F)', async () => {
    const clock = manualClock();
    const taskkills: (readonly string[])[] = [];
    const runner = new ScriptRunner({
      cwd: project,
      guardianPath: stuck,
      graceMs: 1_000,
      clock,
      platform: 'win32',
      findProgram: (name) => `C:\\Program Files\\nodejs\\${name}.cmd`,
      taskkill: async (args) => {
        taskkills.push(args);
        process.kill(Number(args[1]), 'SIGKILL');
      },
    });
    const { run } = await runner.run('dev');
    started.push(run.pid!);
    await waitFor(() => text(runner, run.id).includes('guardian up'), { what: 'guardian up' });
    const stopping = runner.stop(run.id);
    await waitFor(() => text(runner, run.id).includes('stdin ended'), { what: 'stdin ended' });
    await clock.advance(2_999);
    expect(taskkills).toEqual([]);
    await clock.advance(1);
    expect((await stopping).state).toBe('stopped');
    expect(taskkills).toEqual([['/PID', String(run.pid), '/T', '/F']]);
    expect(text(runner, run.id)).not.toContain('got SIGTERM');
  });
});

describe('ScriptRunner on macOS (platform injected)', () => {
  it('stops a run with SIGTERM to its process group', async () => {
    const taskkills: (readonly string[])[] = [];
    const runner = new ScriptRunner({
      cwd: project,
      guardianPath: polite,
      platform: 'darwin',
      findProgram: (name) => `/usr/local/bin/${name}`,
      taskkill: async (args) => {
        taskkills.push(args);
      },
    });
    const { run } = await runner.run('dev');
    started.push(run.pid!);
    await waitFor(() => text(runner, run.id).includes('guardian up'), { what: 'guardian up' });
    expect(text(runner, run.id)).toContain('running /usr/local/bin/npm');
    expect((await runner.stop(run.id)).state).toBe('stopped');
    expect(text(runner, run.id)).toContain('got SIGTERM');
    expect(text(runner, run.id)).not.toContain('stdin ended');
    expect(taskkills).toEqual([]);
  });
});
