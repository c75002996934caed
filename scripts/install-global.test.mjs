// Run with: pnpm exec vitest run scripts/install-global.test.mjs (from the repository root).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { binFolder, installGlobal, runCommand } from './install-global.mjs';

/** installGlobal with the spawn edge recording each command (pnpm pack leaves a tarball). */
function install(platform, prefix) {
  const calls = [];
  const output = [];
  const bin = installGlobal({
    root: '/beacon',
    prefix,
    platform,
    run: (command, args, cwd) => {
      calls.push({ command, args, cwd });
      const at = args.indexOf('--pack-destination');
      if (at >= 0) writeFileSync(path.join(args[at + 1], `${path.basename(cwd)}.tgz`), '');
    },
    write: (text) => output.push(text),
  });
  return { bin, calls, output: output.join('') };
}

describe('install:global on Windows (platform injected)', () => {
  it('starts pnpm and npm by name through the spawn edge (no shell string), and reports DIR, where npm puts Windows commands', () => {
    const { bin, calls, output } = install('win32', 'C:\\Beacon');
    expect(calls.map((c) => [c.command, c.args[0]])).toEqual([
      ['pnpm', 'turbo'],
      ['pnpm', 'pack'],
      ['pnpm', 'pack'],
      ['npm', 'install'],
    ]);
    const npm = calls[3];
    expect(npm.args).toContain('--prefix');
    expect(npm.args.filter((a) => a.endsWith('.tgz')).map((a) => path.basename(a))).toEqual([
      'hub.tgz',
      'instance.tgz',
    ]);
    expect(bin).toBe('C:\\Beacon');
    expect(output).toBe('beacon-hub and beacon-instance installed in C:\\Beacon\n');
    expect(binFolder('C:\\Beacon', 'win32')).toBe('C:\\Beacon');
  });
});

describe('install:global on macOS (platform injected)', () => {
  it('reports DIR/bin', () => {
    const { bin, output } = install('darwin', '/opt/beacon');
    expect(bin).toBe('/opt/beacon/bin');
    expect(output).toBe('beacon-hub and beacon-instance installed in /opt/beacon/bin\n');
  });

  it('without --prefix, names the global npm folder', () => {
    const { bin, output } = install('darwin', undefined);
    expect(bin).toBeUndefined();
    expect(output).toContain('your global npm bin folder');
  });
});

describe('runCommand', () => {
  it('runs a program to its end and throws on a failing status', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'beacon-run-'));
    try {
      expect(() => runCommand(process.execPath, ['-e', ''], dir)).not.toThrow();
      expect(() => runCommand(process.execPath, ['-e', 'process.exit(3)'], dir)).toThrow(
        /exit code 3/,
      );
      expect(() => runCommand(path.join(dir, 'no-such-program'), [], dir)).toThrow(/ENOENT/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
