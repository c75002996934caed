// Where an instance runs: this machine, or a remote whose paths are that machine's and are
// never compared with a local folder.

import { folderKey, looksLikeFolder } from './_folders.js';

/** Where an instance runs: `remote` undefined for this machine. */
export interface InstanceLocation {
  /** The remote it runs on; its path is that machine's. */
  readonly remote: string | undefined;
  readonly path: string;
}

/** A location as people and `instance` arguments write it: `/path`, or `devbox:/path`. */
export const formatLocation = (location: InstanceLocation): string =>
  location.remote === undefined ? location.path : `${location.remote}:${location.path}`;

/**
 * A stable identity of a location, strings only: the remote (if any) and the folder's key.
 * Two records of one project folder on one machine have the same identity.
 */
export const locationIdentity = (location: InstanceLocation): string =>
  `${location.remote ?? ''}\n${folderKey(location.path)}`;

/** An instance as messages and descriptions name it: `web (/path)`, `devbox/web (devbox:/path)`. */
export const instanceLabel = (c: { name: string; path: string; via: string | undefined }) =>
  `${c.name} (${formatLocation({ remote: c.via, path: c.path })})`;

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
  if (remote && remotes.has(remote[1]!)) return { remote: remote[1], path: remote[2]! };
  return looksLikeFolder(query) ? { remote: undefined, path: query } : undefined;
}
