import { execFile } from 'node:child_process';
import { mkdir, open, rmdir } from 'node:fs/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * True where tests may mount a tmpfs (Linux, running as root, as CI does): the real way to
 * get a full or read-only filesystem for failure tests.
 */
export const canMount = process.platform === 'linux' && process.getuid?.() === 0;

/** A tmpfs mounted by {@link mountTmpfs}; `unmount()` is idempotent. */
export interface Mount {
  readonly path: string;
  unmount(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Mounts a small tmpfs at `dir` (created if missing), optionally read-only.
 * @throws {Error} when mounting is not permitted here (see {@link canMount}).
 */
export async function mountTmpfs(
  dir: string,
  options: { sizeKiB?: number; readOnly?: boolean } = {},
): Promise<Mount> {
  await mkdir(dir, { recursive: true });
  const flags = [
    `size=${options.sizeKiB ?? 64}k`,
    'mode=0700',
    ...(options.readOnly ? ['ro'] : []),
  ];
  await run('mount', ['-t', 'tmpfs', '-o', flags.join(','), 'tmpfs', dir]);
  let mounted = true;
  const unmount = async () => {
    if (!mounted) return;
    mounted = false;
    await run('umount', ['-l', dir]);
    await rmdir(dir).catch(() => undefined);
  };
  return { path: dir, unmount, [Symbol.asyncDispose]: unmount };
}

/** Writes zeros into `file` until the filesystem answers ENOSPC, leaving it full. */
export async function fillDisk(file: string): Promise<void> {
  const handle = await open(file, 'w');
  const chunk = Buffer.alloc(4096);
  try {
    for (;;) await handle.write(chunk);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  } finally {
    await handle.close().catch(() => undefined);
  }
}
