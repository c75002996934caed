import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createTempDir } from '@mcp-beacon/test-utils';
import { describe, expect, it } from 'vitest';
import { findProgram } from './programs.js';

describe('findProgram', () => {
  it('finds a program by absolute PATH entries only, never in relative ones or the working directory', async () => {
    await using tmp = await createTempDir();
    const real = path.join(tmp.path, 'bin');
    const planted = path.join(tmp.path, 'project', 'node_modules', '.bin');
    await mkdir(real, { recursive: true });
    await mkdir(planted, { recursive: true });
    for (const dir of [real, planted, path.join(tmp.path, 'project')]) {
      await writeFile(path.join(dir, 'tool'), '#!/bin/sh\n', { mode: 0o755 });
    }
    const cwd = process.cwd();
    process.chdir(path.join(tmp.path, 'project'));
    try {
      const PATH = ['.', './node_modules/.bin', '', 'node_modules/.bin', real].join(':');
      expect(findProgram('tool', { path: PATH, platform: 'linux' })).toBe(path.join(real, 'tool'));
      expect(
        findProgram('tool', { path: '.:./node_modules/.bin:', platform: 'linux' }),
      ).toBeUndefined();
      expect(findProgram('./tool', { path: real, platform: 'linux' })).toBeUndefined();
    } finally {
      process.chdir(cwd);
    }
  });

  it('skips a file that is not executable, and a directory of that name', async () => {
    await using tmp = await createTempDir();
    const a = path.join(tmp.path, 'a');
    const b = path.join(tmp.path, 'b');
    await mkdir(path.join(a, 'tool'), { recursive: true });
    await mkdir(b, { recursive: true });
    await writeFile(path.join(b, 'tool'), 'x');
    await chmod(path.join(b, 'tool'), 0o644);
    expect(findProgram('tool', { path: `${a}:${b}`, platform: 'linux' })).toBeUndefined();
  });
});
