import type { BeaconPaths } from '@mcp-beacon/paths';
import { remotesOfRun } from '../remote/cli.js';
import type { RemoteSpec } from '../remote/types.js';
import { answerFirstRequest } from './first-request.js';

/**
 * The remotes of this run (see `remotesOfRun`); a bad `--remote` ends the hub with code 2,
 * and, when serving MCP, is said to the client too, as the answer to its first request.
 */
export async function remoteSpecs(
  values: { remote?: string[]; 'no-remotes'?: boolean },
  paths: BeaconPaths,
  warn: (message: string) => void,
  { serving = false }: { serving?: boolean } = {},
): Promise<RemoteSpec[]> {
  try {
    return await remotesOfRun(values, paths, warn);
  } catch (error) {
    const line = `beacon-hub: ${(error as Error).message}`;
    process.stderr.write(`${line}\n`);
    if (serving) await answerFirstRequest(line, 1_000);
    process.exit(2);
  }
}
