// Over 300 lines on purpose: the manager's options and interface are the package's contract,
// each documented where it is declared; the work per instance is in connection.ts, the
// decisions in _machine.ts and retry.ts.
import {
  checkPortOwner,
  type InstanceRecord,
  type LoopbackAddress,
  ownedLoopbacks,
  type PortOwnership,
} from '@mcp-beacon/registry';
import { type Clock, isProcessAlive, systemClock } from '@mcp-beacon/runtime';
import {
  type Client,
  type ClientCapabilities,
  type Implementation,
  type Result,
  StreamableHTTPClientTransport,
  type Transport,
} from '@modelcontextprotocol/client';
import type { Agent } from 'undici';
import type { InstanceCallOptions, InstanceRequest } from './_call.js';
import { boundedFetch, modernAgent } from './_fetch.js';
import { probePort, urlEndpoint } from './_probe.js';
import { Connection } from './connection.js';
import { ConnectionError } from './errors.js';
import { HttpClientTransport } from './http-transport.js';
import type { BackoffOptions } from './retry.js';
import type {
  CatalogLimits,
  ConnectionDeps,
  ConnectionInfo,
  ConnectionState,
  PingOptions,
} from './types.js';

/** A state change of one connection. */
export interface TransitionEvent {
  id: string;
  from: ConnectionState;
  to: ConnectionState;
  reason: string | undefined;
  info: ConnectionInfo;
}

/**
 * How to reach an instance that is not on this machine: a remote hub relays its messages. Its
 * record's pid and port are the remote machine's, so none of the local checks apply (process
 * alive, port owner, knock, loopback address, record removal); the route's transport is used.
 */
export interface InstanceRoute {
  /** The remote's name (`ConnectionInfo.location.remote`). */
  remote: string;
  /** A new transport to the instance through the remote, one per connection attempt. */
  createTransport: () => Transport;
}

/** A transport with an HTTP session of its own, which it can end (`DELETE`). */
export interface SessionTransport extends Transport {
  terminateSession(): Promise<void>;
}

/** Options of {@link createConnectionManager}. */
export interface ConnectionManagerOptions {
  clock?: Clock;
  ping?: PingOptions;
  backoff?: BackoffOptions;
  /** Timeout of the initialize handshake and list requests, in ms (default 5 000). */
  connectTimeoutMs?: number;
  /** Bound on ending an instance session (`DELETE`) when a connection is dropped, in ms (default 1 000). */
  endSessionTimeoutMs?: number;
  /** Jitter source (default `Math.random`). */
  random?: () => number;
  /** Process probe used for stale detection (default: signal 0). */
  isAlive?: (pid: number) => boolean;
  /**
   * Who holds a record's port (default: `checkPortOwner`, from /proc on Linux, `unknown`
   * elsewhere; with a custom `createTransport`, `unknown`). A connection is refused while it
   * answers `other`.
   */
  portOwner?: (pid: number, port: number) => Promise<PortOwnership>;
  /**
   * Whether a record's port accepts connections now, asked before each retry so an unreachable
   * record costs one TCP connect per retry (default: a TCP connect to the record's URL; with a
   * custom `createTransport`, always true).
   */
  probe?: (record: InstanceRecord) => Promise<boolean>;
  /**
   * The loopback addresses at which a process listens on a port (default: `ownedLoopbacks`, from
   * /proc on Linux; with a custom `createTransport`, undefined). A `localhost` record is reached
   * at one of them by its literal address, never through name resolution.
   */
  loopbacks?: (pid: number, port: number) => Promise<LoopbackAddress[] | undefined>;
  /** Removes the file of a record whose process is provably gone. */
  removeRecord?: (record: InstanceRecord) => Promise<void>;
  /**
   * Builds the transport for a record (default: the hub's streamable-HTTP client, with the
   * record's bearer token). `era` is `modern` once the server refused the 2025 handshake as a
   * 2026-07-28-only server (default then: the SDK's `StreamableHTTPClientTransport` on undici,
   * each message read within 64 MiB); the SDK client speaks that revision over it.
   */
  createTransport?: (record: InstanceRecord, era?: 'modern') => Transport;
  clientInfo?: Implementation;
  /** Capabilities the hub's clients declare to instances (e.g. sampling, when it forwards them). */
  clientCapabilities?: ClientCapabilities;
  /**
   * How much of each instance's catalog is kept (default: 1 000 tools, 1 000 resources, 1 000
   * templates, 1 000 prompts, 8 MiB in all, 100 pages a list); a catalog cut at a bound says so
   * in `catalogTruncated`.
   */
  catalogLimits?: CatalogLimits;
  /**
   * Least time between two refetches of one catalog part of an instance after its
   * `list_changed`, in ms (default 1 000; ten times that for a part already cut at a bound);
   * notifications meanwhile are coalesced into one.
   */
  refreshIntervalMs?: number;
  /** Where a hook or listener that throws is reported (default: nowhere); it never spreads. */
  log?: (message: string) => void;
  /**
   * Installs extra handlers (server->client requests, notifications) on each new client;
   * {@link ConnectionManager.onClient} does the same for hooks added after creation.
   */
  configureClient?: (client: Client, info: ConnectionInfo) => void;
}

