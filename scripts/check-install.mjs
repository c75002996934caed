#!/usr/bin/env node
// CI check that the packed apps install on their own: installs both tarballs into a temporary
// npm prefix, then from that prefix's bin folder runs `beacon-hub --version`,
// `beacon-instance --version`, and a hub listing an instance started from the installed bin.
// Prints one line per check and exits 1 on the first failure; removes everything it made.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const work = mkdtempSync(path.join(tmpdir(), 'beacon-install-'));
const prefix = path.join(work, 'prefix');
const bin = (name) => path.join(prefix, 'bin', name);
const env = { ...process.env, MCP_BEACON_HOME: path.join(work, 'home') };
let instance;
const check = (what, fn) => {
  try {
    const detail = fn();
    process.stdout.write(`install check: ${what}: ok${detail ? ` (${detail})` : ''}\n`);
  } catch (error) {
    process.stdout.write(`install check: ${what}: FAILED: ${error.message}\n`);
    throw error;
  }
};

try {
  execFileSync(
    process.execPath,
    [path.join(root, 'scripts/install-global.mjs'), '--prefix', prefix],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  const version = (name) =>
    execFileSync(bin(name), ['--version'], { env, encoding: 'utf8' }).trim();
  check('beacon-hub --version', () => version('beacon-hub'));
  check('beacon-instance --version', () => version('beacon-instance'));
  const project = path.join(work, 'project');
  mkdirSync(project);
  writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'installed-check' }));
  instance = spawn(bin('beacon-instance'), ['--log-level', 'silent'], {
    cwd: project,
    env,
    stdio: 'ignore',
  });
  const deadline = Date.now() + 15_000;
  let listed;
  while (Date.now() < deadline) {
    const out = execFileSync(bin('beacon-hub'), ['list', '--json'], { env, encoding: 'utf8' });
    listed = JSON.parse(out).instances.find((i) => i.name === 'installed-check');
    if (listed) break;
    execFileSync('sleep', ['0.2']);
  }
  check('the installed hub lists an instance started from the installed bin', () => {
    if (!listed) throw new Error('not listed within 15 s');
    return `${listed.url}, ${listed.process}`;
  });
} catch {
  process.exitCode = 1;
} finally {
  if (instance && instance.exitCode === null) {
    instance.kill('SIGTERM');
    await new Promise((resolve) => instance.once('exit', resolve));
  }
  rmSync(work, { recursive: true, force: true });
}
