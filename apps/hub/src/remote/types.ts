import type { ConnectionManager } from '@mcp-beacon/connection-manager';
import type { Clock } from '@mcp-beacon/runtime';
import type { Implementation } from '@modelcontextprotocol/client';

/** A configured remote: its name and the command that runs a hub there. */
export interface RemoteSpec {
  name: string;
  command: readonly string[];
}

/**
 * `connecting` (the command runs, the handshake is under way), `connected`, `unreachable`
 * (the command exited, hung or could not run; retried with backoff) or `refused` (what
 * answered is not a Beacon hub that serves remotes; retried too, in case it is upgraded).
 */
export type RemoteState = 'connecting' | 'connected' | 'unreachable' | 'refused';

/** A remote as `instances_list` and `beacon-hub list` show it. */
export interface RemoteInfo {
  name: string;
  /** The command, as one line. */
  command: string;
  state: RemoteState;
  /** Why it is unreachable or refused (with the command's last stderr line). */
  reason: string | undefined;
  /** When the state was entered (ms since the epoch). */
  since: number;
  /** Its instances listed here now. */
  instances: number;
  /** The remote hub's name and version, once it answered. */
  hub: { name: string; version: string } | undefined;
}

/** Options of `RemoteLink`. */
export interface RemoteLinkOptions {
  spec: RemoteSpec;
  manager: ConnectionManager;
  clientInfo: Implementation;
  clock?: Clock;
  random?: () => number;
  /** Bound on the command's start and MCP handshake, in ms (default 20 000). */
  handshakeTimeoutMs?: number;
  /** Health check of the remote hub: period and bound of each ping, in ms (15 000 / 10 000). */
  ping?: { intervalMs?: number; timeoutMs?: number };
  /** Retry delays: first and largest, in ms (default 1 000 and 60 000); doubled each time. */
  backoff?: { initialMs?: number; maxMs?: number };
  /** Called after every change of `RemoteLink.info()`. */
  onChange?: (info: RemoteInfo) => void;
  log?: (message: string) => void;
  /**
   * Whether the remote's instances are added to `manager` (default true). Off, they are only
   * kept as the remote describes them (`RemoteLink.instances()`), as `beacon-hub list` needs.
   */
  addToManager?: boolean;
}
