// What a process costs, read from /proc (Linux), for benchmarks that watch a child.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Resident memory of a process now, in MiB (from `/proc/<pid>/status`). */
export const rssMib = (pid) =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;

/** User plus system CPU time of a process so far, in ms (from `/proc/<pid>/stat`). */
export function cpuMs(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of stat(5), in clock ticks (100 per second on Linux).
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

/** RSS of an idle bare Node process (this one's binary), in MiB: the median of 3. */
export async function bareNodeRss() {
  const values = [];
  for (let i = 0; i < 3; i++) {
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1e3)'], {
      stdio: 'ignore',
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    values.push(rssMib(child.pid));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
  return values.sort((a, b) => a - b)[1];
}
