// Where the user's hub answers: one private endpoint per Beacon version and hub-wide settings (a
// Unix socket in `<data>/hub/`, a per-user named pipe on Windows), and the lock that makes one
// hub its owner. Loaded by the bridge, so it uses nothing but Node's own modules.

import { createHash } from 'node:crypto';
import { constants, readFileSync } from 'node:fs';
import { link, lstat, mkdir, open, readFile, rmdir, stat, unlink } from 'node:fs/promises';
import { connect } from 'node:net';
import { userInfo } from 'node:os';
import path from 'node:path';

/** The hub's files for one version and setting set. */
export interface HubEndpoint {
  /** `<data>/hub`: the socket, the lock and the log live here. */
  dir: string;
  /** What the bridge connects to: a socket path, or a named pipe on Windows. */
  address: string;
  /** Held by the hub that serves {@link address}. */
  lock: string;
  /** The hub's own log (bounded; see `daemon.ts`). */
  log: string;
  /** What this hub answered to `initialize`, kept by bridges so the next can answer at once. */
  greeting: string;
  /** Names this endpoint's version and settings (the first 16 hex digits of their digest). */
  key: string;
}

/** Longest socket path the platforms take (macOS: 104 bytes with the terminating NUL). */
const MAX_SOCKET_PATH = 103;

/** Why an endpoint cannot be used. */
export class EndpointError extends Error {
  override readonly name = 'EndpointError';
}

/**
 * The endpoint of the hub for `version` and the hub-wide `settings` (anything that changes how
 * the hub behaves for every client: its flags, its remotes file): a bridge with other settings
 * gets a hub of its own rather than one that would ignore them.
 */
export function hubEndpoint(
  root: string,
  version: string,
  settings: unknown,
  platform: NodeJS.Platform = process.platform,
): HubEndpoint {
  const key = createHash('sha256')
    .update(JSON.stringify({ version, settings }))
    .digest('hex')
    .slice(0, 16);
  return endpointOfKey(root, key, platform);
}

/**
 * The endpoint named `key` under `root` (`status` finds them by their lock files).
 * @throws {EndpointError} when the socket path would be too long for the platform.
 */
export function endpointOfKey(
  root: string,
  key: string,
  platform: NodeJS.Platform = process.platform,
): HubEndpoint {
  const dir = path.join(root, 'hub');
  const address =
    platform === 'win32'
      ? `\\\\.\\pipe\\mcp-beacon-${createHash('sha256')
          .update(`${safeUser()}\0${root}`)
          .digest('hex')
          .slice(0, 16)}-${key}`
      : path.join(dir, `${key}.sock`);
  if (platform !== 'win32' && Buffer.byteLength(address) > MAX_SOCKET_PATH)
    throw new EndpointError(
      `the hub's socket path ${address} is longer than the ${MAX_SOCKET_PATH} bytes sockets allow; set MCP_BEACON_HOME to a shorter folder, or run beacon-hub --standalone`,
    );
  return {
    dir,
    address,
    lock: path.join(dir, `${key}.lock`),
    log: path.join(dir, `${key}.log`),
    greeting: path.join(dir, `${key}.initialize.json`),
    key,
  };
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return String(process.getuid?.() ?? '');
  }
}

/**
 * Creates `<data>/hub` (0700) if missing, and refuses it unless it is this user's own folder
 * that no one else may write to: not a symlink, not another user's, not group- or
 * world-writable.
 * @throws {EndpointError} saying what is wrong with it.
 */
export async function ensureHubDir(dir: string): Promise<void> {
  await mkdir(dir, { mode: 0o700 }).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'EEXIST') throw new EndpointError(`cannot create ${dir}: ${error.message}`);
  });
  await checkPrivate(dir, 'directory');
}

/** What {@link checkPrivate} expects at a path. */
type Kind = 'directory' | 'socket' | 'file';

/**
 * Refuses `where` unless it is a `kind` (never a symlink) owned by this user and, for a folder,
 * writable by nobody else. POSIX only: Windows has no owner or mode here.
 * @throws {EndpointError}
 */
