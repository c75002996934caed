// Where an instance runs (connection-manager's `InstanceLocation`: this machine, or a remote
// whose paths are that machine's), as people write and read it.

import { type InstanceLocation, remoteOf } from '@mcp-beacon/connection-manager';
import { folderKey, looksLikeFolder } from './folders.js';

/** A location as people and `instance` arguments write it: `/path`, or `devbox:/path`. */
export const formatLocation = (location: InstanceLocation): string =>
  location.kind === 'local' ? location.path : `${location.remote}:${location.path}`;

/**
 * A stable identity of a location, strings only: the remote (if any) and the folder's key.
 * Two records of one project folder on one machine have the same identity.
 */
export const locationIdentity = (location: InstanceLocation): string =>
  `${remoteOf(location) ?? ''}\n${folderKey(location.path)}`;

/**
 * An instance as messages and descriptions name it: `web (/path)`, `devbox/web (devbox:/path)`;
 * `name` and `path` as shown (cleaned), `location` for its machine.
 */
export const instanceLabel = (c: { name: string; path: string; location: InstanceLocation }) =>
  `${c.name} (${formatLocation({ ...c.location, path: c.path })})`;

const REMOTE_PREFIX = /^([A-Za-z0-9][A-Za-z0-9_.-]{1,31}):(.+)$/;

/**
 * The folder an `instance` argument names, if it names one: `devbox:/path` is remote devbox's
 * folder (when devbox is one of `remotes`), an absolute path is a local folder.
 */
export function parseFolderQuery(
  query: string,
  remotes: ReadonlySet<string>,
): InstanceLocation | undefined {
  const remote = REMOTE_PREFIX.exec(query);
  if (remote && remotes.has(remote[1]!))
    return { kind: 'remote', remote: remote[1]!, path: remote[2]! };
  return looksLikeFolder(query) ? { kind: 'local', path: query } : undefined;
}
