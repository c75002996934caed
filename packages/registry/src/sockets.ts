import { readdir, readFile, readlink } from 'node:fs/promises';

/** What {@link checkPortOwner} found. */
export type PortOwnership =
  /** The pid holds a socket listening on the port. */
  | 'owner'
  /** Something listens on the port, but not a socket of this pid (or none is visible to us). */
  | 'other'
  /** Nothing listens on the port. */
  | 'none'
  /** Not checkable on this platform (no /proc); callers go ahead. */
  | 'unknown';

/** Options of {@link checkPortOwner}. */
export interface PortOwnerOptions {
  /** The proc file system root (default `/proc`; tests may point elsewhere). */
  proc?: string;
  /** Reuse socket tables read this recently, in ms (default 250). */
  maxAgeMs?: number;
}

// The socket tables are reused for 250 ms: a burst of checks (a hub starting with hundreds of
// records) parses them once. A port missing from a reused table is looked up afresh.
const tables = new Map<string, { at: number; listening: Map<number, Set<string>> }>();

async function listeningTable(proc: string, maxAgeMs: number): Promise<Map<number, Set<string>>> {
  const cached = tables.get(proc);
  if (cached && performance.now() - cached.at < maxAgeMs) return cached.listening;
  const listening = new Map<number, Set<string>>();
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
      const port = Number.parseInt(fields[1].slice(fields[1].lastIndexOf(':') + 1), 16);
      const inodes = listening.get(port) ?? new Set<string>();
      inodes.add(fields[9]);
      listening.set(port, inodes);
    }
  }
  tables.set(proc, { at: performance.now(), listening });
  return listening;
}

/** Inodes of TCP sockets in LISTEN state on `port`, from /proc/net/tcp and tcp6. */
async function listeningInodes(proc: string, port: number, maxAgeMs = 250): Promise<Set<string>> {
  return (await listeningTable(proc, maxAgeMs)).get(port) ?? new Set();
}

/**
 * Tells whether process `pid` holds the socket listening on TCP `port` (Linux, from /proc):
 * a record's port may be taken over by another process once the one that wrote the record
 * is gone, and a client must not send the record's token there. Another user's process
 * shows as `other`, since its descriptors are not readable.
 */
export async function checkPortOwner(
  pid: number,
  port: number,
  options: PortOwnerOptions = {},
): Promise<PortOwnership> {
  const proc = options.proc ?? '/proc';
  if (options.proc === undefined && process.platform !== 'linux') return 'unknown';
  let inodes = await listeningInodes(proc, port, options.maxAgeMs);
  // A port missing from a recent table may have started listening since: read afresh.
  if (inodes.size === 0) inodes = await listeningInodes(proc, port, 0);
  if (inodes.size === 0) return 'none';
  let fds: string[];
  try {
    fds = await readdir(`${proc}/${pid}/fd`);
  } catch {
    return 'other';
  }
  for (const fd of fds) {
    const target = await readlink(`${proc}/${pid}/fd/${fd}`).catch(() => '');
    const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
    if (inode !== undefined && inodes.has(inode)) return 'owner';
  }
  return 'other';
}

/**
 * The pid of a process holding the socket listening on `port`, by
 * scanning every readable process (Linux only); `undefined` when none is found or elsewhere.
 */
export async function findPortOwner(port: number, proc = '/proc'): Promise<number | undefined> {
  if (process.platform !== 'linux' && proc === '/proc') return undefined;
  const inodes = await listeningInodes(proc, port, 0);
  if (inodes.size === 0) return undefined;
  for (const name of await readdir(proc)) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    let fds: string[];
    try {
      fds = await readdir(`${proc}/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      const target = await readlink(`${proc}/${pid}/fd/${fd}`).catch(() => '');
      const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
      if (inode !== undefined && inodes.has(inode)) return pid;
    }
  }
  return undefined;
}
