// What a bridge and the user's hub say to each other on the hub's private endpoint: lines of
// JSON. The client's JSON-RPC messages pass as they are; the bridge's and the hub's own lines
// carry a `beacon` key and no `jsonrpc` key, so the two never mix. Loaded by the bridge: Node's
// own modules only.

/** Longest line either side takes (a result the hub relays is bounded well below this). */
export const MAX_LINE_BYTES = 128 * 1024 * 1024;

/** What a client session asks of the hub (its own flags and folder). */
export interface SessionRequest {
  workingFolder?: string;
  tools?: 'grouped' | 'namespaced';
  maxNameLength?: number;
  maxTools?: number;
  startRoots?: boolean;
  label?: string;
}

/** The bridge's first line. */
export type Hello =
  | { beacon: 'hello'; version: string; session: SessionRequest; logLevel: string }
  | { beacon: 'status'; version: string };

/** The hub's lines of its own. */
export type HubLine =
  | { beacon: 'welcome'; version: string; pid: number }
  | { beacon: 'refused'; version: string; reason: string }
  | { beacon: 'log'; level: 'error' | 'warn' | 'info' | 'debug'; message: string }
  | ({ beacon: 'status'; version: string } & HubStatus);

/** What `beacon-hub status` shows of a running hub. */
export interface HubStatus {
  pid: number;
  startedAt: string;
  uptimeMs: number;
  rssBytes: number;
  instances: number;
  /** Hub-wide settings it was started with (its command line after the command). */
  args: string[];
  sessions: {
    id: number;
    era: string | undefined;
    client: { name: string; version: string } | undefined;
    workingFolder: string | undefined;
    since: string;
    label: string | undefined;
  }[];
}

/** A line of JSON, or undefined for one that is not an object. */
export function parseLine(line: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** True for one of the bridge's or the hub's own lines. */
export const isOwnLine = (message: Record<string, unknown>): boolean =>
  typeof message.beacon === 'string' && !('jsonrpc' in message);

/**
 * Splits a byte stream into lines (without their `\n`, a trailing `\r` dropped). A line over
 * {@link MAX_LINE_BYTES} is an error: `onLine` stops, `onTooLong` is called once.
 */
export function lineReader(
  onLine: (line: string) => void,
  onTooLong: () => void,
): (chunk: Buffer) => void {
  let parts: Buffer[] = [];
  let size = 0;
  let broken = false;
  return (chunk) => {
    if (broken) return;
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(10, start);
      if (nl < 0) break;
      const piece = chunk.subarray(start, nl);
      const whole = parts.length === 0 ? piece : Buffer.concat([...parts, piece]);
      parts = [];
      size = 0;
      let line = whole.toString('utf8');
      if (line.endsWith('\r')) line = line.slice(0, -1);
      if (line.length > 0) onLine(line);
      if (broken) return;
      start = nl + 1;
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      size += rest.length;
      if (size > MAX_LINE_BYTES) {
        broken = true;
        parts = [];
        onTooLong();
        return;
      }
      parts.push(Buffer.from(rest));
    }
  };
}
