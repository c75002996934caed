#!/usr/bin/env node
// Builds Beacon, packs apps/hub and apps/instance (the workspace packages are bundled into
// them), and installs both tarballs with npm: globally, or under `--prefix DIR`.
// Usage: pnpm install:global [-- --prefix DIR]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const at = process.argv.indexOf('--prefix');
const prefix = at > 0 ? path.resolve(process.argv[at + 1]) : undefined;
const run = (command, args, cwd = root) =>
  execFileSync(command, args, { cwd, stdio: ['ignore', 'inherit', 'inherit'] });

const packs = mkdtempSync(path.join(tmpdir(), 'beacon-packs-'));
try {
  run('pnpm', ['turbo', 'run', 'build', '--output-logs=errors-only']);
  for (const app of ['hub', 'instance'])
    run('pnpm', ['pack', '--pack-destination', packs], path.join(root, 'apps', app));
  const tarballs = readdirSync(packs).map((name) => path.join(packs, name));
  run('npm', [
    'install',
    '--global',
    '--no-audit',
    '--no-fund',
    ...(prefix ? ['--prefix', prefix] : []),
    ...tarballs,
  ]);
  const bin = prefix ? path.join(prefix, 'bin') : 'your global npm bin folder';
  process.stdout.write(`beacon-hub and beacon-instance installed in ${bin}\n`);
} finally {
  rmSync(packs, { recursive: true, force: true });
}
