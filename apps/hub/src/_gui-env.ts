// What a hub started by a macOS GUI client passes on to the instances it starts. Such a hub has
// launchd's environment (PATH=/usr/bin:/bin:/usr/sbin:/sbin), where neither a Homebrew, nvm or
// Volta `npm` nor the `node` a `#!/usr/bin/env node` script asks for can be found. Only that case
// is changed: a PATH a shell set (a client started from a terminal, or one that reads the login
// shell's environment, as VS Code does) reaches instances as it is, and so does every PATH on
// Linux and Windows.
import { closeSync, openSync, readdirSync, readSync, realpathSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';

/** The machine a launch happens on: its OS, environment and file system (tests inject them). */
export interface LaunchHost {
  platform: NodeJS.Platform;
  /** The hub's environment (default `process.env`, which is case-insensitive on Windows). */
  env: Readonly<Record<string, string | undefined>>;
  /** The Node binary running the hub (default `process.execPath`). */
  execPath: string;
  /** The user's home folder (default `os.homedir()`, read when first needed). */
  home: string;
  /** Whether `dir` is a folder (following links). */
  isDirectory: (dir: string) => boolean;
  /** The first 4 KiB of `file` as UTF-8, or undefined when it cannot be read. */
  readText: (file: string) => string | undefined;
  /** The names in `dir`, or none when it cannot be listed. */
  listDir: (dir: string) => string[];
  /** `file` with every link resolved, or undefined when it does not exist. */
  realpath: (file: string) => string | undefined;
}

const HEAD_BYTES = 4_096;

function readHead(file: string): string | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const buffer = Buffer.alloc(HEAD_BYTES);
    return buffer.subarray(0, readSync(fd, buffer, 0, HEAD_BYTES, 0)).toString('utf8');
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** This machine as a {@link LaunchHost}, with `overrides` in place of its parts. */
export function launchHost(overrides: Partial<LaunchHost> = {}): LaunchHost {
  let home = overrides.home;
  return {
    platform: process.platform,
    env: process.env,
    execPath: process.execPath,
    get home() {
      home ??= homedir();
      return home;
    },
    isDirectory: (dir) => {
      try {
        return statSync(dir).isDirectory();
      } catch {
        return false;
      }
    },
    readText: readHead,
    listDir: (dir) => {
      try {
        return readdirSync(dir);
      } catch {
        return [];
      }
    },
    realpath: (file) => {
      try {
        return realpathSync.native(file);
      } catch {
        return undefined;
      }
    },
    ...overrides,
  };
}

/** launchd's PATH, and the folders macOS's own path_helper adds (/etc/paths, Apple's). */
const SYSTEM_FOLDERS = new Set([
  '/usr/bin',
  '/bin',
  '/usr/sbin',
  '/sbin',
  '/usr/local/bin',
  '/System/Cryptexes/App/usr/bin',
  '/Library/Apple/usr/bin',
]);
/** A PATH entry without trailing slashes (`/usr/bin/` is `/usr/bin`). */
const folderOf = (entry: string) => (entry.length > 1 ? entry.replace(/\/+$/, '') : entry);

const SYSTEM_PREFIXES = [
  '/var/run/com.apple.security.cryptexd/',
  '/private/var/run/com.apple.security.cryptexd/',
];

/**
 * Whether `value` is a PATH nobody but macOS wrote: launchd's (what an app started from the Dock,
 * Finder or Spotlight gets), or path_helper's system folders. Any folder a user, a shell profile
 * or a package manager adds (Homebrew's /opt/homebrew/bin, nvm, Volta) makes it false.
 */
export function isLaunchdPath(value: string | undefined): boolean {
  return (
    (value ?? '')
      .split(':')
      // Relative entries find nothing a hub may run (findProgram skips them), so they say nothing.
      .filter((entry) => path.posix.isAbsolute(entry))
      .map(folderOf)
      .every((dir) => SYSTEM_FOLDERS.has(dir) || SYSTEM_PREFIXES.some((p) => dir.startsWith(p)))
  );
}

const VERSION = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?$/;
const INSTALLED = /^v(\d+)\.(\d+)\.(\d+)$/;
/** An nvm alias name: `default`, `lts/*`, `lts/iron`, a user's own; never a path out of alias/. */
const ALIAS = /^[\w*-]+(?:\/[\w*-]+)?$/;

/**
 * The `bin` folder of the Node that nvm's default alias (`$NVM_DIR/alias/default`, `NVM_DIR`
 * default `~/.nvm`) names, resolved as nvm does: a full or partial version (`20`, `v20.11`)
 * picks the newest installed match, `node` and `stable` the newest installed, and other names
 * (`lts/*`, a user's alias) are followed through their alias files. Undefined for `system`,
 * `iojs`, anything that names no installed version, or a chain longer than 8 aliases.
 */
export function nvmDefaultBin(host: LaunchHost): string | undefined {
  const configured = host.env.NVM_DIR;
  const nvmDir =
    configured && path.posix.isAbsolute(configured)
      ? configured
      : path.posix.join(host.home, '.nvm');
  const versionsDir = path.posix.join(nvmDir, 'versions', 'node');
  const installed = host
    .listDir(versionsDir)
    .map((name) => ({ name, parts: INSTALLED.exec(name)?.slice(1).map(Number) }))
    .filter((v): v is { name: string; parts: number[] } => v.parts !== undefined)
    // Newest first: by major, then minor, then patch.
    .sort((a, b) => b.parts.reduce((d, n, i) => d || n - a.parts[i]!, 0));
  /** The newest installed version whose first parts are `prefix` (all of them when empty). */
  const newest = (prefix: number[]) =>
    installed.find((v) => prefix.every((n, i) => v.parts[i] === n))?.name;
  let name = 'default';
  for (let hop = 0; hop < 8; hop++) {
    const value = host.readText(path.posix.join(nvmDir, 'alias', name))?.trim();
    if (value === undefined) return undefined;
    let version: string | undefined;
    const asked = VERSION.exec(value);
    if (asked) {
      version = newest(
        asked
          .slice(1)
          .filter((n) => n !== undefined)
          .map(Number),
      );
    } else if (value === 'node' || value === 'stable') version = newest([]);
    else if (ALIAS.test(value) && value !== 'system' && value !== 'iojs') {
      name = value;
      continue;
    } else return undefined;
    if (version === undefined) return undefined;
    const bin = path.posix.join(versionsDir, version, 'bin');
    return host.isDirectory(bin) ? bin : undefined;
  }
  return undefined;
}

/**
 * The folders where macOS users' package managers put their commands, in the order they are
 * added: Homebrew (Apple silicon, then Intel and the nodejs.org installer), Volta, pnpm (its
 * macOS default, then its Linux one), Bun, and nvm's default Node. Only fixed locations and
 * their documented variables (`VOLTA_HOME`, `PNPM_HOME`, `BUN_INSTALL`, `NVM_DIR`, absolute ones
 * only; a GUI-started hub rarely has them): no shell profile is run to find more (it would run the user's
 * dotfiles in the hub, which may print, prompt or hang).
 */
function packageManagerFolders(host: LaunchHost): string[] {
  const home = (...parts: string[]) => path.posix.join(host.home, ...parts);
  const absolute = (value: string | undefined) =>
    value && path.posix.isAbsolute(value) ? value : undefined;
  const volta = absolute(host.env.VOLTA_HOME) ?? home('.volta');
  const pnpmHome = absolute(host.env.PNPM_HOME);
  const pnpmHomes = pnpmHome
    ? [pnpmHome]
    : [home('Library', 'pnpm'), home('.local', 'share', 'pnpm')];
  const bun = absolute(host.env.BUN_INSTALL) ?? home('.bun');
  const nvm = nvmDefaultBin(host);
  return [
    '/opt/homebrew/bin',
    '/usr/local/bin',
    path.posix.join(volta, 'bin'),
    // pnpm 11 keeps global commands in $PNPM_HOME/bin, pnpm 10 in $PNPM_HOME.
    ...pnpmHomes.flatMap((dir) => [dir, path.posix.join(dir, 'bin')]),
    path.posix.join(bun, 'bin'),
    ...(nvm ? [nvm] : []),
  ];
}

/**
 * The PATH for the instances a hub starts, or undefined to keep the hub's own. On macOS, when
 * the hub's PATH is launchd's ({@link isLaunchdPath}): the folder of the Node running the hub
 * first (so `#!/usr/bin/env node` and `npm` find it), then the hub's absolute entries, then the
 * package managers' folders that exist ({@link packageManagerFolders}), each once. Appended, not
 * prepended: a command launchd's PATH finds is still the one found.
 */
export function instanceSearchPath(host: LaunchHost): string | undefined {
  if (host.platform !== 'darwin' || !isLaunchdPath(host.env.PATH)) return undefined;
  const folders: string[] = [];
  const add = (dir: string, mustExist: boolean) => {
    const clean = folderOf(dir);
    if (!path.posix.isAbsolute(clean) || folders.includes(clean)) return;
    if (mustExist && !host.isDirectory(clean)) return;
    folders.push(clean);
  };
  add(path.posix.dirname(host.execPath), false);
  for (const entry of (host.env.PATH ?? '').split(':')) add(entry, false);
  for (const dir of packageManagerFolders(host)) add(dir, true);
  return folders.join(':');
}

/** The environment for an instance the hub starts: the hub's, PATH as {@link instanceSearchPath} says. */
export function instanceEnv(host: LaunchHost): Record<string, string | undefined> {
  const searchPath = instanceSearchPath(host);
  return searchPath === undefined ? { ...host.env } : { ...host.env, PATH: searchPath };
}

/**
 * The real path of `file` when it is a script Node runs as it is (a `.js`, `.mjs` or `.cjs`
 * file, or a `#!/usr/bin/env node` or `#!/…/node` script without further words), else
 * undefined. Such a script is then started with the hub's own Node rather than through its
 * shebang, which looks `node` up on a PATH that may not have it. A shebang with flags
 * (`env -S node --flag`) is left to run as it is: running it with Node would drop them.
 */
export function nodeScript(file: string, host: LaunchHost): string | undefined {
  const real = host.realpath(file);
  if (real === undefined) return undefined;
  if (/\.[cm]?js$/.test(real)) return real;
  const line = /^#![ \t]*([^\r\n]*)/
    .exec(host.readText(real) ?? '')?.[1]
    ?.trim()
    .split(/[ \t]+/);
  if (!line) return undefined;
  const words = path.posix.basename(line[0]!) === 'env' ? line.slice(1) : line;
  return words.length === 1 && path.posix.basename(words[0]!) === 'node' ? real : undefined;
}
