#!/usr/bin/env node
// A transparent stdio relay between an agent CLI and the MCP server it launches, for the agent
// trials: `node _tap.mjs LOG -- COMMAND [ARGS...]`. It forwards every byte both ways unchanged
// and appends each newline-delimited JSON-RPC message to LOG as one JSON line
// `{ t, dir: 'in' | 'out', msg }` (t: epoch ms; 'in' = client to server).
// With `--delay-ms N` before the `--`, nothing the server writes reaches the client before N ms
// after start: a server that is slow to start, for finding how long a client waits.
import { spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';

const argv = process.argv.slice(2);
const at = argv.indexOf('--');
const [log, ...tapArgs] = at >= 0 ? argv.slice(0, at) : [];
const [command, ...args] = at >= 0 ? argv.slice(at + 1) : [];
if (!log || !command) {
  process.stderr.write('usage: node _tap.mjs LOG [--delay-ms N] -- COMMAND [ARGS...]\n');
  process.exit(2);
}
const delayMs = tapArgs[0] === '--delay-ms' ? Number(tapArgs[1]) : 0;
const now = () => Math.round((performance.timeOrigin + performance.now()) * 10) / 10;
const record = (entry) => appendFileSync(log, `${JSON.stringify({ t: now(), ...entry })}\n`);
record({ dir: 'tap', msg: { pid: process.pid, cwd: process.cwd(), command, args, delayMs } });

const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
// A side that went away is recorded by its exit; its pipe errors are not news.
child.stdin.on('error', () => undefined);
process.stdout.on('error', () => undefined);

/** Splits a byte stream into lines and records each one that parses as JSON. */
function lineRecorder(dir) {
  let pending = '';
  return (chunk) => {
    pending += chunk.toString('utf8');
    let at = pending.indexOf('\n');
    while (at >= 0) {
      const line = pending.slice(0, at).trim();
      pending = pending.slice(at + 1);
      if (line) {
        try {
          record({ dir, msg: JSON.parse(line) });
        } catch {
          record({ dir, text: line.slice(0, 2000) });
        }
      }
      at = pending.indexOf('\n');
    }
  };
}

const seeIn = lineRecorder('in');
process.stdin.on('data', (chunk) => {
  seeIn(chunk);
  child.stdin.write(chunk);
});
process.stdin.on('end', () => {
  record({ dir: 'tap', msg: { event: 'client stdin closed' } });
  child.stdin.end();
});

const seeOut = lineRecorder('out');
let held = [];
const release = () => {
  for (const chunk of held) process.stdout.write(chunk);
  held = undefined;
};
if (delayMs > 0) setTimeout(release, delayMs).unref();
else held = undefined;
child.stdout.on('data', (chunk) => {
  seeOut(chunk);
  if (held) held.push(chunk);
  else process.stdout.write(chunk);
});
child.stderr.on('data', (chunk) => {
  record({ dir: 'stderr', text: chunk.toString('utf8').slice(0, 4000) });
  process.stderr.write(chunk);
});
child.on('exit', (code, signal) => {
  record({ dir: 'tap', msg: { event: 'server exited', code, signal } });
  if (held) release();
  process.exitCode = code ?? 1;
  // Let stdout drain, then go.
  process.stdout.write('', () => process.exit());
});
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'])
  process.on(signal, () => {
    record({ dir: 'tap', msg: { event: `tap got ${signal}` } });
    child.kill(signal);
  });