/** One MCP client connection per instance record, kept healthy. */
export interface ConnectionManager {
  /**
   * Adds a record, or applies a rewritten one. With `route`, the instance is reached through
   * it (a remote); a record keeps the route it was first added with.
   */
  upsert(record: InstanceRecord, route?: InstanceRoute): void;
  /** The record's file is gone: close and forget its connection. */
  remove(id: string, reason?: string): Promise<void>;
  /** Connects (or reconnects) now; resolves with the outcome. @throws {ConnectionError} `UNKNOWN_INSTANCE`. */
  connect(id: string): Promise<ConnectionInfo>;
  /** Drops the connection until `connect()`. @throws {ConnectionError} `UNKNOWN_INSTANCE`. */
  disconnect(id: string): Promise<ConnectionInfo>;
  get(id: string): ConnectionInfo | undefined;
  list(): ConnectionInfo[];
  /**
   * The live client of an active connection.
   * @throws {ConnectionError} `UNKNOWN_INSTANCE`, or `NOT_CONNECTED` with its state and reason.
   */
  client(id: string): Client;
  /**
   * Sends one request to an active instance and resolves with its result: the one way a
   * request reaches an instance (tool calls, reads, prompts). Progress reaches `onprogress`
   * before the result; aborting `signal` cancels the request on the instance.
   * @throws {ConnectionError} `UNKNOWN_INSTANCE` or `NOT_CONNECTED` (nothing was sent);
   *   `INSTANCE_ERROR` with the instance's own JSON-RPC error in `rpc`; `TIMEOUT`;
   *   `REQUEST_FAILED` (lost on the way; the message names the instance and says why). Once
   *   `signal` is aborted, its reason.
   */
  call(id: string, request: InstanceRequest, options: InstanceCallOptions): Promise<Result>;
  /**
   * A new transport to an active instance on this machine, with a session of its own (not the
   * connection's), for relaying another client's MCP session to it (a remote hub's channel):
   * at the address the connection reached, with the record's token.
   * @throws {ConnectionError} `UNKNOWN_INSTANCE`, or `NOT_CONNECTED` for one not active or
   *   reached through a remote.
   */
  openSession(id: string): SessionTransport;
  /** Every state change, with its reason. Returns the unsubscribe function. */
  onTransition(listener: (event: TransitionEvent) => void): () => void;
  /** An instance's tools/resources/prompts changed (also when it comes or goes). */
  onCatalog(listener: (info: ConnectionInfo) => void): () => void;
  /**
   * Called with each new client before it connects, to install handlers (server->client
   * requests, notifications). Returns the unsubscribe function.
   */
  onClient(listener: (client: Client, info: ConnectionInfo) => void): () => void;
  /**
   * Resolves once every connection known now (or those of `ids`) has ended its first attempt
   * (active, failed or removed); later records are not waited for.
   */
  whenFirstAttemptsDone(ids?: readonly string[]): Promise<void>;
  /** Closes every connection; idempotent. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Longest message taken from a 2026-07-28 instance, in bytes (a JSON body, or one event). */
const MAX_MODERN_MESSAGE = 64 * 1024 * 1024;

/**
 * The transport to a record: the hub's own streamable-HTTP client in 2025-11-25, the SDK's for
 * a 2026-07-28 server, on an undici `fetch` that reads within bounds (one Agent for them all).
 */
const defaultTransport =
  (clock: Clock, agent: () => Promise<Agent>) =>
  (record: InstanceRecord, era?: 'modern'): Transport =>
    era === 'modern'
      ? new StreamableHTTPClientTransport(new URL(record.url), {
          fetch: boundedFetch({
            maxLength: MAX_MODERN_MESSAGE,
            token: record.token,
            agent,
          }),
        })
      : new HttpClientTransport(record.url, { token: record.token, clock });

/** A routed connection's dependencies: the local machine's checks do not apply to it. */
function routedDeps(deps: ConnectionDeps, route: InstanceRoute): ConnectionDeps {
  return {
    ...deps,
    isAlive: () => true,
    portOwner: async () => 'unknown',
    probe: async () => true,
    loopbacks: async () => undefined,
    removeRecord: async () => undefined,
    createTransport: () => route.createTransport(),
  };
}

/**
 * Manages one SDK client per instance: `discovered -> connecting -> active -> retrying -> dead`,
 * plus `removed`. Active connections are pinged; failures retry with capped, jittered
 * exponential backoff and turn `dead` after a bounded time; a record whose pid is provably gone
 * is removed at once (its file too, through `removeRecord`).
 */
export function createConnectionManager(options: ConnectionManagerOptions = {}): ConnectionManager {
  const connections = new Map<string, Connection>();
  const transitionListeners = new Set<(event: TransitionEvent) => void>();
  const catalogListeners = new Set<(info: ConnectionInfo) => void>();
  const clientListeners = new Set<(client: Client, info: ConnectionInfo) => void>();
  let closed = false;
  /** The connection pool of 2026-07-28 instances, made when the first is reached. */
  let agent: Promise<Agent> | undefined;

  /** Runs a hook or listener; one that throws is reported and stops nothing else. */
  const contained = (what: string, run: () => void) => {
    try {
      run();
    } catch (error) {
      options.log?.(`${what} threw: ${error instanceof Error ? error.message : String(error)}`);
    }
  };
  const safely = <T>(listeners: Set<(value: T) => void>, value: T) => {
    for (const listener of listeners) contained('a connection listener', () => listener(value));
  };

  const deps = {
    clock: options.clock ?? systemClock,
    ping: { intervalMs: 5_000, timeoutMs: 2_000, misses: 3, ...options.ping },
    backoff: options.backoff ?? {},
    connectTimeoutMs: options.connectTimeoutMs ?? 5_000,
    random: options.random ?? Math.random,
    isAlive: options.isAlive ?? isProcessAlive,
    portOwner:
      options.portOwner ??
      (options.createTransport
        ? async () => 'unknown' as const
        : (pid: number, port: number) => checkPortOwner(pid, port)),
    probe:
      options.probe ??
      (options.createTransport
        ? async () => true
        : (record: InstanceRecord) => {
            const { host, port } = urlEndpoint(record.url);
            return probePort(host, port);
          }),
    loopbacks:
      options.loopbacks ??
      (options.createTransport
        ? async () => undefined
        : (pid: number, port: number) => ownedLoopbacks(pid, port)),
    createTransport:
      options.createTransport ??
      defaultTransport(options.clock ?? systemClock, () => {
        agent ??= modernAgent();
        return agent;
      }),
    removeRecord: options.removeRecord ?? (async () => undefined),
    clientInfo: options.clientInfo ?? { name: 'beacon-hub', version: '0.0.0' },
    clientCapabilities: options.clientCapabilities ?? {},
    endSessionTimeoutMs: options.endSessionTimeoutMs ?? 1_000,
    catalogLimits: options.catalogLimits,
    refreshIntervalMs: options.refreshIntervalMs ?? 1_000,
    configureClient: (client: Client, info: ConnectionInfo) => {
      contained('configureClient', () => options.configureClient?.(client, info));
      for (const listener of clientListeners)
        contained('an onClient hook', () => listener(client, info));
    },
    onTransition: (info: ConnectionInfo, from: ConnectionState) => {
      if (info.state === 'removed' && connections.get(info.id) === info)
        connections.delete(info.id);
      safely(transitionListeners, { id: info.id, from, to: info.state, reason: info.reason, info });
    },
    onCatalog: (info: ConnectionInfo) => safely(catalogListeners, info),
  };

  const find = (id: string): Connection => {
    const connection = connections.get(id);
    if (!connection)
      throw new ConnectionError('UNKNOWN_INSTANCE', `no instance ${JSON.stringify(id)}`);
    return connection;
  };

  const clientOf = (id: string): Client => {
    const connection = find(id);
    if (connection.state !== 'active' || !connection.client) {
      throw new ConnectionError(
        'NOT_CONNECTED',
        `instance ${connection.record.name} (${id.slice(0, 8)}) is ${connection.state}${connection.reason ? `: ${connection.reason}` : ''}`,
      );
    }
    return connection.client;
  };

  // Memoised: every caller, the second one too, resolves only once every session is ended.
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      closed = true;
      const all = [...connections.values()];
      await Promise.allSettled(all.map((c) => c.remove('hub shutting down')));
      connections.clear();
      await agent?.then((pool) => pool.close()).catch(() => undefined);
    })();
    return closing;
  };

  return {
    upsert(record, route) {
      if (closed) return;
      const existing = connections.get(record.id);
      if (existing) {
        existing.update(record);
        return;
      }
      const connection = route
        ? new Connection(record, routedDeps(deps, route), route.remote)
        : new Connection(record, deps);
      connections.set(record.id, connection);
      safely(transitionListeners, {
        id: record.id,
        from: 'discovered',
        to: 'discovered',
        reason: 'record found',
        info: connection,
      });
      void connection.start();
    },
    async remove(id, reason = 'record removed') {
      const connection = connections.get(id);
      if (!connection) return;
      connections.delete(id);
      await connection.remove(reason);
    },
    async connect(id) {
      const connection = find(id);
      await connection.connect();
      return connection;
    },
    async disconnect(id) {
      const connection = find(id);
      await connection.disconnect();
      return connection;
    },
    get: (id) => connections.get(id),
    list: () => [...connections.values()],
    client: clientOf,
    call(id, request, options) {
      let client: Client;
      try {
        client = clientOf(id);
      } catch (error) {
        return Promise.reject(error);
      }
      return find(id).call(client, request, options);
    },
    openSession(id) {
      const connection = find(id);
      clientOf(id);
      if (connection.location.kind !== 'local')
        throw new ConnectionError(
          'NOT_CONNECTED',
          `instance ${connection.record.name} is reached through ${connection.location.remote}; no session of its own opens to it here`,
        );
      const url = connection.connectedUrl ?? connection.record.url;
      return new HttpClientTransport(url, {
        ...(connection.record.token === undefined ? {} : { token: connection.record.token }),
        clock: deps.clock,
      });
    },
    onTransition(listener) {
      transitionListeners.add(listener);
      return () => transitionListeners.delete(listener);
    },
    onCatalog(listener) {
      catalogListeners.add(listener);
      return () => catalogListeners.delete(listener);
    },
    onClient(listener) {
      clientListeners.add(listener);
      return () => clientListeners.delete(listener);
    },
    whenFirstAttemptsDone: async (ids) => {
      const waited = ids ? ids.flatMap((id) => connections.get(id) ?? []) : connections.values();
      await Promise.all([...waited].map((c) => c.firstAttemptEnded));
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
