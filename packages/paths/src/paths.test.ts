import { chmod, chown, mkdir, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { canMount, createTempDir, mountTmpfs } from '@mcp-beacon/test-utils';
import envPaths from 'env-paths';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ensureDir, ensurePaths, PathsError, resolvePaths } from './index.js';

describe('resolvePaths', () => {
  it('uses MCP_BEACON_HOME when set', () => {
    const paths = resolvePaths({ env: { MCP_BEACON_HOME: '/srv/beacon/' }, platform: 'linux' });
    expect(paths).toEqual({
      root: '/srv/beacon',
      instances: '/srv/beacon/instances',
      temp: '/srv/beacon/temp',
      config: '/srv/beacon',
    });
  });

  it('expands ~ and ~/ as a shell would, and refuses ~user', () => {
    const at = (value: string) =>
      resolvePaths({ env: { MCP_BEACON_HOME: value }, platform: 'linux', homedir: '/home/u' }).root;
    expect(at('~')).toBe('/home/u');
    expect(at('~/beacon/')).toBe('/home/u/beacon');
    expect(() => at('~bob/beacon')).toThrow(
      /starts with "~bob": only ~\/ \(your own home\) is expanded/,
    );
    expect(resolvePaths({ home: '~\\b', platform: 'win32', homedir: 'C:\\Users\\u' }).root).toBe(
      'C:\\Users\\u\\b',
    );
  });

  it('prefers an explicit home over the environment', () => {
    const paths = resolvePaths({ home: '/a', env: { MCP_BEACON_HOME: '/b' }, platform: 'linux' });
    expect(paths.root).toBe('/a');
  });

  it('rejects a relative or empty override with a clear error', () => {
    expect(() => resolvePaths({ env: { MCP_BEACON_HOME: 'rel/dir' } })).toThrow(PathsError);
    expect(() => resolvePaths({ env: { MCP_BEACON_HOME: '' } })).toThrow(
      /MCP_BEACON_HOME must be an absolute path/,
    );
  });

  it('follows XDG on Linux', () => {
    expect(resolvePaths({ env: {}, platform: 'linux', homedir: '/home/u' }).root).toBe(
      '/home/u/.local/share/mcp-beacon',
    );
    expect(
      resolvePaths({ env: { XDG_DATA_HOME: '/xdg' }, platform: 'linux', homedir: '/home/u' })
        .instances,
    ).toBe('/xdg/mcp-beacon/instances');
  });

  it('uses Application Support on macOS', () => {
    expect(resolvePaths({ env: {}, platform: 'darwin', homedir: '/Users/u' }).root).toBe(
      '/Users/u/Library/Application Support/mcp-beacon',
    );
  });

  it('uses LOCALAPPDATA on Windows', () => {
    const withEnv = resolvePaths({
      env: { LOCALAPPDATA: 'C:\\Users\\u\\AppData\\Local' },
      platform: 'win32',
      homedir: 'C:\\Users\\u',
    });
    expect(withEnv).toEqual({
      root: 'C:\\Users\\u\\AppData\\Local\\mcp-beacon\\Data',
      instances: 'C:\\Users\\u\\AppData\\Local\\mcp-beacon\\Data\\instances',
      temp: 'C:\\Users\\u\\AppData\\Local\\mcp-beacon\\Data\\temp',
      config: 'C:\\Users\\u\\AppData\\Roaming\\mcp-beacon\\Config',
    });
    expect(resolvePaths({ env: {}, platform: 'win32', homedir: 'C:\\Users\\u' }).root).toBe(
      'C:\\Users\\u\\AppData\\Local\\mcp-beacon\\Data',
    );
    expect(() => resolvePaths({ env: { MCP_BEACON_HOME: 'x' }, platform: 'win32' })).toThrow(
      PathsError,
    );
  });

  it('agrees with env-paths for this machine', () => {
    const env = { ...process.env };
    delete env.MCP_BEACON_HOME;
    expect(resolvePaths({ env, homedir: homedir() }).root).toBe(
      envPaths('mcp-beacon', { suffix: '' }).data,
    );
  });

  it('strips a trailing separator from the root on every OS', () => {
    expect(resolvePaths({ home: '/srv/beacon//', platform: 'darwin' }).root).toBe('/srv/beacon');
    expect(resolvePaths({ home: 'D:\\beacon\\', platform: 'win32' }).root).toBe('D:\\beacon');
  });
});

