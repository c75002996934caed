import { randomBytes } from 'node:crypto';
import {
  chmod,
  chown,
  copyFile,
  mkdir,
  readFile,
  realpath,
  rename,
  stat,
  writeFile,
} from 'node:fs/promises';
import path from 'node:path';

/** The MCP clients `beacon-hub setup` knows. */
export const SETUP_CLIENTS = ['claude-code', 'claude-desktop', 'cursor', 'vscode'] as const;
/** One of {@link SETUP_CLIENTS}. */
export type SetupClient = (typeof SETUP_CLIENTS)[number];

/** Where and how the hub is launched: absolute paths only. */
export interface HubLaunch {
  /** The Node binary. */
  node: string;
  /** The hub's CLI script. */
  cli: string;
  /** The data folder in use (`MCP_BEACON_HOME` for the client to pass on). */
  dataDir: string;
  /** Hub flags to launch it with, e.g. `--start-roots` (default none). */
  flags?: readonly string[];
}

/** The folders a client's config path depends on (injectable for tests). */
export interface SetupEnvironment {
  home: string;
  platform: NodeJS.Platform;
  /** `%APPDATA%` on Windows. */
  appData?: string | undefined;
}

/**
 * The user-level config file of a JSON-configured client and the key its servers live under;
 * `undefined` for a client configured by a command (Claude Code).
 */
export function configFile(
  client: SetupClient,
  env: SetupEnvironment,
): { file: string; key: 'mcpServers' | 'servers' } | undefined {
  const p = env.platform === 'win32' ? path.win32 : path.posix;
  const appData = env.appData ?? p.join(env.home, 'AppData', 'Roaming');
  const userConfig =
    env.platform === 'darwin'
      ? p.join(env.home, 'Library', 'Application Support')
      : env.platform === 'win32'
        ? appData
        : p.join(env.home, '.config');
  switch (client) {
    case 'claude-code':
      return undefined;
    case 'claude-desktop':
      return {
        file: p.join(userConfig, 'Claude', 'claude_desktop_config.json'),
        key: 'mcpServers',
      };
    case 'cursor':
      return { file: p.join(env.home, '.cursor', 'mcp.json'), key: 'mcpServers' };
    case 'vscode':
      return { file: p.join(userConfig, 'Code', 'User', 'mcp.json'), key: 'servers' };
  }
}

/** The server entry for a JSON config (VS Code also wants `type`). */
export function serverEntry(client: SetupClient, launch: HubLaunch): Record<string, unknown> {
  return {
    ...(client === 'vscode' ? { type: 'stdio' } : {}),
    command: launch.node,
    args: [launch.cli, ...(launch.flags ?? [])],
    env: { MCP_BEACON_HOME: launch.dataDir },
  };
}

const quote = (value: string) =>
  /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;

/** What `beacon-hub setup <client>` prints: a command to run, or the JSON to add. */
export function setupText(client: SetupClient, launch: HubLaunch, env: SetupEnvironment): string {
  if (client === 'claude-code') {
    return `${[
      'claude mcp add --scope user beacon',
      `--env MCP_BEACON_HOME=${quote(launch.dataDir)}`,
      '--',
      quote(launch.node),
      quote(launch.cli),
      ...(launch.flags ?? []).map(quote),
    ].join(' ')}\n`;
  }
  const target = configFile(client, env)!;
  const json = JSON.stringify({ [target.key]: { beacon: serverEntry(client, launch) } }, null, 2);
  return `Add to ${target.file} (or run: beacon-hub setup ${client} --write):\n${json}\n`;
}

/**
 * Adds (or replaces) the `beacon` entry in the client's config file, keeping every other
 * entry. An existing file is first copied to `<file>.<time>.bak`; the new content is written
 * to a temp file and renamed over, so the file is never half-written. A config that is a
 * symlink (a dotfile manager's) is written through to its target, the link kept; the file keeps
 * its mode and owner (a new one is 0600: configs hold other servers' keys), the backup too.
 * @returns the config file and the backup (undefined when the file did not exist).
 * @throws {Error} when the client has no config file, or the file is not a JSON object.
 */
export async function writeSetup(
  client: SetupClient,
  launch: HubLaunch,
  env: SetupEnvironment,
  now: Date = new Date(),
): Promise<{ file: string; backup: string | undefined }> {
  const target = configFile(client, env);
  if (!target)
    throw new Error(`${client} is set up with a command, not a file: run the command it prints`);
  let config: Record<string, unknown> = {};
  let backup: string | undefined;
  let text: string | undefined;
  try {
    text = await readFile(target.file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  if (text !== undefined && text.trim() !== '') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new Error(
        `${target.file} is not valid JSON (${(error as Error).message}); fix it or add the entry by hand`,
      );
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw new Error(`${target.file} does not hold a JSON object; add the entry by hand`);
    config = parsed as Record<string, unknown>;
  }
  // The file the config really is: a symlink is followed, so the link survives the rename.
  const file = text === undefined ? target.file : await realpath(target.file);
  const kept = text === undefined ? undefined : await stat(file);
  const mode = kept ? kept.mode & 0o7777 : 0o600;
  const keepOwner = async (written: string) => {
    await chmod(written, mode);
    if (kept && (kept.uid !== process.getuid?.() || kept.gid !== process.getgid?.()))
      await chown(written, kept.uid, kept.gid).catch(() => undefined);
  };
  if (text !== undefined) {
    backup = `${target.file}.${now.toISOString().replace(/[:.]/g, '-')}.bak`;
    await copyFile(file, backup);
    await keepOwner(backup);
  }
  const servers = config[target.key];
  config[target.key] = {
    ...(typeof servers === 'object' && servers !== null && !Array.isArray(servers) ? servers : {}),
    beacon: serverEntry(client, launch),
  };
  await mkdir(path.dirname(file), { recursive: true });
  const temp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(temp, `${JSON.stringify(config, null, 2)}\n`, { mode });
  await keepOwner(temp);
  await rename(temp, file);
  return { file: target.file, backup };
}
