// `beacon-hub list [--json]` and `beacon-hub list --watch`.
import type { BeaconPaths } from '@mcp-beacon/paths';
import { cleanText, createLogger, type OptionValues, onShutdown } from '@mcp-beacon/runtime';
import { VERSION } from '../hub.js';
import { formatTable, listInstances } from '../list.js';
import { watchList } from '../list-watch.js';
import type { HUB_OPTIONS } from '../options.js';
import { listRemoteInstances } from '../remote/list.js';
import { remoteSummary } from '../remote/remotes.js';
import { remoteSpecs } from './remotes-of-run.js';

/** Prints the instances found (and the remotes'), or with `--watch` follows them. */
export async function runList(
  values: OptionValues<typeof HUB_OPTIONS>,
  paths: BeaconPaths,
  warn: (message: string) => void,
): Promise<void> {
  const remotes = await remoteSpecs(values, paths, warn);
  if (values.watch) {
    const view = await watchList({
      paths,
      remotes,
      write: (text) => process.stdout.write(text),
      tty: process.stdout.isTTY === true,
    });
    onShutdown(() => view.close(), { logger: createLogger('warn') });
    return;
  }
  const timeoutMs = values['remote-timeout'];
  const remote = await listRemoteInstances(remotes, {
    version: VERSION,
    ...(timeoutMs === undefined ? {} : { handshakeTimeoutMs: timeoutMs }),
  });
  const { instances, invalid } = await listInstances(paths, remote.instances);
  const summaries = remote.remotes.map(remoteSummary);
  if (values.json) {
    const body = { instances, invalid, ...(summaries.length > 0 ? { remotes: summaries } : {}) };
    process.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
    return;
  }
  process.stdout.write(formatTable(instances));
  for (const r of summaries) {
    const what =
      r.state === 'connected' ? `${r.instances} instance(s)` : `${r.state}: ${r.reason ?? ''}`;
    process.stdout.write(`${cleanText(`remote ${r.name}: ${what}`)}\n`);
  }
  for (const bad of invalid)
    process.stderr.write(`ignored ${cleanText(bad.file)}: ${cleanText(bad.reason)}\n`);
}
