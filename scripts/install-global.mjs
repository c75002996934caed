#!/usr/bin/env node
// Builds Beacon, packs apps/hub and apps/instance (the workspace packages are bundled into
// them), and installs both tarballs with npm: globally, or under `--prefix DIR`.
// pnpm and npm start through cross-spawn: on Windows they are `.cmd` shims, which only cmd.exe
// runs (Node refuses to start one without a shell since 20.12.2), and cross-spawn runs them
// there with every argument escaped; elsewhere it is a plain spawn.
// Usage: pnpm install:global [-- --prefix DIR]
import { mkdtempSync, readdirSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import crossSpawn from 'cross-spawn';

/**
 * The folder npm puts the commands of an install under `--prefix DIR` in: DIR itself on
 * Windows (`beacon-hub.cmd` beside `node_modules`), `DIR/bin` elsewhere.
 * @param {string} prefix
 * @param {NodeJS.Platform} [platform]
 */
export function binFolder(prefix, platform = process.platform) {
  return platform === 'win32' ? prefix : path.join(prefix, 'bin');
}

/**
 * Runs `command` with `args` in `cwd` to its end, its output on this process's, without a shell
 * string and without a window.
 * @param {string} command
 * @param {string[]} args
 * @param {string} cwd
 * @throws {Error} when it cannot start, or ends with a signal or a status other than 0.
 */
export function runCommand(command, args, cwd) {
  const result = crossSpawn.sync(command, args, {
    cwd,
    stdio: ['ignore', 'inherit', 'inherit'],
    windowsHide: true,
  });
  if (result.error) throw result.error;
  if (result.status !== 0)
    throw new Error(
      `${command} ${args.join(' ')} failed (${result.signal ?? `exit code ${result.status}`})`,
    );
}

/**
 * Builds, packs and installs both apps; returns the folder their commands are in, or
 * undefined for npm's global folder.
 * @param {object} options
 * @param {string} options.root the Beacon checkout
 * @param {string} [options.prefix] npm's `--prefix` (default: a global install)
 * @param {NodeJS.Platform} [options.platform] whose layout the report follows
 * @param {typeof runCommand} [options.run] the spawn edge
 * @param {(text: string) => void} [options.write] where the report goes (default stdout)
 */
export function installGlobal({
  root,
  prefix,
  platform = process.platform,
  run = runCommand,
  write = (text) => process.stdout.write(text),
}) {
  const packs = mkdtempSync(path.join(tmpdir(), 'beacon-packs-'));
  try {
    run('pnpm', ['turbo', 'run', 'build', '--output-logs=errors-only'], root);
    for (const app of ['hub', 'instance'])
      run('pnpm', ['pack', '--pack-destination', packs], path.join(root, 'apps', app));
    const tarballs = readdirSync(packs).map((name) => path.join(packs, name));
    run(
      'npm',
      [
        'install',
        '--global',
        '--no-audit',
        '--no-fund',
        ...(prefix ? ['--prefix', prefix] : []),
        ...tarballs,
      ],
      root,
    );
    const bin = prefix ? binFolder(prefix, platform) : undefined;
    write(`beacon-hub and beacon-instance installed in ${bin ?? 'your global npm bin folder'}\n`);
    return bin;
  } finally {
    rmSync(packs, { recursive: true, force: true });
  }
}

function main() {
  const at = process.argv.indexOf('--prefix');
  const prefix = at > 0 ? path.resolve(process.argv[at + 1]) : undefined;
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  try {
    installGlobal({ root, prefix });
  } catch (error) {
    process.stderr.write(`install:global: ${error.message}\n`);
    process.exitCode = 1;
  }
}

// Run as a program, not when a test imports it. Node names its main module by real path.
if (process.argv[1] && pathToFileURL(realpathSync(process.argv[1])).href === import.meta.url)
  main();