export async function checkPrivate(where: string, kind: Kind): Promise<void> {
  const me = process.getuid?.();
  if (me === undefined) return;
  const info = await lstat(where);
  const what = info.isSymbolicLink()
    ? 'a symlink'
    : kind === 'directory' && !info.isDirectory()
      ? 'not a folder'
      : kind === 'socket' && !info.isSocket()
        ? 'not a socket'
        : kind === 'file' && !info.isFile()
          ? 'not a file'
          : info.uid !== me
            ? `owned by another user (uid ${info.uid})`
            : kind === 'directory' && (info.mode & 0o022) !== 0
              ? 'writable by other users'
              : undefined;
  if (what !== undefined)
    throw new EndpointError(
      `refusing ${where}: it is ${what}; Beacon talks to its hub only through files of your own (remove it to go on)`,
    );
}

/** True when something accepts connections at `address` within `timeoutMs`. */
export function answers(address: string, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(address);
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** A lock younger than this whose hub does not answer yet is still starting. */
const STARTING_MS = 10_000;

/**
 * True while `pid` runs. A zombie (exited, not yet reaped: a detached hub whose parent is gone
 * can stay one where nothing reaps orphans, as in many containers) counts as gone.
 */
const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return true; // no /proc (macOS, Windows): the signal's word stands
  }
};

/** The pid a lock file names, or undefined when it names none. */
async function lockOwner(lock: string): Promise<{ pid: number; mtimeMs: number } | undefined> {
  try {
    const [text, info] = await Promise.all([readFile(lock, 'utf8'), stat(lock)]);
    const pid = Number.parseInt(text, 10);
    return Number.isInteger(pid) && pid > 0 ? { pid, mtimeMs: info.mtimeMs } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Takes the endpoint's lock for this process, or tells who holds it. The lock file is complete
 * when it appears (written aside, then hard-linked into place, which fails if one is there). A
 * lock is stale when its process is gone, or when it is older than a start takes and its hub
 * does not answer (a pid reused after a reboot); a stale lock is removed under a second,
 * short-lived lock, after checking it is still the same, so two hubs never both take it.
 */
export async function takeLock(
  endpoint: HubEndpoint,
  pid = process.pid,
): Promise<{ taken: true } | { taken: false; holder: number }> {
  const { lock } = endpoint;
  const aside = `${lock}.${pid}.${process.hrtime.bigint()}`;
  const handle = await open(
    aside,
    constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY,
    0o600,
  );
  try {
    await handle.writeFile(`${pid}\n`);
  } finally {
    await handle.close();
  }
  try {
    for (let attempt = 0; attempt < 50; attempt++) {
      try {
        await link(aside, lock);
        return { taken: true };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const owner = await lockOwner(lock);
      if (owner && alive(owner.pid)) {
        const young = Date.now() - owner.mtimeMs < STARTING_MS;
        if (young || (await answers(endpoint.address))) return { taken: false, holder: owner.pid };
      }
      await breakLock(lock, owner);
    }
    throw new EndpointError(`cannot take ${lock}: it keeps changing hands`);
  } finally {
    await unlink(aside).catch(() => undefined);
  }
}

/** Removes a stale lock if it is still the one judged stale; waits while another does so. */
async function breakLock(lock: string, judged: { pid: number } | undefined): Promise<void> {
  const breaker = `${lock}.break`;
  try {
    await mkdir(breaker, { mode: 0o700 });
  } catch {
    // Another process is breaking it; a breaker left by a crash is cleared after a while.
    const info = await stat(breaker).catch(() => undefined);
    if (info && Date.now() - info.mtimeMs > STARTING_MS)
      await rmdir(breaker).catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 20));
    return;
  }
  try {
    const now = await lockOwner(lock);
    if (now?.pid === judged?.pid) await unlink(lock).catch(() => undefined);
  } finally {
    await rmdir(breaker).catch(() => undefined);
  }
}

/** Gives the lock up, if this process still holds it. */
export async function releaseLock(endpoint: HubEndpoint, pid = process.pid): Promise<void> {
  const owner = await lockOwner(endpoint.lock);
  if (owner?.pid === pid) await unlink(endpoint.lock).catch(() => undefined);
}
