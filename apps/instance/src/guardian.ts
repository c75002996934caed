// Runs one script for beacon-instance and makes sure nothing of it outlives the instance.
// The instance starts this process as the leader of a new process group and keeps its stdin
// open. When stdin ends (the instance exited, even by SIGKILL), when it gets SIGTERM (a stop),
// or when the script exits leaving processes behind, the guardian sends SIGTERM to the whole
// group, waits up to the grace period for every other member to exit, SIGKILLs the ones
// left, and only then exits with the script's status.
// Usage: node guardian.js <grace-ms> <command> [args...]
import { execFileSync, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { exitStatus, signalGroup } from '@mcp-beacon/registry/process';

const [graceArg, command, ...args] = process.argv.slice(2);
const grace = Number(graceArg) || 3_000;
if (!command) process.exit(2);
const self = process.pid;

/** The other processes in this group: `live` ones, and `zombies` waiting for their parent. */
function members(): { live: number[]; zombies: number } {
  const live: number[] = [];
  let zombies = 0;
  const add = (pid: number, pgid: number, state: string | undefined) => {
    if (pgid !== self || pid === self) return;
    if (state?.startsWith('Z')) zombies++;
    else live.push(pid);
  };
  if (process.platform === 'linux') {
    for (const name of readdirSync('/proc')) {
      const pid = Number(name);
      if (!Number.isInteger(pid)) continue;
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        // Fields after the command name, which is in parentheses and may contain anything.
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        add(pid, Number(fields[2]), fields[0]);
      } catch {
        // Exited while we looked.
      }
    }
    return { live, zombies };
  }
  try {
    for (const line of execFileSync('ps', ['-A', '-o', 'pid=,pgid=,stat='], {
      encoding: 'utf8',
    }).split('\n')) {
      const [pid, pgid, state] = line.trim().split(/\s+/);
      add(Number(pid), Number(pgid), state);
    }
  } catch {
    // No ps: only the script itself is waited for.
  }
  return { live, zombies };
}

const signal = (pid: number, name: NodeJS.Signals) => {
  try {
    process.kill(pid, name);
  } catch {
    // Already gone.
  }
};

let status: number | undefined;
const child = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit'], env: process.env });
const childExited = new Promise<void>((resolve) => {
  child.on('exit', (code, sig) => {
    // A script killed by a signal is reported as 128 + its number, as shells do.
    status = exitStatus(code, sig);
    resolve();
  });
});

let sweeping = false;
/** Ends every process of the group (SIGTERM, then SIGKILL at the deadline), then exits. */
async function sweep(): Promise<void> {
  if (sweeping) return;
  sweeping = true;
  const deadline = Date.now() + grace;
  if (members().live.length > 0) signalGroup(self, 'SIGTERM');
  for (;;) {
    const { live, zombies } = members();
    // Zombies go as soon as their parent reaps them (or init, once the parent is gone); they
    // are waited for a moment so the group is really empty when the guardian exits.
    if (live.length === 0 && (zombies === 0 || Date.now() >= deadline + 1_000)) break;
    if (Date.now() >= deadline) for (const pid of live) signal(pid, 'SIGKILL');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  await childExited;
  process.exit(status ?? 1);
}

// The guardian ignores the group's SIGTERM itself and turns it into an orderly sweep.
process.on('SIGTERM', () => void sweep());
process.on('SIGINT', () => void sweep());
process.stdin.on('end', () => void sweep());
process.stdin.on('error', () => void sweep());
process.stdin.resume();

child.on('error', (error) => {
  process.stderr.write(`beacon: cannot start ${command}: ${error.message}\n`);
  process.exit(127);
});
void childExited.then(() => sweep());
