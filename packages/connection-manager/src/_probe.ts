import { connect } from 'node:net';
import type { InstanceRecord, LoopbackAddress, PortOwnership } from '@mcp-beacon/registry';
import type { ConnectionDeps } from './types.js';

/**
 * Whether something accepts TCP connections at `host:port` now: one connect, closed at once,
 * nothing sent. A refused port answers in microseconds, so a record that does not answer costs
 * a retry this probe and nothing more (no HTTP client, no MCP session).
 */
export function probePort(host: string, port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (open: boolean) => {
      socket.removeAllListeners();
      socket.on('error', () => undefined);
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Host and port of an instance URL, IPv6 brackets removed. */
export function urlEndpoint(url: string): { host: string; port: number } {
  const parsed = new URL(url);
  return {
    host: parsed.hostname.replace(/^\[|\]$/g, ''),
    port: Number(parsed.port) || (parsed.protocol === 'https:' ? 443 : 80),
  };
}

/**
 * Where a connection attempt may send the record's token, or why it may not: a retry first
 * knocks (a port that refuses fails the attempt with no client built); the record's port must
 * still be the record's process's (after it dies another process, another user's even, may
 * listen there); and a `localhost` URL is reached at the loopback address the process holds.
 */
export async function safeTarget(
  record: InstanceRecord,
  deps: Pick<ConnectionDeps, 'probe' | 'portOwner' | 'loopbacks'>,
  knock: boolean,
): Promise<{ record: InstanceRecord } | { refused: string }> {
  const { pid, port } = record;
  if (knock && !(await deps.probe(record).catch(() => true)))
    return { refused: `nothing accepts connections on port ${port}` };
  // A check that fails (lsof or netstat failing where they answered before) is no answer: the
  // attempt fails and is retried, rather than the token going to whoever holds the port now.
  // `unknown` (the check is off here, which the check said once) goes ahead.
  const cannotTell = (error: unknown) => ({
    refused: `cannot tell which process holds port ${port} (${error instanceof Error ? error.message : String(error)}); not connecting, so its token stays private`,
  });
  let owner: PortOwnership;
  try {
    owner = await deps.portOwner(pid, port);
  } catch (error) {
    return cannotTell(error);
  }
  if (owner === 'other')
    return {
      refused: `port ${port} is held by a process other than ${pid}; not connecting, so its token stays private`,
    };
  // A `localhost` URL goes to the literal address the process holds (127.0.0.1 first), so every
  // socket goes where the port-owner check looked, not wherever `localhost` resolves (another
  // user may listen on the other family). Unknown (the check is off): the record as it is.
  const url = new URL(record.url);
  if (url.hostname !== 'localhost') return { record };
  let owned: LoopbackAddress[] | undefined;
  try {
    owned = await deps.loopbacks(pid, port);
  } catch (error) {
    return cannotTell(error);
  }
  if (owned === undefined) return { record };
  const address = owned.includes('127.0.0.1') ? '127.0.0.1' : owned[0];
  if (address === undefined)
    return {
      refused: `process ${pid} holds no socket on localhost port ${port}; not connecting, so its token stays private`,
    };
  url.hostname = address === '::1' ? '[::1]' : address;
  return { record: { ...record, url: url.href } };
}
