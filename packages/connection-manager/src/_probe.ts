import { connect } from 'node:net';

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
