import type { BeaconPaths } from '@mcp-beacon/paths';
import { cleanText } from '@mcp-beacon/runtime';
import { checkRemote, parseRemoteFlag, readRemotes, remotesFile, writeRemotes } from './config.js';
import type { RemoteSpec } from './types.js';

/** Usage of `beacon-hub remote`. */
export const REMOTE_USAGE = `Usage:
  beacon-hub remote add NAME -- COMMAND [ARGS...]
                                keep a remote: COMMAND runs beacon-hub on another machine
                                and speaks MCP on its stdio, e.g.
                                  beacon-hub remote add devbox -- ssh devbox beacon-hub
                                  beacon-hub remote add web -- docker exec -i web beacon-hub
                                  beacon-hub remote add wsl -- wsl beacon-hub
  beacon-hub remote list [--json]
                                the remotes kept, with their commands
  beacon-hub remote remove NAME forget a remote
`;

const quote = (word: string) =>
  /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;

/**
 * `beacon-hub remote ...` (the words after `remote`); writes to `out` and `err`, returns the
 * exit code: 0 done, 1 the file could not be read or written, 2 a usage error.
 */
export async function remoteCommand(
  args: readonly string[],
  paths: BeaconPaths,
  out: (text: string) => void,
  err: (text: string) => void,
): Promise<number> {
  const [verb, ...rest] = args;
  try {
    if (verb === 'add') {
      const dash = rest.indexOf('--');
      const name = rest[0];
      if (name === undefined || dash !== 1 || rest.length < 3) {
        err(`beacon-hub: remote add takes NAME -- COMMAND [ARGS...]\n${REMOTE_USAGE}`);
        return 2;
      }
      let spec: ReturnType<typeof checkRemote>;
      try {
        spec = checkRemote({ name, command: rest.slice(2) });
      } catch (error) {
        err(`beacon-hub: ${(error as Error).message}\n`);
        return 2;
      }
      const remotes = await readRemotes(paths);
      const replaced = remotes.some((r) => r.name === spec.name);
      await writeRemotes(paths, [...remotes.filter((r) => r.name !== spec.name), spec]);
      out(
        `${replaced ? 'Changed' : 'Added'} remote ${spec.name}: ${spec.command.map(quote).join(' ')} (in ${remotesFile(paths)}); hubs started from now on connect to it.\n`,
      );
      return 0;
    }
    if (verb === 'remove' && rest.length === 1) {
      const remotes = await readRemotes(paths);
      const kept = remotes.filter((r) => r.name !== rest[0]);
      if (kept.length === remotes.length) {
        err(`beacon-hub: no remote named ${JSON.stringify(cleanText(rest[0]!))}\n`);
        return 1;
      }
      await writeRemotes(paths, kept);
      out(`Removed remote ${rest[0]}.\n`);
      return 0;
    }
    if (verb === 'list' && (rest.length === 0 || (rest.length === 1 && rest[0] === '--json'))) {
      const remotes = await readRemotes(paths);
      if (rest[0] === '--json') out(`${JSON.stringify({ remotes }, null, 2)}\n`);
      else if (remotes.length === 0)
        out('No remotes. Add one with: beacon-hub remote add NAME -- COMMAND\n');
      else for (const r of remotes) out(`${r.name}\t${r.command.map(quote).join(' ')}\n`);
      return 0;
    }
  } catch (error) {
    err(`beacon-hub: ${(error as Error).message}\n`);
    return 1;
  }
  err(`beacon-hub: unknown remote command ${JSON.stringify(args.join(' '))}\n${REMOTE_USAGE}`);
  return 2;
}

/**
 * The remotes of this run: the kept ones (unless `--no-remotes`), then each `--remote`, which
 * replaces a kept one of the same name. A remotes file that cannot be read is reported through
 * `warn` and skipped, so the local instances are still served.
 * @throws {HubError} `BAD_REMOTE` for a bad `--remote`.
 */
export async function remotesOfRun(
  values: { remote?: string[]; 'no-remotes'?: boolean },
  paths: BeaconPaths,
  warn: (message: string) => void,
): Promise<RemoteSpec[]> {
  const byName = new Map<string, RemoteSpec>();
  if (!values['no-remotes']) {
    try {
      for (const spec of await readRemotes(paths)) byName.set(spec.name, spec);
    } catch (error) {
      warn(`ignoring the kept remotes: ${(error as Error).message}`);
    }
  }
  for (const flag of values.remote ?? []) {
    const spec = parseRemoteFlag(flag);
    byName.set(spec.name, spec);
  }
  return [...byName.values()];
}
