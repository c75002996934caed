// What every benchmark needs from its command line, and where the built programs are.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
/** The built beacon-hub and beacon-instance. */
export const HUB = path.join(here, '../apps/hub/dist/cli.js');
export const INSTANCE = path.join(here, '../apps/instance/dist/cli.js');

/** The number after `--<name>` on the command line, else `fallback`. */
export function numberFlag(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

/**
 * The Node flags of the hub a benchmark starts: by default those the bridge starts the shared
 * hub with (`SHARED_HUB_NODE_FLAGS` in apps/hub/src/shared/bridge.ts), so the hub measured on
 * raw pipes is the one clients share; `--node-flags "..."` replaces them (`--node-flags ""`: none,
 * as an MCP client starts `beacon-hub --standalone`).
 */
export function hubNodeFlags() {
  const i = process.argv.indexOf('--node-flags');
  return i > 0 ? process.argv[i + 1].split(' ').filter(Boolean) : ['--max-semi-space-size=1'];
}
