import { statSync } from 'node:fs';
import {
  mkdir,
  mkdtemp,
  readdir,
  realpath,
  rm,
  symlink,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ConnectionManager } from '@mcp-beacon/connection-manager';
import { resolvePaths } from '@mcp-beacon/paths';
import { createTempDir } from '@mcp-beacon/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import type { LaunchHost } from './_gui-env.js';
import { LAUNCH_LOG_MAX_AGE_MS, MAX_LAUNCH_LOGS, pruneLaunchLogs } from './launch-logs.js';
import { createLauncher, instanceCommand } from './launcher.js';

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

const LAUNCHD = '/usr/bin:/bin:/usr/sbin:/sbin';

/** Whether `dir` is a folder, for hosts whose other folders (/opt/homebrew/bin) do not exist. */
const isDirectoryUnder = (root: string) => (dir: string) => {
  try {
    return dir.startsWith(`${root}/`) && statSync(dir).isDirectory();
  } catch {
    return false;
  }
};

describe('instanceCommand on macOS', () => {
  /** An npm-style global install under `tmp`: lib/node_modules/…/cli.js and its bin links. */
  async function installed(root: string) {
    const cli = path.join(root, 'lib', 'node_modules', '@mcp-beacon', 'instance', 'dist', 'cli.js');
    await mkdir(path.dirname(cli), { recursive: true });
    await writeFile(cli, '#!/usr/bin/env node\n', { mode: 0o755 });
    const bin = path.join(root, 'bin');
    await mkdir(bin, { recursive: true });
    await symlink(cli, path.join(bin, 'beacon-x'));
    // A copied script (no .js name) and a pnpm-style sh shim.
    await writeFile(path.join(bin, 'beacon-copy'), '#!/usr/bin/env node\n', { mode: 0o755 });
    await writeFile(path.join(bin, 'beacon-sh'), '#!/bin/sh\nexec node "$0.js" "$@"\n', {
      mode: 0o755,
    });
    return { cli: await realpath(cli), bin };
  }

  it('runs a #!/usr/bin/env node program with the hub’s node, never through the shim', async () => {
    await using tmp = await createTempDir();
    const { cli, bin } = await installed(tmp.path);
    const darwin: Partial<LaunchHost> = {
      platform: 'darwin',
      env: { PATH: bin },
      execPath: '/opt/homebrew/Cellar/node/22.1.0/bin/node',
      home: tmp.path,
    };
    expect(instanceCommand('beacon-x', darwin)).toEqual({
      command: '/opt/homebrew/Cellar/node/22.1.0/bin/node',
      args: [cli],
    });
    expect(instanceCommand('beacon-copy', darwin)).toEqual({
      command: '/opt/homebrew/Cellar/node/22.1.0/bin/node',
      args: [path.join(await realpath(bin), 'beacon-copy')],
    });
    // A shell shim runs as it is: it finds node on the PATH instances get.
    expect(instanceCommand('beacon-sh', darwin)).toEqual({
      command: path.join(bin, 'beacon-sh'),
      args: [],
    });
    // Linux is unchanged: what PATH finds runs as it is.
    expect(instanceCommand('beacon-x', { ...darwin, platform: 'linux' })).toEqual({
      command: path.join(bin, 'beacon-x'),
      args: [],
    });
  });

  it('finds beacon-instance in the package managers’ folders a launchd-started hub lacks', async () => {
    await using tmp = await createTempDir();
    const { cli } = await installed(path.join(tmp.path, '.volta'));
    const darwin: Partial<LaunchHost> = {
      platform: 'darwin',
      env: { PATH: LAUNCHD },
      execPath: '/opt/homebrew/Cellar/node/22.1.0/bin/node',
      home: tmp.path,
      isDirectory: isDirectoryUnder(tmp.path),
    };
    expect(instanceCommand('beacon-x', darwin)).toEqual({
      command: '/opt/homebrew/Cellar/node/22.1.0/bin/node',
      args: [cli],
    });
    expect(() => instanceCommand('beacon-x', { ...darwin, platform: 'linux' })).toThrow(
      /beacon-x is not installed/,
    );
  });
});

describe('createLauncher on a GUI-started macOS hub', () => {
  it('starts beacon-instance with the hub’s node first on PATH and the package managers after', async () => {
    await using tmp = await createTempDir();
    const home = path.join(tmp.path, 'home');
    const project = path.join(tmp.path, 'project');
    const nodeDir = path.join(tmp.path, 'Cellar', 'node', '22.1.0', 'bin');
    for (const dir of [
      project,
      nodeDir,
      path.join(home, '.volta', 'bin'),
      path.join(home, '.bun', 'bin'),
    ])
      await mkdir(dir, { recursive: true });
    await writeFile(path.join(project, 'package.json'), '{}');
    // The hub's node, as a link in a versioned folder; the program says its PATH and exits.
    await symlink(process.execPath, path.join(nodeDir, 'node'));
    const program = path.join(tmp.path, 'says-path.mjs');
    await writeFile(
      program,
      'process.stderr.write("PATH=" + process.env.PATH + "\\n"); process.exit(3);\n',
    );
    const manager = {
      list: () => [],
      onTransition: () => () => {},
    } as unknown as ConnectionManager;
    const start = (host: Partial<LaunchHost>) => {
      const launcher = createLauncher({
        paths: resolvePaths({ home: path.join(tmp.path, 'data') }),
        manager,
        instanceBin: program,
        host,
      });
      return launcher.start(project).finally(() => launcher.close());
    };
    const darwin: Partial<LaunchHost> = {
      platform: 'darwin',
      env: { ...process.env, PATH: LAUNCHD },
      execPath: path.join(nodeDir, 'node'),
      home,
      isDirectory: isDirectoryUnder(tmp.path),
    };
    await expect(start(darwin)).rejects.toThrow(
      `PATH=${[nodeDir, LAUNCHD, path.join(home, '.volta', 'bin'), path.join(home, '.bun', 'bin')].join(':')}`,
    );
    // A PATH a shell set (a client started from a terminal) reaches the instance as it is.
    const shell = `${path.join(home, '.volta', 'bin')}:${LAUNCHD}`;
    await expect(start({ ...darwin, env: { ...process.env, PATH: shell } })).rejects.toThrow(
      `PATH=${shell}`,
    );
  });
});
