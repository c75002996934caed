// Which of beacon-hub's flags belong to the shared hub and which to one client's session. The
// hub-wide ones (and the kept remotes) name the hub a bridge connects to: two clients share a
// hub only when every hub-wide setting agrees. Loaded by the bridge: Node's own modules only.

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { OptionValues } from '@mcp-beacon/runtime';
import type { HUB_OPTIONS } from '../options.js';
import type { SessionRequest } from './wire.js';

type Values = OptionValues<typeof HUB_OPTIONS>;

/** Flags that change the hub for every client, in a fixed order. */
export const HUB_WIDE = [
  'call-timeout',
  'ping-interval',
  'ping-timeout',
  'first-list-timeout',
  'instance-bin',
  'start-timeout',
  'remote',
  'no-remotes',
  'remote-timeout',
  'idle-exit',
] as const satisfies readonly (keyof Values)[];

/**
 * The hub-wide flags of a command line as the hub is started with them: in a fixed order, an
 * `--instance-bin` path made absolute (a bare name stays a name looked up on PATH).
 */
export function hubArgsOf(values: Values, cwd = process.cwd()): string[] {
  const args: string[] = [];
  for (const flag of HUB_WIDE) {
    const value = values[flag];
    if (value === undefined || value === false) continue;
    if (value === true) args.push(`--${flag}`);
    else if (Array.isArray(value)) for (const v of value) args.push(`--${flag}`, v);
    else if (flag === 'instance-bin' && typeof value === 'string' && value.includes(path.sep))
      args.push(`--${flag}`, path.resolve(cwd, value));
    else args.push(`--${flag}`, String(value));
  }
  return args;
}

/** What names a shared hub besides its version: its hub-wide flags and the kept remotes. */
export async function hubSettings(
  hubArgs: readonly string[],
  remotesFile: string,
): Promise<{ args: readonly string[]; remotes: string | null }> {
  const remotes = await readFile(remotesFile, 'utf8').catch(() => null);
  return { args: hubArgs, remotes };
}

/** One client's own settings, which its session of the shared hub applies. */
export function sessionOf(values: Values, cwd: string, label: string): SessionRequest {
  return {
    workingFolder: cwd,
    label,
    ...(values.tools === 'grouped' || values.tools === 'namespaced' ? { tools: values.tools } : {}),
    ...(values['max-name-length'] === undefined
      ? {}
      : { maxNameLength: values['max-name-length'] }),
    ...(values['max-tools'] === undefined ? {} : { maxTools: values['max-tools'] }),
    ...(values['start-roots'] ? { startRoots: true } : {}),
  };
}
