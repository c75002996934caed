import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createTempDir } from '@mcp-beacon/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { LAUNCH_LOG_MAX_AGE_MS, MAX_LAUNCH_LOGS, pruneLaunchLogs } from './launch-logs.js';
import { instanceCommand } from './launcher.js';

const temps: string[] = [];
afterEach(async () => {
  await Promise.all(temps.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function logsDir() {
  const dir = path.join(await mkdtemp(path.join(tmpdir(), 'beacon-hub-logs-')), 'logs');
  temps.push(path.dirname(dir));
  await mkdir(dir);
  return dir;
}

/** Writes `name` with its modification time `ageMs` before `now`. */
async function logAged(dir: string, name: string, ageMs: number, now: number) {
  const file = path.join(dir, name);
  await writeFile(file, 'warn line\n');
  const when = new Date(now - ageMs);
  await utimes(file, when, when);
  return file;
}

describe('pruneLaunchLogs', () => {
  it('removes logs untouched for 30 days and keeps the rest and other files', async () => {
    const dir = await logsDir();
    const now = Date.now();
    await logAged(dir, 'old-00000000.log', LAUNCH_LOG_MAX_AGE_MS + 60_000, now);
    await logAged(dir, 'recent-11111111.log', 60_000, now);
    await logAged(dir, 'notes.txt', LAUNCH_LOG_MAX_AGE_MS * 2, now);
    const keep = await logAged(dir, 'web-22222222.log', LAUNCH_LOG_MAX_AGE_MS * 2, now);
    expect(await pruneLaunchLogs(keep, now)).toBe(1);
    expect((await readdir(dir)).sort()).toEqual([
      'notes.txt',
      'recent-11111111.log',
      'web-22222222.log',
    ]);
  });

  it(`keeps at most ${MAX_LAUNCH_LOGS} logs, the newest, counting the one being started`, async () => {
    const dir = await logsDir();
    const now = Date.now();
    for (let i = 0; i < MAX_LAUNCH_LOGS + 5; i++)
      await logAged(dir, `p${String(i).padStart(3, '0')}-00000000.log`, i * 1_000, now);
    const keep = path.join(dir, 'new-33333333.log');
    expect(await pruneLaunchLogs(keep, now)).toBe(6);
    await writeFile(keep, '');
    const left = (await readdir(dir)).sort();
    expect(left).toHaveLength(MAX_LAUNCH_LOGS);
    // The oldest went: p098 stays, p099 and older are gone.
    expect(left).toContain('p098-00000000.log');
    expect(left).not.toContain('p099-00000000.log');
  });

  it('does nothing when the folder is missing', async () => {
    const dir = await logsDir();
    expect(await pruneLaunchLogs(path.join(dir, 'gone', 'x-00000000.log'))).toBe(0);
  });
});

describe('instanceCommand', () => {
  it('finds a bare name on PATH by absolute entries only, never one a project plants', async () => {
    await using tmp = await createTempDir();
    const planted = path.join(tmp.path, 'project', 'node_modules', '.bin');
    await mkdir(planted, { recursive: true });
    await writeFile(path.join(planted, 'beacon-fake'), '#!/bin/sh\n', { mode: 0o755 });
    const real = path.join(tmp.path, 'bin');
    await mkdir(real);
    const saved = process.env.PATH;
    const cwd = process.cwd();
    process.chdir(path.join(tmp.path, 'project'));
    try {
      process.env.PATH = `.:./node_modules/.bin:node_modules/.bin:${real}`;
      expect(() => instanceCommand('beacon-fake')).toThrow(/relative PATH entries are ignored/);
      await writeFile(path.join(real, 'beacon-fake'), '#!/bin/sh\n', { mode: 0o755 });
      expect(instanceCommand('beacon-fake')).toEqual({
        command: path.join(real, 'beacon-fake'),
        args: [],
      });
    } finally {
      process.chdir(cwd);
      process.env.PATH = saved;
    }
    expect(instanceCommand('/opt/x/cli.js')).toEqual({
      command: process.execPath,
      args: ['/opt/x/cli.js'],
    });
  });
});
