import {
  type ConnectionInfo,
  type ConnectionManager,
  createConnectionManager,
  isLocal,
} from '@mcp-beacon/connection-manager';
import type { BeaconPaths } from '@mcp-beacon/paths';
import { removeInstance } from '@mcp-beacon/registry';
import { type Clock, cleanText, systemClock } from '@mcp-beacon/runtime';
import { watchInstances } from '@mcp-beacon/watcher';
import { followRecords } from './follow.js';
import { VERSION } from './hub.js';
import { columns } from './list.js';
import { createRemotes } from './remote/remotes.js';
import type { RemoteSpec } from './remote/types.js';

/** One row of `beacon-hub list --watch`. */
export interface WatchRow {
  name: string;
  id: string;
  state: string;
  tools: number;
  url: string;
  /** When the state last changed (ms since the epoch). */
  since: number;
}

const time = (ms: number) => new Date(ms).toISOString().slice(11, 19);

/** The rows for the connections the manager has now, by name. */
export function watchRows(connections: readonly ConnectionInfo[]): WatchRow[] {
  return connections
    .map((c) => ({
      name: cleanText(c.record.name),
      id: c.id.slice(0, 8),
      state: c.state,
      tools: c.catalog.tools.length,
      url: cleanText(isLocal(c.location) ? c.record.url : `${c.location.remote}:${c.record.url}`),
      since: c.since,
    }))
    .sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
}

/** A compact table: instance, state, tools, url and the time of its last change. */
export function watchTable(rows: readonly WatchRow[]): string {
  if (rows.length === 0) return 'No Beacon instances yet.\n';
  const cells = [
    ['INSTANCE', 'ID', 'STATE', 'TOOLS', 'URL', 'CHANGED'],
    ...rows.map((r) => [r.name, r.id, r.state, String(r.tools), r.url, time(r.since)]),
  ];
  return columns(cells);
}

/** Options of {@link watchList}. */
export interface WatchListOptions {
  paths: BeaconPaths;
  write: (text: string) => void;
  /** Redraw the table in place (a terminal) rather than append one line per change. */
  tty: boolean;
  /** Timer of the redraw (default: the real clock). */
  clock?: Clock;
  /** Remotes whose instances are shown too, as `<remote>/<name>`. */
  remotes?: readonly RemoteSpec[];
}

/**
 * `beacon-hub list --watch`: connects to every instance as the hub does and shows each change
 * as it happens. On a terminal the table is redrawn in place; otherwise one line per change is
 * appended. Resolves with `close`, which ends every session it opened.
 */
export async function watchList(options: WatchListOptions): Promise<{ close(): Promise<void> }> {
  const { paths, write } = options;
  const clock = options.clock ?? systemClock;
  const manager: ConnectionManager = createConnectionManager({
    clock,
    clientInfo: { name: 'beacon-hub-watch', version: VERSION },
    removeRecord: (record) => removeInstance(paths, record.id),
  });
  const watcher = watchInstances({ dir: paths.instances });
  const remotes = createRemotes({
    specs: options.remotes ?? [],
    manager,
    clock,
    clientInfo: { name: 'beacon-hub-watch', version: VERSION },
  });
  let pending: unknown;
  const redraw = () => {
    pending = undefined;
    const remoteLines = remotes
      .list()
      .map((r) => `remote ${r.name}: ${r.state}${r.reason ? ` (${cleanText(r.reason)})` : ''}\n`)
      .join('');
    write(
      `\x1b[H\x1b[J${watchTable(watchRows(manager.list()))}${remoteLines}\nwatching ${paths.instances}; Ctrl-C to exit\n`,
    );
  };
  const changed = () => {
    if (options.tty) pending ??= clock.setTimeout(redraw, 50);
  };
  manager.onTransition((event) => {
    if (!options.tty) {
      const [row] = watchRows([event.info]);
      if (row)
        write(
          `${time(row.since)} ${row.name} (${row.id}) ${row.state}${event.reason ? ` (${cleanText(event.reason)})` : ''}, ${row.tools} tools, ${row.url}\n`,
        );
    }
    changed();
  });
  manager.onCatalog(changed);
  const remoteSaid = new Map<string, string>();
  remotes.onChange(() => {
    for (const r of remotes.list()) {
      const line = `remote ${r.name} ${r.state}${r.reason ? ` (${cleanText(r.reason)})` : ''}`;
      if (remoteSaid.get(r.name) === line) continue;
      remoteSaid.set(r.name, line);
      if (!options.tty) write(`${time(r.since)} ${line}\n`);
    }
    changed();
  });
  remotes.start();
  followRecords(watcher, manager, (event) => {
    if (!options.tty) write(`ignored ${cleanText(event.file)}: ${event.reason}\n`);
  });
  await watcher.ready;
  if (options.tty) redraw();
  else write(`watching ${paths.instances}; ${manager.list().length} instance(s)\n`);
  return {
    async close() {
      if (pending !== undefined) clock.clearTimeout(pending);
      await watcher.close();
      await remotes.close();
      await manager.close();
    },
  };
}
