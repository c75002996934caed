// The types a connection is seen through, shared by the connection, its machine, its catalog
// and the manager (here, so that none of them imports another for a type).
import type { InstanceRecord, LoopbackAddress, PortOwnership } from '@mcp-beacon/registry';
import type { Clock } from '@mcp-beacon/runtime';
import type {
  Client,
  ClientCapabilities,
  Implementation,
  Prompt,
  Resource,
  ResourceTemplateType as ResourceTemplate,
  ServerCapabilities,
  Tool,
  Transport,
} from '@modelcontextprotocol/client';
import type { BackoffOptions } from './retry.js';

/** How much of one instance's catalog the hub keeps; the rest is cut, and said so. */
export interface CatalogLimits {
  /** Tools kept (default 1 000). */
  tools?: number;
  /** Resources kept (default 1 000). */
  resources?: number;
  /** Resource templates kept (default 1 000). */
  resourceTemplates?: number;
  /** Prompts kept (default 1 000). */
  prompts?: number;
  /** Bytes of JSON kept over the four lists together (default 8 MiB). */
  bytes?: number;
  /** Pages read per list (default 100). */
  pages?: number;
}

/**
 * Where an instance runs: on this machine, or on a remote, whose paths are that machine's and
 * are never compared with a local folder. Ask {@link isLocal} or {@link sameLocation}, never
 * a path alone.
 */
export type InstanceLocation =
  | { readonly kind: 'local'; readonly path: string }
  | { readonly kind: 'remote'; readonly remote: string; readonly path: string };

/** Whether an instance runs on this machine. */
export const isLocal = (
  location: InstanceLocation,
): location is Extract<InstanceLocation, { kind: 'local' }> => location.kind === 'local';

/** The remote an instance runs on, or undefined on this machine. */
export const remoteOf = (location: InstanceLocation): string | undefined =>
  location.kind === 'remote' ? location.remote : undefined;

/** Whether two locations are on one machine (both local, or both on the same remote). */
export const sameMachine = (a: InstanceLocation, b: InstanceLocation): boolean =>
  remoteOf(a) === remoteOf(b);

/**
 * Where a connection is in its life: `dead` means unreachable (retries gave up), while
 * `disconnected` means dropped on request and held down until `connect()`.
 */
export const CONNECTION_STATES = [
  'discovered',
  'connecting',
  'active',
  'retrying',
  'dead',
  'disconnected',
  'removed',
] as const;

/** One of {@link CONNECTION_STATES}. */
export type ConnectionState = (typeof CONNECTION_STATES)[number];

/** What an instance offers, as last listed. */
export interface InstanceCatalog {
  tools: Tool[];
  resources: Resource[];
  resourceTemplates: ResourceTemplate[];
  prompts: Prompt[];
}

/** A read-only view of one connection. */
export interface ConnectionInfo {
  readonly id: string;
  readonly record: InstanceRecord;
  readonly state: ConnectionState;
  /** Why the connection is in its state (the last error for `retrying` / `dead`). */
  readonly reason: string | undefined;
  /** When the state was entered, in ms since the epoch. */
  readonly since: number;
  readonly catalog: InstanceCatalog;
  /** Why the catalog was cut at a bound (see `CatalogLimits`), or undefined when it is whole. */
  readonly catalogTruncated: string | undefined;
  readonly serverInfo: Implementation | undefined;
  readonly capabilities: ServerCapabilities | undefined;
  /**
   * Where the instance runs: this machine, or the remote through which it is reached (see
   * `InstanceRoute`); a routed record's pid, port and path are the remote's.
   */
  readonly location: InstanceLocation;
  /**
   * Why an `active` connection is not whole (its server's event stream is lost and being
   * reopened, so notifications do not arrive), or undefined when it is.
   */
  readonly degraded: string | undefined;
  /**
   * The URL the current connection was made to: the record's, with a `localhost` host
   * replaced by the literal loopback address its process listens on. Undefined before the
   * first connection.
   */
  readonly connectedUrl: string | undefined;
}

/** Health-check settings. */
export interface PingOptions {
  /** Period between pings of an active connection, in ms (default 5 000). */
  intervalMs?: number;
  /** A ping unanswered after this many ms is a miss (default 2 000). */
  timeoutMs?: number;
  /** Consecutive misses before the connection is retried (default 3). */
  misses?: number;
}

/** What a connection needs from its manager. */
export interface ConnectionDeps {
  clock: Clock;
  ping: Required<PingOptions>;
  backoff: BackoffOptions;
  connectTimeoutMs: number;
  /** Bound on ending a session (DELETE) before the client is closed, in ms. */
  endSessionTimeoutMs: number;
  catalogLimits: CatalogLimits | undefined;
  /** Least time between two refetches of one catalog part after `list_changed`, in ms. */
  refreshIntervalMs: number;
  random: () => number;
  isAlive: (pid: number) => boolean;
  portOwner: (pid: number, port: number) => Promise<PortOwnership>;
  /** Whether the record's port accepts connections now (checked before each retry). */
  probe: (record: InstanceRecord) => Promise<boolean>;
  /** The loopback addresses at which `pid` listens on `port` (undefined: cannot be told). */
  loopbacks: (pid: number, port: number) => Promise<LoopbackAddress[] | undefined>;
  createTransport: (record: InstanceRecord, era?: 'modern') => Transport;
  removeRecord: (record: InstanceRecord) => Promise<void>;
  clientInfo: Implementation;
  clientCapabilities: ClientCapabilities;
  configureClient: (client: Client, info: ConnectionInfo) => void;
  onTransition: (info: ConnectionInfo, from: ConnectionState) => void;
  onCatalog: (info: ConnectionInfo) => void;
}

/** Options of `HttpClientTransport`. */
export interface HttpClientTransportOptions {
  /** Sent as `Authorization: Bearer <token>` on every request. */
  token?: string | undefined;
  /** Timeout of the `DELETE` that ends the session, in ms (default 1 000). */
  terminateTimeoutMs?: number;
  /**
   * Delays before reopening a lost server event stream, in ms, one per consecutive failure; the
   * last repeats for as long as the transport lives (default 250, 1 000, 4 000, 15 000, 30 000).
   * A server's SSE `retry` raises a delay, never lowers it.
   */
  reopenDelaysMs?: readonly number[];
  /**
   * Longest message taken from the server, in characters (default 64 Mi): a longer JSON body or
   * SSE event ends its response while it is read, so a misbehaving server cannot grow the
   * hub's memory. `HttpClientTransport.call` can lower it per call.
   */
  maxMessageLength?: number;
  /** Timers of call timeouts and event-stream reopening (default: the real clock). */
  clock?: Clock;
}

/** Options of `HttpClientTransport.call`. */
export interface CallOptions {
  /** Aborting it cancels the call (`notifications/cancelled`) and ends its exchange. */
  signal?: AbortSignal | undefined;
  /** No answer within this many ms cancels the call with `TIMEOUT`. */
  timeoutMs?: number | undefined;
  /** Longest answer taken, in characters (default: the transport's `maxMessageLength`). */
  maxLength?: number | undefined;
  /** Most `{` and `[` an answer may hold (default: no bound). */
  maxValues?: number | undefined;
}
