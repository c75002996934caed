import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createTempDir } from '@mcp-beacon/test-utils';
import { describe, expect, it } from 'vitest';
import { detectPackageManager, gitBranch, readProject, scriptCommand } from './project.js';

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

  it('reads the git branch from .git/HEAD, above the project too, and through a worktree file', async () => {
    await using tmp = await createTempDir();
    const repo = path.join(tmp.path, 'repo');
    await mkdir(path.join(repo, '.git'), { recursive: true });
    await mkdir(path.join(repo, 'packages', 'web'), { recursive: true });
    await writeFile(path.join(repo, '.git', 'HEAD'), 'ref: refs/heads/feature/login\n');
    expect(await gitBranch(repo)).toBe('feature/login');
    expect(await gitBranch(path.join(repo, 'packages', 'web'))).toBe('feature/login');
    await writeFile(path.join(repo, '.git', 'HEAD'), `${'a1'.repeat(20)}\n`);
    expect(await gitBranch(repo)).toBe('HEAD');
    const worktree = path.join(tmp.path, 'wt');
    await mkdir(path.join(tmp.path, 'gitdirs', 'wt'), { recursive: true });
    await mkdir(worktree, { recursive: true });
    await writeFile(path.join(tmp.path, 'gitdirs', 'wt', 'HEAD'), 'ref: refs/heads/hotfix\n');
    await writeFile(path.join(worktree, '.git'), `gitdir: ../gitdirs/wt\n`);
    expect(await gitBranch(worktree)).toBe('hotfix');
    const plain = path.join(tmp.path, 'plain');
    await mkdir(plain);
    // tmp is not inside a repository (the walk goes up to the root).
    expect(await gitBranch(plain)).toBe(undefined);
  });

  it('runs no git at all, so a git planted in the project never runs', async () => {
    await using tmp = await createTempDir();
    const marker = path.join(tmp.path, 'pwned');
    await mkdir(path.join(tmp.path, '.git'), { recursive: true });
    await writeFile(path.join(tmp.path, '.git', 'HEAD'), 'ref: refs/heads/main\n');
    await writeFile(path.join(tmp.path, 'git'), `#!/bin/sh\ntouch ${marker}\n`, { mode: 0o755 });
    const saved = process.env.PATH;
    process.env.PATH = `.:./node_modules/.bin:${saved}`;
    const cwd = process.cwd();
    process.chdir(tmp.path);
    try {
      expect(await gitBranch(tmp.path)).toBe('main');
    } finally {
      process.chdir(cwd);
      process.env.PATH = saved;
    }
    await expect(readFile(marker)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
