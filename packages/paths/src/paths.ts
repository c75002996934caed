import { chmod, lstat, mkdir, stat } from 'node:fs/promises';
import { homedir as osHomedir } from 'node:os';
import path from 'node:path';
import { PathsError } from './errors.js';

/** The directory name Beacon uses under the per-user data folder of every OS. */
export const APP_NAME = 'mcp-beacon';

/** Environment variable that overrides the data root (tests and portable setups use it). */
export const HOME_ENV = 'MCP_BEACON_HOME';

/** Where Beacon's files live. All paths are absolute. */
export interface BeaconPaths {
  /** The data root: `MCP_BEACON_HOME`, else the OS's per-user data folder + `mcp-beacon`. */
  readonly root: string;
  /** `<root>/instances`: one `<id>.json` record per live instance. */
  readonly instances: string;
  /** `<root>/temp`: records are written here first, then renamed into `instances`. */
  readonly temp: string;
  /**
   * The user's settings (`remotes.json`): beside the data under `MCP_BEACON_HOME`, else the
   * OS's per-user config folder + `mcp-beacon` (env-paths' `config`).
   */
  readonly config: string;
}

/** Inputs of {@link resolvePaths}; each defaults to the running process's own value. */
export interface ResolvePathsOptions {
  /** An explicit data root; wins over the environment. */
  home?: string;
  /** Environment to read `MCP_BEACON_HOME`, `XDG_DATA_HOME` and `LOCALAPPDATA` from. */
  env?: Readonly<Record<string, string | undefined>>;
  /** OS whose conventions apply (`darwin`, `win32`, anything else is treated as XDG). */
  platform?: NodeJS.Platform;
  /** The user's home directory; read from the OS only when needed. */
  homedir?: string;
}

/**
 * Resolves Beacon's directories without touching the disk.
 * The per-OS rules are those of env-paths (`mcp-beacon`, no suffix), evaluated lazily so
 * that nothing is read at import time and every input can be injected.
 * `MCP_BEACON_HOME` (and `home`) may start with `~/`, expanded to the user's home folder.
 * @throws {PathsError} `INVALID_HOME` when `MCP_BEACON_HOME` (or `home`) is empty, relative or
 * starts with `~user`.
 */
export function resolvePaths(options: ResolvePathsOptions = {}): BeaconPaths {
  const platform = options.platform ?? process.platform;
  const env = options.env ?? process.env;
  const p = platform === 'win32' ? path.win32 : path.posix;
  const given = options.home ?? env[HOME_ENV];
  let root: string;
  let config: string;
  if (given !== undefined) {
    const label = overrideLabel(options.home);
    const override = expandTilde(given, label, () => options.homedir ?? osHomedir(), p);
    if (override === '' || !p.isAbsolute(override)) {
      throw new PathsError(
        'INVALID_HOME',
        given,
        `${label} must be an absolute path (or start with ~/), got ${JSON.stringify(given)}; set it to a full path such as ${p === path.win32 ? 'C:\\Users\\you\\beacon' : '/home/you/.beacon'}, or unset it to use the default folder`,
      );
    }
    root = p.resolve(override); // normalised, without a trailing separator
    config = root;
  } else {
    const home = options.homedir ?? osHomedir();
    root = defaultDataDir(platform, env, home);
    config = defaultConfigDir(platform, env, home);
  }
  return { root, instances: p.join(root, 'instances'), temp: p.join(root, 'temp'), config };
}

/**
 * `~` and `~/...` become the home folder, as a shell would expand them (a client's JSON `env`
 * block is not read by a shell). `~user/...` is refused: whose home that is cannot be known
 * without reading the user database.
 */
function expandTilde(
  value: string,
  label: string,
  home: () => string,
  p: typeof path.posix,
): string {
  if (value === '~') return home();
  if (value.startsWith('~/') || (p === path.win32 && value.startsWith('~\\')))
    return p.join(home(), value.slice(2));
  if (value.startsWith('~'))
    throw new PathsError(
      'INVALID_HOME',
      value,
      `${label} starts with ${JSON.stringify(value.split(/[\\/]/)[0])}: only ~/ (your own home) is expanded; write the full path instead`,
    );
  return value;
}

