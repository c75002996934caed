// The logs of started instances: one file per project folder under `<data>/logs`, rewritten
// per start, at most 100 of them and none older than 30 days.
import { createHash } from 'node:crypto';
import { readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { BeaconPaths } from '@mcp-beacon/paths';

/** Launch logs kept in `<data>/logs`: at most this many files... */
export const MAX_LAUNCH_LOGS = 100;
/** ...none of them untouched for longer than this, in ms (30 days). */
export const LAUNCH_LOG_MAX_AGE_MS = 30 * 24 * 60 * 60 * 1000;

/**
 * Bounds the launch logs beside `keep` (the file about to be rewritten): removes those not
 * written for {@link LAUNCH_LOG_MAX_AGE_MS} and the oldest beyond {@link MAX_LAUNCH_LOGS},
 * counting `keep`. Best effort: a file that cannot be read or removed is left. Resolves with the
 * number removed.
 */
export async function pruneLaunchLogs(keep: string, now = Date.now()): Promise<number> {
  const dir = path.dirname(keep);
  const names = await readdir(dir).catch(() => [] as string[]);
  const logs: Array<{ file: string; mtimeMs: number }> = [];
  for (const name of names) {
    const file = path.join(dir, name);
    if (!name.endsWith('.log') || file === keep) continue;
    const info = await stat(file).catch(() => undefined);
    if (info?.isFile()) logs.push({ file, mtimeMs: info.mtimeMs });
  }
  logs.sort((a, b) => b.mtimeMs - a.mtimeMs);
  let removed = 0;
  for (const [index, log] of logs.entries()) {
    if (index < MAX_LAUNCH_LOGS - 1 && now - log.mtimeMs <= LAUNCH_LOG_MAX_AGE_MS) continue;
    await rm(log.file, { force: true }).then(
      () => removed++,
      () => undefined,
    );
  }
  return removed;
}

/** Where a started instance's stderr goes: one file per project folder, rewritten per start. */
export function launchLogFile(paths: BeaconPaths, folder: string): string {
  const base =
    path
      .basename(folder)
      .replace(/[^\w.-]+/g, '_')
      .slice(0, 40) || 'project';
  const hash = createHash('sha256').update(folder).digest('hex').slice(0, 8);
  return path.join(paths.root, 'logs', `${base}-${hash}.log`);
}
