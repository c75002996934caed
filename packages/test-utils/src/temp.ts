import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** A fresh directory under the OS temp dir, removed by `cleanup()` or `await using`. */
export interface TempDir {
  readonly path: string;
  cleanup(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Creates a fresh, empty temp directory (its real path, so symlinked /tmp does not surprise). */
export async function createTempDir(prefix = 'beacon-test-'): Promise<TempDir> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  const cleanup = () => rm(dir, { recursive: true, force: true, maxRetries: 3 });
  return { path: dir, cleanup, [Symbol.asyncDispose]: cleanup };
}