function overrideLabel(home: string | undefined): string {
  return home === undefined ? HOME_ENV : 'home';
}

function defaultDataDir(
  platform: NodeJS.Platform,
  env: Readonly<Record<string, string | undefined>>,
  home: string,
): string {
  if (platform === 'darwin') {
    return path.posix.join(home, 'Library', 'Application Support', APP_NAME);
  }
  if (platform === 'win32') {
    const local = env.LOCALAPPDATA || path.win32.join(home, 'AppData', 'Local');
    return path.win32.join(local, APP_NAME, 'Data');
  }
  return path.posix.join(env.XDG_DATA_HOME || path.posix.join(home, '.local', 'share'), APP_NAME);
}

function defaultConfigDir(
  platform: NodeJS.Platform,
  env: Readonly<Record<string, string | undefined>>,
  home: string,
): string {
  if (platform === 'darwin') return path.posix.join(home, 'Library', 'Preferences', APP_NAME);
  if (platform === 'win32') {
    const roaming = env.APPDATA || path.win32.join(home, 'AppData', 'Roaming');
    return path.win32.join(roaming, APP_NAME, 'Config');
  }
  return path.posix.join(env.XDG_CONFIG_HOME || path.posix.join(home, '.config'), APP_NAME);
}

/**
 * Creates `dir` (and missing parents) with mode 0700 if it does not exist, and checks that
 * what is there is a directory. Existing directories keep their mode.
 * @throws {PathsError} `CREATE_FAILED` with the OS error as `cause`, or `NOT_A_DIRECTORY`.
 */
export async function ensureDir(dir: string): Promise<void> {
  // One level at a time rather than `recursive: true`, which reports ENOENT for EROFS/EACCES.
  try {
    await mkdir(dir, { mode: 0o700 });
    return;
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && path.dirname(dir) !== dir) {
      await ensureDir(path.dirname(dir));
      return ensureDir(dir);
    }
    if (code === 'ENOTDIR') {
      throw new PathsError(
        'NOT_A_DIRECTORY',
        dir,
        `cannot use ${dir}: a parent is not a directory`,
        {
          cause,
        },
      );
    }
    if (code !== 'EEXIST') {
      throw new PathsError(
        'CREATE_FAILED',
        dir,
        `cannot create ${dir}: ${(cause as Error).message}`,
        {
          cause,
        },
      );
    }
  }
  const stats = await stat(dir).catch((cause: unknown) => {
    throw new PathsError(
      'CREATE_FAILED',
      dir,
      `cannot inspect ${dir}: ${(cause as Error).message}`,
      {
        cause,
      },
    );
  });
  if (!stats.isDirectory()) {
    throw new PathsError('NOT_A_DIRECTORY', dir, `cannot use ${dir}: it is not a directory`);
  }
}

/**
 * {@link ensureDir}, then makes sure the folder is this user's alone (POSIX): one owned by
 * another user is refused, and one of this user's that group or others may write to is made
 * 0700 again, so nobody else can plant records, temp files or logs in it.
 * @throws {PathsError} `UNTRUSTED` for another user's folder, or as {@link ensureDir}.
 */
export async function ensureTrustedDir(dir: string): Promise<void> {
  await ensureDir(dir);
  const me = process.getuid?.();
  if (me === undefined) return;
  const info = await lstat(dir);
  if (info.uid !== me)
    throw new PathsError(
      'UNTRUSTED',
      dir,
      `cannot use ${dir}: it belongs to another user (uid ${info.uid}); Beacon uses only folders you own`,
    );
  if ((info.mode & 0o022) !== 0) await chmod(dir, 0o700);
}

/**
 * Creates the root, `instances` and `temp` directories (mode 0700) when missing, and makes sure
 * each is this user's alone ({@link ensureTrustedDir}).
 * @throws {PathsError} when one of them cannot be created, or belongs to another user.
 */
export async function ensurePaths(paths: BeaconPaths): Promise<BeaconPaths> {
  await ensureTrustedDir(paths.root);
  await ensureTrustedDir(paths.instances);
  await ensureTrustedDir(paths.temp);
  return paths;
}
