import { readlinkSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { createLogger } from '@mcp-beacon/runtime';
import {
  type CommandOutput,
  type CommandRunner,
  type Listener,
  runCommand,
  type ToolListeners,
  toolListeners,
} from './_port-tools.js';

export type { CommandOutput, CommandRunner };

/** What {@link checkPortOwner} found. */
export type PortOwnership =
  /** The pid holds a socket listening on the port. */
  | 'owner'
  /** Something listens on the port, but not a socket of this pid (or none is visible to us). */
  | 'other'
  /** Nothing listens on the port. */
  | 'none'
  /** Not checkable here (no /proc, and no working lsof or netstat); callers go ahead. */
  | 'unknown';

/** Options of {@link checkPortOwner}, {@link ownedLoopbacks} and {@link findPortOwner}. */
export interface PortOwnerOptions {
  /** The proc file system root (default `/proc`; tests may point elsewhere). Set, it is read on any OS. */
  proc?: string;
  /** Reuse socket tables read this recently, in ms (default 250). */
  maxAgeMs?: number;
  /**
   * Whose way of telling applies (default `process.platform`): Linux reads /proc, macOS runs
   * `/usr/sbin/lsof`, Windows `netstat.exe` from `%SystemRoot%\System32`; elsewhere the check
   * is off.
   */
  platform?: NodeJS.Platform;
  /** Runs lsof or netstat (default: `execFile`, no shell, 5 s and 16 MiB at most). */
  run?: CommandRunner;
  /** Where `%SystemRoot%` is read on Windows (default `process.env`). */
  env?: Readonly<Record<string, string | undefined>>;
  /**
   * Where the one line saying that the check is off goes, when the OS has no tool for it or
   * its tool is missing or fails on its first run (default: a `warn` line on stderr).
   */
  log?: (message: string) => void;
}

const warnOnStderr = (message: string) => createLogger('warn').warn(message);

/** The OS tool's view of `port`, or undefined where this is Linux's /proc to read. */
function viaTool(options: PortOwnerOptions):
  | {
      port: (
        port: number,
        settled?: (l: Listener[]) => boolean,
      ) => Promise<ToolListeners | undefined>;
    }
  | undefined {
  const platform = options.platform ?? process.platform;
  if (options.proc !== undefined || platform === 'linux') return undefined;
  const tool = {
    platform,
    run: options.run ?? runCommand,
    env: options.env ?? process.env,
    log: options.log ?? warnOnStderr,
    maxAgeMs: options.maxAgeMs ?? 250,
  };
  return { port: (port, settled) => toolListeners(port, tool, settled) };
}

/** Listening sockets by port, each as its inode and the local address it is bound to. */
type ListeningTable = Map<number, Map<string, string>>;

// The socket tables are reused for 250 ms: a burst of checks (a hub starting with hundreds of
// records) parses them once. A port missing from a reused table is looked up afresh. A socket's
// address lives in the table that listed it, and each read replaces the proc root's table: what
// is kept is one table per proc root (one in production), the sockets listening at its last
// read, never the addresses of sockets that came and went over the days a hub runs.
const tables = new Map<string, { at: number; listening: Promise<ListeningTable> }>();

/** An address of /proc/net/tcp (4 bytes) or tcp6 (16), in hex words of host byte order. */
function procAddress(hex: string): string {
  const bytes: number[] = [];
  for (let w = 0; w < hex.length; w += 8)
    for (let b = 6; b >= 0; b -= 2) bytes.push(Number.parseInt(hex.slice(w + b, w + b + 2), 16));
  if (bytes.length === 4) return bytes.join('.');
  if (bytes.slice(0, 10).every((x) => x === 0) && bytes[10] === 255 && bytes[11] === 255)
    return bytes.slice(12).join('.'); // an IPv4-mapped address
  const words: string[] = [];
  for (let i = 0; i < 16; i += 2) words.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  return words
    .join(':')
    .replace(/^(0:)+0$/, '::')
    .replace(/^(0:){7}1$/, '::1');
}

/** Listening sockets by port; concurrent asks share one read. */
function listeningTable(proc: string, maxAgeMs: number): Promise<ListeningTable> {
  const cached = tables.get(proc);
  if (cached && performance.now() - cached.at < maxAgeMs) return cached.listening;
  const listening = readListening(proc);
  tables.set(proc, { at: performance.now(), listening });
  return listening;
}

async function readListening(proc: string): Promise<ListeningTable> {
  const listening: ListeningTable = new Map();
  for (const file of ['tcp', 'tcp6']) {
    let text: string;
    try {
      text = await readFile(`${proc}/net/${file}`, 'utf8');
    } catch {
      continue; // no IPv6, for example
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      // local_address is ADDR:PORT in hex; state 0A is LISTEN; field 9 is the inode.
      if (fields[3] !== '0A' || !fields[1] || !fields[9]) continue;
      const colon = fields[1].lastIndexOf(':');
      const port = Number.parseInt(fields[1].slice(colon + 1), 16);
      const sockets = listening.get(port) ?? new Map<string, string>();
      sockets.set(fields[9], procAddress(fields[1].slice(0, colon)));
      listening.set(port, sockets);
    }
  }
  return listening;
}

/** TCP sockets in LISTEN state on `port` (inode to local address), from /proc/net/tcp and tcp6. */
async function listeningOn(
  proc: string,
  port: number,
  maxAgeMs = 250,
): Promise<Map<string, string>> {
  return (await listeningTable(proc, maxAgeMs)).get(port) ?? new Map();
}

/**
 * Tells whether process `pid` holds the socket listening on TCP `port`: a record's port may
 * be taken over by another process once the one that wrote the record is gone, and a client
 * must not send the record's token there. Linux reads /proc (another user's process shows as
 * `other`, since its descriptors are not readable); macOS asks lsof, which lists the user's
 * own processes only, so a port none of them holds is `other`, never `none`; Windows asks
 * netstat, which lists every process's sockets. `unknown` where the check is off (said once
 * through `options.log`).
 * @throws {RegistryError} `READ_FAILED` when lsof or netstat, having answered before, fails.
 */
export async function checkPortOwner(
  pid: number,
  port: number,
  options: PortOwnerOptions = {},
): Promise<PortOwnership> {
  const tool = viaTool(options);
  if (tool) {
    // A pid missing from a recent table may have started listening since: read afresh.
    const seen = await tool.port(port, (listeners) => listeners.some((l) => l.pid === pid));
    if (seen === undefined) return 'unknown';
    if (seen.listeners.some((l) => l.pid === pid)) return 'owner';
    return seen.listeners.length > 0 || !seen.seesAllUsers ? 'other' : 'none';
  }
  const proc = options.proc ?? '/proc';
  let sockets = await listeningOn(proc, port, options.maxAgeMs);
  // A port missing from a recent table may have started listening since: read afresh.
  if (sockets.size === 0) sockets = await listeningOn(proc, port, 0);
  if (sockets.size === 0) return 'none';
  let owned = await socketInodes(proc, pid, options.maxAgeMs ?? 250);
  if (owned === undefined) return 'other';
  const holds = (set: Set<string>) => [...sockets.keys()].some((inode) => set.has(inode));
  // A socket missing from a recent scan may have been opened since: scan afresh.
  if (!holds(owned)) owned = await socketInodes(proc, pid, 0);
  return owned !== undefined && holds(owned) ? 'owner' : 'other';
}

/** A loopback address a client can connect to. */
export type LoopbackAddress = '127.0.0.1' | '::1';

/**
 * For each loopback address, the local addresses a listening socket may be bound to and take
 * its connections, most specific first (an IPv4-mapped `::ffff:127.0.0.1` reads as `127.0.0.1`).
 */
const REACHED_THROUGH: ReadonlyArray<readonly [LoopbackAddress, readonly string[]]> = [
  ['127.0.0.1', ['127.0.0.1', '0.0.0.0', '::']],
  ['::1', ['::1', '::']],
];

/**
 * The loopback addresses whose connections go to the process, from the sockets listening on a
 * port (their local addresses, and whether each is the process's): the kernel hands a
 * connection to the most specific bind that listens, and that bind's sockets must all be the
 * process's (another user's 127.0.0.1 beside an IPv6-only `::`, or SO_REUSEPORT siblings of
 * another process, would get some of the connections).
 */
function reachedLoopbacks(
  sockets: ReadonlyArray<{ address: string; owned: boolean }>,
): LoopbackAddress[] {
  const found: LoopbackAddress[] = [];
  for (const [loopback, binds] of REACHED_THROUGH) {
    for (const bind of binds) {
      const bound = sockets.filter(({ address }) => address === bind);
      if (bound.length === 0) continue;
      if (bound.every(({ owned }) => owned)) found.push(loopback);
      break;
    }
  }
  return found;
}

/**
 * The loopback addresses at which process `pid`'s socket listening on TCP `port` accepts
 * connections (Linux from /proc, macOS from lsof, Windows from netstat): `127.0.0.1` for a
 * socket on 127.0.0.1 or 0.0.0.0, `::1` for one on ::1, both for one on ::, each only when no
 * other process's socket on the port takes that address's connections (a more specific bind,
 * or a SO_REUSEPORT sibling). A client that connects to one of these literal addresses reaches
 * that process, whatever `localhost` resolves to; `[]` when it holds none (or its descriptors
 * are unreadable), undefined where the check is off. lsof and netstat list a socket that two
 * processes share under each: it counts as neither's alone.
 * @throws {RegistryError} `READ_FAILED` when lsof or netstat, having answered before, fails.
 */
export async function ownedLoopbacks(
  pid: number,
  port: number,
  options: PortOwnerOptions = {},
): Promise<LoopbackAddress[] | undefined> {
  const tool = viaTool(options);
  if (tool) {
    const seen = await tool.port(port, (listeners) => listeners.some((l) => l.pid === pid));
    if (seen === undefined) return undefined;
    return reachedLoopbacks(
      seen.listeners.map((l) => ({ address: l.address, owned: l.pid === pid })),
    );
  }
  const proc = options.proc ?? '/proc';
  const sockets = await listeningOn(proc, port, 0);
  const owned = await socketInodes(proc, pid, 0);
  if (owned === undefined) return [];
  return reachedLoopbacks(
    [...sockets].map(([inode, address]) => ({ address, owned: owned.has(inode) })),
  );
}

// The socket inodes of each process are reused for 250 ms too: a process that serves many
// instances (or holds many descriptors) is scanned once per burst, not once per record.
const processSockets = new Map<string, { at: number; inodes: Promise<Set<string> | undefined> }>();

/**
 * Inodes of the sockets process `pid` holds open; undefined when its fds are unreadable.
 * Concurrent asks share one scan.
 */
function socketInodes(
  proc: string,
  pid: number,
  maxAgeMs: number,
): Promise<Set<string> | undefined> {
  const key = `${proc}/${pid}`;
  const cached = processSockets.get(key);
  const now = performance.now();
  if (cached && now - cached.at < maxAgeMs) return cached.inodes;
  // Bounded: stale entries go whenever the map grows past a few hundred processes.
  if (processSockets.size >= 256)
    for (const [k, v] of processSockets) if (now - v.at >= 1_000) processSockets.delete(k);
  const inodes = scanSockets(proc, pid);
  processSockets.set(key, { at: now, inodes });
  return inodes;
}

/**
 * Reads each descriptor's link synchronously, 256 at a time with a yield between: a link read
 * takes microseconds, far less than a trip through the thread pool, and a process with
 * thousands of descriptors still never holds the event loop for long.
 */
async function scanSockets(proc: string, pid: number): Promise<Set<string> | undefined> {
  let fds: string[];
  try {
    fds = await readdir(`${proc}/${pid}/fd`);
  } catch {
    return undefined;
  }
  const inodes = new Set<string>();
  for (let i = 0; i < fds.length; i++) {
    if (i > 0 && i % 256 === 0) await new Promise((resolve) => setImmediate(resolve));
    let target: string;
    try {
      target = readlinkSync(`${proc}/${pid}/fd/${fds[i]}`);
    } catch {
      continue; // closed meanwhile
    }
    const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
    if (inode !== undefined) inodes.add(inode);
  }
  return inodes;
}

/** Binds in the order findPortOwner prefers them: the one that takes 127.0.0.1's connections first. */
const PREFERRED_BINDS = ['127.0.0.1', '0.0.0.0', '::', '::1'];

/**
 * The pid of a process holding the socket listening on `port`: on Linux by scanning every
 * readable process, on macOS and Windows from lsof's or netstat's table (the one that takes
 * 127.0.0.1's connections first); `undefined` when none is found or the check is off.
 * @throws {RegistryError} `READ_FAILED` when lsof or netstat, having answered before, fails.
 */
export async function findPortOwner(
  port: number,
  options: PortOwnerOptions = {},
): Promise<number | undefined> {
  const tool = viaTool(options);
  if (tool) {
    const seen = await tool.port(port, (listeners) => listeners.length > 0);
    const rank = (l: Listener) => {
      const at = PREFERRED_BINDS.indexOf(l.address);
      return at === -1 ? PREFERRED_BINDS.length : at;
    };
    return seen?.listeners.toSorted((a, b) => rank(a) - rank(b))[0]?.pid;
  }
  const proc = options.proc ?? '/proc';
  const listening = await listeningOn(proc, port, 0);
  if (listening.size === 0) return undefined;
  for (const name of await readdir(proc)) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    const sockets = await scanSockets(proc, pid);
    if (sockets && [...listening.keys()].some((inode) => sockets.has(inode))) return pid;
  }
  return undefined;
}