// env-paths reads the platform, home and environment of the machine it runs on; loading it
// afresh with another OS's modules makes it the oracle for darwin and win32 here too.
describe.each([
  ['darwin', '/Users/u', {}],
  ['win32', 'C:\\Users\\u', {}],
  ['win32', 'C:\\Users\\u', { LOCALAPPDATA: 'E:\\Local' }],
  ['linux', '/home/u', {}],
  ['linux', '/home/u', { XDG_DATA_HOME: '/xdg' }],
  ['win32', 'C:\\Users\\u', { APPDATA: 'E:\\Roaming' }],
  ['linux', '/home/u', { XDG_CONFIG_HOME: '/xdgc' }],
] as const)('resolvePaths against env-paths on %s (home %s, env %j)', (platform, home, env) => {
  afterEach(() => {
    vi.doUnmock('node:os');
    vi.doUnmock('node:path');
    vi.doUnmock('node:process');
    vi.resetModules();
  });

  it('gives the same data and config folders', async () => {
    vi.resetModules();
    const osModule = await import('node:os');
    const os = { ...osModule.default, homedir: () => home, tmpdir: () => '/tmp' };
    vi.doMock('node:os', () => ({ ...os, default: os }));
    const flavour = platform === 'win32' ? path.win32 : path.posix;
    vi.doMock('node:path', () => ({ ...flavour, default: flavour }));
    const fakeProcess = { ...process, platform, env: { ...env } };
    vi.doMock('node:process', () => ({ ...fakeProcess, default: fakeProcess }));
    const { default: freshEnvPaths } = await import('env-paths');
    const expected = freshEnvPaths('mcp-beacon', { suffix: '' });
    const paths = resolvePaths({ env, platform, homedir: home });
    expect(paths.root).toBe(expected.data);
    expect(paths.config).toBe(expected.config);
  });
});

describe('ensurePaths', () => {
  it('creates root, instances and temp with mode 0700', async () => {
    await using tmp = await createTempDir();
    const paths = resolvePaths({ home: path.join(tmp.path, 'deep', 'root') });
    await ensurePaths(paths);
    for (const dir of [paths.root, paths.instances, paths.temp]) {
      const stats = await stat(dir);
      expect(stats.isDirectory()).toBe(true);
      expect(stats.mode & 0o777).toBe(0o700);
    }
    await ensurePaths(paths); // idempotent
  });

  it('makes a folder of its own that others may write 0700 again, and refuses another user’s', async () => {
    await using tmp = await createTempDir();
    const paths = resolvePaths({ home: path.join(tmp.path, 'home') });
    await mkdir(paths.instances, { recursive: true, mode: 0o777 });
    await chmod(paths.instances, 0o777);
    await ensurePaths(paths);
    expect((await stat(paths.instances)).mode & 0o777).toBe(0o700);
    // Only root can hand a folder to another user; a user's run checks the repair alone.
    if (process.getuid?.() === 0) {
      await chown(paths.temp, 65534, 65534);
      const error = await ensurePaths(paths).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PathsError);
      expect(error).toMatchObject({ code: 'UNTRUSTED', path: paths.temp });
      expect((error as Error).message).toMatch(/belongs to another user \(uid 65534\)/);
    }
  });

  it('reports a file in the way as NOT_A_DIRECTORY with its path', async () => {
    await using tmp = await createTempDir();
    const file = path.join(tmp.path, 'file');
    await writeFile(file, 'x');
    const error = await ensureDir(path.join(file, 'sub')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PathsError);
    expect(error).toMatchObject({ code: 'NOT_A_DIRECTORY', path: path.join(file, 'sub') });
    const direct = await ensureDir(file).catch((e: unknown) => e);
    expect(direct).toMatchObject({ code: 'NOT_A_DIRECTORY' });
  });

  it('reports an unwritable parent as CREATE_FAILED with its cause', async () => {
    await using tmp = await createTempDir();
    let parent = path.join(tmp.path, 'locked');
    await using mount = canMount ? await mountTmpfs(parent, { readOnly: true }) : undefined;
    if (mount === undefined) {
      await mkdir(parent, { mode: 0o500 });
    } else {
      parent = mount.path;
    }
    const error = await ensureDir(path.join(parent, 'x')).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'CREATE_FAILED', path: path.join(parent, 'x') });
    expect((error as PathsError).cause).toMatchObject({ code: canMount ? 'EROFS' : 'EACCES' });
    expect((error as PathsError).message).toContain(path.join(parent, 'x'));
  });
});
