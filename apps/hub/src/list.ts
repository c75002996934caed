import { SlugBook } from '@mcp-beacon/hub-mcp';
import { type BeaconPaths, resolvePaths } from '@mcp-beacon/paths';
import { checkStale, readInstanceDir } from '@mcp-beacon/registry';
import { cleanText } from '@mcp-beacon/runtime';

/** One row of `beacon-hub list`. */
export interface ListedInstance {
  id: string;
  name: string;
  /** Its short name as a hub started now would give it (instances named in start order). */
  slug: string;
  path: string;
  url: string;
  pid: number;
  /** `alive` when the pid exists, `stale` when it is provably gone. */
  process: 'alive' | 'stale';
  /** `expired` when `last_seen` is over 30 s old (the process may be stopped or hung). */
  heartbeat: 'fresh' | 'expired';
  started: string;
  last_seen: string;
  /** The remote it runs on (`beacon-hub remote`); null when on this machine. */
  remote: string | null;
}

function health(record: {
  pid: number;
  last_seen: string;
}): Pick<ListedInstance, 'process' | 'heartbeat'> {
  const verdict = checkStale(record);
  const age = checkStale(record, { isAlive: () => true });
  return {
    process: verdict.stale && verdict.reason === 'pid-dead' ? 'stale' : 'alive',
    heartbeat: age.stale ? 'expired' : 'fresh',
  };
}

/**
 * The records in the instances directory (invalid files are reported separately), and the
 * `remote` instances given, with the slugs a hub started now would give them all.
 */
export async function listInstances(
  paths: BeaconPaths = resolvePaths(),
  remote: readonly ListedInstance[] = [],
): Promise<{ instances: ListedInstance[]; invalid: Array<{ file: string; reason: string }> }> {
  const entries = await readInstanceDir(paths.instances);
  const instances: ListedInstance[] = [];
  const invalid: Array<{ file: string; reason: string }> = [];
  for (const { file, result } of entries) {
    if (!result.ok) {
      invalid.push({ file, reason: `${result.reason}: ${result.message}` });
      continue;
    }
    const r = result.value;
    instances.push({
      id: r.id,
      name: r.name,
      slug: '',
      path: r.path,
      url: r.url,
      pid: r.pid,
      ...health(r),
      started: r.started,
      last_seen: r.last_seen,
      remote: null,
    });
  }
  instances.push(...remote);
  const slugs = new SlugBook();
  const byStart = [...instances].sort(
    (a, b) => a.started.localeCompare(b.started) || a.id.localeCompare(b.id),
  );
  for (const i of byStart) i.slug = slugs.assign({ ...i, remote: i.remote ?? undefined });
  instances.sort((a, b) => a.name.localeCompare(b.name) || a.started.localeCompare(b.started));
  return { instances, invalid };
}

/** A plain-text table of {@link listInstances} for people. */
export function formatTable(instances: ListedInstance[]): string {
  if (instances.length === 0) return 'No Beacon instances found.\n';
  const rows = [
    ['NAME', 'SLUG', 'ID', 'URL', 'PID', 'PROCESS', 'HEARTBEAT', 'PATH'],
    ...instances.map((i) =>
      // Names and paths come from record files: escaped so they cannot drive the terminal.
      [
        i.name,
        i.slug,
        i.id.slice(0, 8),
        i.remote ? `${i.remote}:${i.url}` : i.url,
        String(i.pid),
        i.process,
        i.heartbeat,
        i.remote ? `${i.remote}:${i.path}` : i.path,
      ].map((cell) => cleanText(cell)),
    ),
  ];
  return columns(rows);
}

/** Rows of cells as left-aligned columns two spaces apart, one line each. */
export function columns(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((row) => row[col]!.length)));
  return `${rows
    .map((row) =>
      row
        .map((cell, col) => cell.padEnd(widths[col]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')}\n`;
}
