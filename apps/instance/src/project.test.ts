import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createTempDir } from '@mcp-beacon/test-utils';
import { describe, expect, it } from 'vitest';
import { detectPackageManager, readProject, scriptCommand } from './project.js';

describe('project detection', () => {
  it.each([
    ['pnpm-lock.yaml', 'pnpm'],
    ['yarn.lock', 'yarn'],
    ['bun.lock', 'bun'],
    ['package-lock.json', 'npm'],
  ])('detects %s as %s', async (lockfile, manager) => {
    await using tmp = await createTempDir();
    await writeFile(path.join(tmp.path, lockfile), '');
    expect(detectPackageManager(tmp.path)).toBe(manager);
  });

  it('falls back to packageManager, then npm', async () => {
    await using tmp = await createTempDir();
    expect(detectPackageManager(tmp.path, { packageManager: 'yarn@4.1.0' })).toBe('yarn');
    expect(detectPackageManager(tmp.path)).toBe('npm');
  });

  it('names the project from package.json, else the folder', async () => {
    await using tmp = await createTempDir();
    const dir = path.join(tmp.path, 'folder-name');
    await mkdir(dir);
    expect(await readProject(dir)).toMatchObject({
      name: 'folder-name',
      hasPackageJson: false,
      scripts: {},
    });
    await writeFile(
      path.join(dir, 'package.json'),
      JSON.stringify({ name: 'pkg', scripts: { a: 'x', bad: 1 } }),
    );
    expect(await readProject(dir)).toMatchObject({
      name: 'pkg',
      hasPackageJson: true,
      scripts: { a: 'x' },
    });
    await writeFile(path.join(dir, 'package.json'), '{ broken');
    expect(await readProject(dir)).toMatchObject({ name: 'folder-name', hasPackageJson: false });
  });

  it('builds argv without a shell', () => {
    expect(scriptCommand('npm', 'dev', ['--port', '3000'])).toEqual([
      'npm',
      ['run', 'dev', '--', '--port', '3000'],
    ]);
    expect(scriptCommand('npm', 'dev', [])).toEqual(['npm', ['run', 'dev']]);
    expect(scriptCommand('pnpm', 'dev', ['x y'])).toEqual(['pnpm', ['run', 'dev', 'x y']]);
  });
});
