// Runs one script for beacon-instance and makes sure it never outlives the instance.
// The instance starts this process as the leader of a new process group and keeps its stdin
// open; when stdin ends (the instance exited, even by SIGKILL) the whole group is stopped.
// Usage: node guardian.js <grace-ms> <command> [args...]
import { spawn } from 'node:child_process';
import { constants } from 'node:os';

const [graceArg, command, ...args] = process.argv.slice(2);
const grace = Number(graceArg) || 3_000;
if (!command) process.exit(2);

const child = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit'], env: process.env });
let exiting = false;

const stopGroup = () => {
  if (exiting) return;
  exiting = true;
  try {
    process.kill(-process.pid, 'SIGTERM');
  } catch {
    // The group is already gone.
  }
  setTimeout(() => {
    try {
      process.kill(-process.pid, 'SIGKILL');
    } catch {
      // The group is already gone.
    }
  }, grace).unref();
};

// A SIGTERM sent to the group reaches the script too; stay alive to report its exit status.
process.on('SIGTERM', () => undefined);
process.on('SIGINT', () => undefined);
process.stdin.on('end', stopGroup);
process.stdin.on('error', stopGroup);
process.stdin.resume();

child.on('error', (error) => {
  process.stderr.write(`beacon: cannot start ${command}: ${error.message}\n`);
  process.exit(127);
});
child.on('exit', (code, signal) => {
  // A script killed by a signal is reported as 128 + its number, as shells do.
  process.exit(signal ? 128 + (constants.signals[signal] ?? 0) : (code ?? 1));
});
