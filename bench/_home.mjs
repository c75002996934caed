// A throwaway Beacon data home for a benchmark run: a temp folder with `home/instances` and
// `home/temp` (0700), and the environment that points the hub and instances at it.
import { mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** Creates the folders; remove `work` (recursively) when the run ends. */
export async function benchHome(prefix) {
  const work = await mkdtemp(path.join(tmpdir(), prefix));
  const home = path.join(work, 'home');
  const instancesDir = path.join(home, 'instances');
  const tempDir = path.join(home, 'temp');
  await mkdir(instancesDir, { recursive: true, mode: 0o700 });
  await mkdir(tempDir, { recursive: true, mode: 0o700 });
  return { work, home, instancesDir, tempDir, env: { ...process.env, MCP_BEACON_HOME: home } };
}
