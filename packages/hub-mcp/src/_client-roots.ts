import { fileURLToPath } from 'node:url';
import { cleanText } from '@mcp-beacon/registry';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';

/** Bound on the client's answer to `roots/list`, in ms. */
const LIST_ROOTS_TIMEOUT_MS = 5_000;

/** The client's root folders (MCP roots), asked for once and again after each change. */
export interface ClientRoots {
  /**
   * The local folders of the client's `file://` roots, asked for now if not known; undefined
   * when the client has no roots or did not answer.
   */
  folders(): Promise<readonly string[] | undefined>;
  /** The folders as last answered, without asking. */
  known(): readonly string[] | undefined;
  /** The client said its roots changed: the next {@link folders} asks again. */
  invalidate(): void;
}

/** Creates the roots cache of the hub's client; one `roots/list` in flight at a time. */
export function createClientRoots(server: Server, log: (message: string) => void): ClientRoots {
  let current: readonly string[] | undefined;
  let asking: Promise<readonly string[] | undefined> | undefined;
  let generation = 0;

  const ask = async (): Promise<readonly string[] | undefined> => {
    if (!server.getClientCapabilities()?.roots) return undefined;
    const { roots } = await server.listRoots(undefined, { timeout: LIST_ROOTS_TIMEOUT_MS });
    const folders: string[] = [];
    for (const root of roots) {
      if (!root.uri.startsWith('file://')) continue;
      try {
        folders.push(fileURLToPath(root.uri));
      } catch {
        log(`ignoring root ${cleanText(root.uri)}: not a local path`);
      }
    }
    return folders;
  };

  return {
    folders() {
      if (current !== undefined) return Promise.resolve(current);
      if (!asking) {
        const mine = generation;
        asking = ask()
          .then(
            (folders) => {
              if (mine === generation) current = folders;
              return folders;
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
    },
    known: () => current,
    invalidate() {
      generation++;
      current = undefined;
      asking = undefined;
    },
  };
}
