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
