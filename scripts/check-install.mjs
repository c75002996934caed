#!/usr/bin/env node
// CI check that the packed apps install on their own: installs both tarballs into a temporary
// npm prefix, then from that prefix's bin folder runs `beacon-hub --version`,
// `beacon-instance --version`, a hub listing an instance started from the installed bin, and
// the installed hub's instances_start finding the installed beacon-instance beside it.
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
let startedPid;
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
  const started = await startThroughHub(path.join(work, 'second'));
  check('the installed hub starts the installed beacon-instance (instances_start)', () => {
    if (started.error) throw new Error(started.error);
    startedPid = started.pid;
    return `pid ${started.pid}, ${started.tools} tools`;
  });
} catch {
  process.exitCode = 1;
} finally {
  if (instance && instance.exitCode === null) {
    instance.kill('SIGTERM');
    await new Promise((resolve) => instance.once('exit', resolve));
  }
  if (startedPid) {
    try {
      process.kill(startedPid, 'SIGTERM');
      const until = Date.now() + 5_000;
      while (Date.now() < until) {
        process.kill(startedPid, 0);
        execFileSync('sleep', ['0.1']);
      }
    } catch {
      // Gone.
    }
  }
  rmSync(work, { recursive: true, force: true });
}

/** Drives the installed hub with raw JSON-RPC on stdio: initialize, then instances_start. */
async function startThroughHub(folder) {
  mkdirSync(folder);
  writeFileSync(path.join(folder, 'package.json'), JSON.stringify({ name: 'started-check' }));
  const hub = spawn(bin('beacon-hub'), ['--log-level', 'silent', '--idle-exit', '0'], {
    env,
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  const send = (message) => hub.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', ...message })}\n`);
  let buffer = '';
  const answer = new Promise((resolve) => {
    const timer = setTimeout(() => resolve({ error: 'no answer within 30 s' }), 30_000);
    hub.stdout.on('data', (chunk) => {
      buffer += chunk;
      for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
        const message = JSON.parse(buffer.slice(0, nl));
        buffer = buffer.slice(nl + 1);
        if (message.id === 1) {
          send({ method: 'notifications/initialized' });
          send({
            id: 2,
            method: 'tools/call',
            params: { name: 'instances_start', arguments: { path: folder } },
          });
        } else if (message.id === 2) {
          clearTimeout(timer);
          const result = message.result;
          if (!result || result.isError)
            resolve({ error: JSON.stringify(message.error ?? result.content) });
          else
            resolve({
              pid: result.structuredContent.pid,
              tools: result.structuredContent.tools.length,
            });
        }
      }
    });
  });
  send({
    id: 1,
    method: 'initialize',
    params: {
      protocolVersion: '2025-06-18',
      capabilities: {},
      clientInfo: { name: 'install-check', version: '1' },
    },
  });
  const result = await answer;
  hub.stdin.end();
  await new Promise((resolve) => hub.once('exit', resolve));
  return result;
}
