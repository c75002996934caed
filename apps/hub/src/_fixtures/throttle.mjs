// Runs a command with its stdout throttled to RATE bytes a second, read only as fast as it is
// passed on (so the command's own writes wait, as over a slow link); stdin and stderr pass
// through. A stand-in for a remote reached over a slow network.
// Usage: node throttle.mjs RATE command [args...]

import { spawn } from 'node:child_process';

const [rate, command, ...args] = process.argv.slice(2);
const perTick = Math.max(1, Math.floor(Number(rate) / 20));
const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'] });
process.stdin.pipe(child.stdin);
child.stdin.on('error', () => undefined);
let ended = false;
child.stdout.pause();
child.stdout.on('end', () => {
  ended = true;
});
const timer = setInterval(() => {
  let budget = perTick;
  while (budget > 0) {
    const chunk = child.stdout.read();
    if (chunk === null) break;
    const now = chunk.subarray(0, budget);
    const later = chunk.subarray(budget);
    if (later.length > 0) child.stdout.unshift(later);
    process.stdout.write(now);
    budget -= now.length;
  }
  if (ended && child.stdout.readableLength === 0) {
    clearInterval(timer);
    process.stdout.end();
  }
}, 50);
child.on('exit', (code, signal) => {
  const finish = () => process.exit(code ?? (signal ? 1 : 0));
  if (ended) setTimeout(finish, 100);
  else child.stdout.once('end', () => setTimeout(finish, 100));
});
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => child.kill(signal));
