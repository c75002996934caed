// Turbopack's source names as project paths, against real files in a temp project.
import { mkdir, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { turbopackSourcePath } from './_turbopack-source.js';

let base = '';
let root = '';
beforeAll(async () => {
  base = await realpath(await mkdtemp(path.join(tmpdir(), 'beacon-turbopack-')));
  root = path.join(base, 'apps', 'web');
  await mkdir(path.join(root, 'app', 'blog'), { recursive: true });
  await writeFile(path.join(root, 'app', 'blog', 'page.tsx'), 'export default 1;\n');
});
afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

describe('turbopackSourcePath', () => {
  it('reads a path relative to the project (Turbopack’s root is the project)', () => {
    expect(turbopackSourcePath('turbopack:///[project]/app/blog/page.tsx', root)).toBe(
      'app/blog/page.tsx',
    );
  });

  it('reads a path relative to a monorepo root above the project', () => {
    expect(turbopackSourcePath('turbopack:///[project]/apps/web/app/blog/page.tsx', root)).toBe(
      'app/blog/page.tsx',
    );
  });

  it('reads an absolute path (turbopack.root is the file system’s)', () => {
    const source = `turbopack:///[project]${root}/app/blog/page.tsx`;
    expect(turbopackSourcePath(source, root)).toBe('app/blog/page.tsx');
  });

  it('keeps a dependency’s or the runtime’s source as Turbopack names it', () => {
    expect(
      turbopackSourcePath('turbopack:///[project]/node_modules/next/dist/client/app.js', root),
    ).toBe('[project]/node_modules/next/dist/client/app.js');
    expect(turbopackSourcePath('turbopack:///[turbopack]/browser/runtime.ts', root)).toBe(
      '[turbopack]/browser/runtime.ts',
    );
  });

  it('drops a query, decodes escapes, and never leaves the project through `..`', () => {
    expect(turbopackSourcePath('turbopack:///[project]/app/blog/page.tsx?id=1#x', root)).toBe(
      'app/blog/page.tsx',
    );
    expect(turbopackSourcePath('turbopack:///[project]/app/%62log/page.tsx', root)).toBe(
      'app/blog/page.tsx',
    );
    expect(turbopackSourcePath('turbopack:///[project]/../../etc/passwd', root)).toBe(
      '[project]/../../etc/passwd',
    );
    expect(turbopackSourcePath('turbopack:///[project]/%E0%A4%A', root)).toBe('[project]/%E0%A4%A');
  });

  it('is undefined for a source that is not Turbopack’s', () => {
    expect(turbopackSourcePath('webpack://_N_E/./app/page.tsx', root)).toBeUndefined();
    expect(turbopackSourcePath('/src/main.ts', root)).toBeUndefined();
  });
});
