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

describe('findProgram on Windows (platform injected)', () => {
  // A stand-in for a Windows disk: the files that exist, matched without regard to case.
  const disk = (...files: string[]) => {
    const set = new Set(files.map((f) => f.toLowerCase()));
    const asked: string[] = [];
    return {
      asked,
      isProgram: (file: string, platform: NodeJS.Platform) => {
        expect(platform).toBe('win32');
        asked.push(file);
        return set.has(file.toLowerCase());
      },
    };
  };
  const PATHEXT = '.COM;.EXE;.BAT;.CMD;.VBS;.VBE;.JS;.JSE;.WSF;.WSH;.MSC';

  it('finds npm.cmd, never the extensionless sh script npm installs beside it', () => {
    const { isProgram, asked } = disk(
      'C:\\Program Files\\nodejs\\npm',
      'C:\\Program Files\\nodejs\\npm.cmd',
      'C:\\Program Files\\nodejs\\npm.ps1',
    );
    const found = findProgram('npm', {
      platform: 'win32',
      path: 'C:\\Windows\\system32;"C:\\Program Files\\nodejs"',
      pathExt: PATHEXT,
      isProgram,
    });
    expect(found).toBe('C:\\Program Files\\nodejs\\npm.cmd');
    expect(asked).not.toContain('C:\\Program Files\\nodejs\\npm');
    expect(asked).not.toContain('C:\\Windows\\system32\\npm');
  });

  it('tries PATHEXT in its order within a folder, and folders in PATH order', () => {
    const { isProgram } = disk('C:\\a\\tool.cmd', 'C:\\a\\tool.exe', 'C:\\b\\other.exe');
    const win = { platform: 'win32', isProgram } as const;
    expect(findProgram('tool', { ...win, path: 'C:\\a', pathExt: '.COM;.EXE;.BAT;.CMD' })).toBe(
      'C:\\a\\tool.exe',
    );
    expect(findProgram('tool', { ...win, path: 'C:\\a', pathExt: '.CMD;.EXE' })).toBe(
      'C:\\a\\tool.cmd',
    );
    expect(findProgram('other', { ...win, path: 'C:\\a;C:\\b', pathExt: '.CMD;.EXE' })).toBe(
      'C:\\b\\other.exe',
    );
  });

  it('never brings the extensionless file back through an empty PATHEXT entry', () => {
    const { isProgram } = disk('C:\\a\\tool', 'C:\\a\\tool.cmd');
    expect(
      findProgram('tool', { platform: 'win32', path: 'C:\\a', pathExt: ';.EXE;;.CMD', isProgram }),
    ).toBe('C:\\a\\tool.cmd');
  });

  it('takes a name with a PATHEXT extension as it is, and only then adds extensions', () => {
    const { isProgram } = disk('C:\\nodejs\\node.exe', 'C:\\py\\python3.11.exe');
    const win = {
      platform: 'win32',
      path: 'C:\\nodejs;C:\\py',
      pathExt: PATHEXT,
      isProgram,
    } as const;
    expect(findProgram('node.exe', win)).toBe('C:\\nodejs\\node.exe');
    expect(findProgram('python3.11', win)).toBe('C:\\py\\python3.11.exe');
  });

  it('skips relative, drive-relative and empty entries, and refuses names with a folder or drive', () => {
    const { isProgram, asked } = disk('C:\\real\\tool.exe', 'C:\\proj\\tool.exe');
    const win = { platform: 'win32', pathExt: PATHEXT, isProgram } as const;
    expect(findProgram('tool', { ...win, path: '.;node_modules\\.bin;;C:proj;C:\\real' })).toBe(
      'C:\\real\\tool.exe',
    );
    expect(asked.every((file) => file.startsWith('C:\\real\\'))).toBe(true);
    expect(findProgram('.\\tool', { ...win, path: 'C:\\real' })).toBeUndefined();
    expect(findProgram('C:tool', { ...win, path: 'C:\\real' })).toBeUndefined();
  });
});

describe('findProgram on macOS (platform injected)', () => {
  it('follows the POSIX rules: `:` separates entries, the name is taken as it is', async () => {
    await using tmp = await createTempDir();
    await writeFile(path.join(tmp.path, 'tool'), '#!/bin/sh\n', { mode: 0o755 });
    await writeFile(path.join(tmp.path, 'tool.cmd'), '@echo off\n', { mode: 0o755 });
    expect(findProgram('tool', { path: `relative:${tmp.path}`, platform: 'darwin' })).toBe(
      path.join(tmp.path, 'tool'),
    );
    expect(
      findProgram('tool', { path: `${tmp.path};C:\\x`, platform: 'darwin', pathExt: '.CMD' }),
    ).toBeUndefined();
  });
});
