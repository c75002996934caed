import { cleanText } from '@mcp-beacon/runtime';
import type { ClientPeer } from '../sessions/peer.js';
import { type FolderResolver, rootFolder } from './folders.js';

/** Bound on the client's answer to `roots/list`, in ms. */
const LIST_ROOTS_TIMEOUT_MS = 5_000;

/** The client's roots as local folders, and as comparison keys (after realpath). */
export interface RootFolders {
  folders: readonly string[];
  keys: readonly string[];
}

/** The client's root folders (MCP roots), asked for once and again after each change. */
export interface ClientRoots {
  /**
   * The local folders of the client's `file://` roots, asked for now if not known; undefined
   * when the client has no roots or did not answer.
   */
  folders(): Promise<readonly string[] | undefined>;
  /** Like {@link folders}, as comparison keys (realpath, then normalised per platform). */
  keys(): Promise<readonly string[] | undefined>;
  /** The keys as last answered, without asking. */
  knownKeys(): readonly string[] | undefined;
  /**
   * The keys of roots a 2026-07-28 client gave in a retried call. Not kept: that revision has
   * no notice of a change of roots, so each call that needs them asks.
   */
  keysOf(roots: readonly { uri: string }[]): Promise<readonly string[]>;
  /** The client said its roots changed: the next {@link folders} asks again. */
  invalidate(): void;
}

/** Creates the roots cache of the hub's client; one `roots/list` in flight at a time. */
export function createClientRoots(
  peer: ClientPeer,
  resolver: FolderResolver,
  log: (message: string) => void,
): ClientRoots {
  const { platform } = resolver;
  let current: RootFolders | undefined;
  let asking: Promise<RootFolders | undefined> | undefined;
  let generation = 0;

  const ask = async (): Promise<RootFolders | undefined> => {
    const server = peer.server;
    if (!server || !peer.askable()?.roots) return undefined;
    const { roots } = await server.listRoots(undefined, { timeout: LIST_ROOTS_TIMEOUT_MS });
    return foldersOf(roots);
  };

  const foldersOf = async (roots: readonly { uri: string }[]): Promise<RootFolders> => {
    const folders: string[] = [];
    for (const root of roots) {
      if (!root.uri.startsWith('file:')) continue;
      const folder = rootFolder(root.uri, platform);
      if (folder === undefined) log(`ignoring root ${cleanText(root.uri)}: not a local path`);
      else folders.push(folder);
    }
    return { folders, keys: await Promise.all(folders.map((f) => resolver.resolve(f))) };
  };

  const roots = (): Promise<RootFolders | undefined> => {
    if (current !== undefined) return Promise.resolve(current);
    if (!asking) {
      const mine = generation;
      asking = ask()
        .then(
          (answer) => {
            if (mine === generation) current = answer;
            return answer;
          },
          (error: Error) => {
            log(`cannot list the client's roots: ${error.message}`);
            return undefined;
          },
        )
        .finally(() => {
          if (mine === generation) asking = undefined;
        });
    }
    return asking;
  };

  return {
    folders: async () => (await roots())?.folders,
    keys: async () => (await roots())?.keys,
    knownKeys: () => current?.keys,
    async keysOf(list) {
      const answer = await foldersOf(list.slice(0, 1_000));
      return answer.keys;
    },
    invalidate() {
      generation++;
      current = undefined;
      asking = undefined;
    },
  };
}
