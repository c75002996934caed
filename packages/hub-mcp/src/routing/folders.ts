// Folder comparison: the client's roots and instance folders, compared after realpath and a
// normalisation per platform (a Windows drive letter's case, separators, percent-encoding of
// root URIs), so `/var` and `/private/var`, or `c:` and `C:`, name one folder.

import { realpath as fsRealpath } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

/** The path rules a folder follows: POSIX (Linux, macOS) or Windows. */
export type PathPlatform = 'posix' | 'win32';

/** The path rules of this machine. */
export const HOST_PLATFORM: PathPlatform = process.platform === 'win32' ? 'win32' : 'posix';

/** Most folders whose realpath is remembered; the oldest is forgotten first. */
export const MAX_KNOWN_FOLDERS = 2_000;

/** True for a network path (`\\server\share`, `//server/share`): never touched on disk. */
const isNetworkPath = (path: string) => /^(?:\\\\|\/\/)/.test(path);

/** True when `text` has the shape of an absolute folder path on either platform. */
export function looksLikeFolder(text: string): boolean {
  return /^(?:\/|\\|[A-Za-z]:[\\/]?$|[A-Za-z]:[\\/])/.test(text);
}

/** The platform whose rules a path of this shape follows (a drive letter means Windows). */
export function platformOf(path: string): PathPlatform {
  return /^[A-Za-z]:(?:[\\/]|$)/.test(path) || path.startsWith('\\') ? 'win32' : 'posix';
}

/**
 * `path` as a comparison key, strings only: `.` and `..` segments resolved, separators made one
 * (`\` on Windows), no trailing separator but on a root; on Windows case is folded (its file
 * systems ignore case), so `c:\Users\Me\` and `C:/users/me` give one key.
 */
export function folderKey(path: string, platform: PathPlatform = platformOf(path)): string {
  if (platform === 'win32') {
    const unc = /^[\\/]{2}/.test(path);
    const parts: string[] = [];
    for (const part of path.split(/[\\/]+/)) {
      if (part === '' || part === '.') continue;
      if (part === '..') {
        if (parts.length > 1 || (parts.length === 1 && !/^[A-Za-z]:$/.test(parts[0]!))) parts.pop();
        continue;
      }
      parts.push(part);
    }
    const joined = parts.join('\\');
    const key = unc ? `\\\\${joined}` : /^[A-Za-z]:$/.test(joined) ? `${joined}\\` : joined;
    return key.toLowerCase();
  }
  const parts: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  return `/${parts.join('/')}`;
}

/** True when the folder with key `outer` is the folder `inner` or one of its ancestors. */
export function holds(outer: string, inner: string): boolean {
  if (inner === outer) return true;
  const sep = outer.startsWith('/') ? '/' : '\\';
  return inner.startsWith(outer.endsWith(sep) ? outer : outer + sep);
}

/**
 * The local folder of a `file://` root URI, percent-encoding decoded (VS Code sends
 * `file:///c%3A/Users/me`); undefined for any other URI or one that names no local path.
 */
export function rootFolder(
  uri: string,
  platform: PathPlatform = HOST_PLATFORM,
): string | undefined {
  if (!uri.startsWith('file:')) return undefined;
  try {
    return fileURLToPath(uri, { windows: platform === 'win32' });
  } catch {
    return undefined;
  }
}

/** Options of {@link createFolderResolver}. */
export interface FolderResolverOptions {
  /** Resolves symbolic links (default: `fs.promises.realpath`). */
  realpath?: (path: string) => Promise<string>;
  /** The path rules of local folders (default: this machine's). */
  platform?: PathPlatform;
}

/** Local folders as comparison keys, after realpath where it has been done. */
export interface FolderResolver {
  /** The path rules of the folders it resolves. */
  readonly platform: PathPlatform;
  /**
   * The key of a local folder now: after realpath once {@link resolve} has finished for it,
   * else of the path as written (and its realpath is started).
   */
  keyOf(path: string): string;
  /** The key after realpath; a folder that cannot be resolved keeps its written key. */
  resolve(path: string): Promise<string>;
  /** True while some realpath is still running. */
  busy(): boolean;
  /** Resolves once every realpath started so far has finished. */
  settled(): Promise<void>;
}

/**
 * Creates a resolver that remembers up to {@link MAX_KNOWN_FOLDERS} folders. A network path is
 * never resolved (touching it would have the system authenticate to that server).
 */
export function createFolderResolver(options: FolderResolverOptions = {}): FolderResolver {
  const realpath = options.realpath ?? ((path: string) => fsRealpath(path));
  const platform = options.platform ?? HOST_PLATFORM;
  const known = new Map<string, string>();
  const running = new Map<string, Promise<string>>();

  const remember = (path: string, key: string) => {
    known.delete(path);
    known.set(path, key);
    if (known.size > MAX_KNOWN_FOLDERS) known.delete(known.keys().next().value as string);
  };
  const resolve = (path: string): Promise<string> => {
    const done = known.get(path);
    if (done !== undefined) return Promise.resolve(done);
    const pending = running.get(path);
    if (pending) return pending;
    const written = folderKey(path, platform);
    if (isNetworkPath(path)) {
      remember(path, written);
      return Promise.resolve(written);
    }
    const started = realpath(path)
      .then(
        (real) => folderKey(real, platform),
        () => written,
      )
      .then((key) => {
        running.delete(path);
        remember(path, key);
        return key;
      });
    running.set(path, started);
    return started;
  };
  return {
    platform,
    keyOf(path) {
      const done = known.get(path);
      if (done !== undefined) return done;
      void resolve(path);
      return folderKey(path, platform);
    },
    resolve,
    busy: () => running.size > 0,
    async settled() {
      while (running.size > 0) await Promise.all(running.values());
    },
  };
}
