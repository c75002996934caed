// Over 300 lines on purpose: one instance's connection is one class, whose methods are the
// effects of the state machine in `_machine.ts` (connect, verify the port owner, fetch the
// catalog, ping, fail and retry, remove). The decisions live elsewhere: the transitions in
// `_machine.ts`, the retry timing in `retry.ts`, the catalog bounds in `_catalog.ts`, the
// refetch policy in `_refresh.ts`, the port knock in `_probe.ts`.
import type { Clock, InstanceRecord, LoopbackAddress, PortOwnership } from '@mcp-beacon/registry';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  type ClientCapabilities,
  ErrorCode,
  type Implementation,
  McpError,
  type Prompt,
  PromptListChangedNotificationSchema,
  type Resource,
  ResourceListChangedNotificationSchema,
  type ResourceTemplate,
  type ServerCapabilities,
  type Tool,
  ToolListChangedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import {
  type CatalogLimits,
  type CatalogPart,
  catalogBytes,
  type FetchedList,
  fetchList,
  PART_LISTS,
} from './_catalog.js';
import { INITIAL, type MachineEvent, type MachineState, transition } from './_machine.js';
import { deliverInOrder } from './_order.js';
import { createRefresher, type Refresher } from './_refresh.js';
import { ConnectionError } from './errors.js';
import { type EventStreamStatus, HttpClientTransport } from './http-transport.js';
import { type BackoffOptions, retryDelay } from './retry.js';

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
   * The remote through which the instance is reached (see `InstanceRoute`), or undefined for
   * an instance on this machine. A routed record's pid, port and path are the remote's.
   */
  readonly via: string | undefined;
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
  createTransport: (record: InstanceRecord) => Transport;
  removeRecord: (record: InstanceRecord) => Promise<void>;
  clientInfo: Implementation;
  clientCapabilities: ClientCapabilities;
  configureClient: (client: Client, info: ConnectionInfo) => void;
  onTransition: (info: ConnectionInfo, from: ConnectionState) => void;
  onCatalog: (info: ConnectionInfo) => void;
}

const emptyCatalog = (): InstanceCatalog => ({
  tools: [],
  resources: [],
  resourceTemplates: [],
  prompts: [],
});

/** A one-line reason: the message plus the HTTP status or socket error code when known. */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if (error instanceof ConnectionError && error.status !== undefined)
    return `${error.message} (HTTP ${error.status})`;
  const { code, cause } = error as { code?: unknown; cause?: { code?: string } };
  // The SDK's StreamableHTTPError carries the HTTP status as a numeric `code`.
  if (typeof code === 'number' && code >= 100 && code < 600)
    return `${error.message.trim()} (HTTP ${code})`;
  return cause?.code ? `${error.message} (${cause.code})` : error.message;
}

function isTimeout(error: unknown): boolean {
  return error instanceof McpError && error.code === ErrorCode.RequestTimeout;
}

/**
 * One instance's MCP client connection. Its state changes only through {@link dispatch}, one
 * step of the machine in _machine.ts; this class runs the effects (attempts, pings, closing
 * clients, timers), and a `generation` number tells a stale async step from the current one.
 */
export class Connection implements ConnectionInfo {
  private machine: MachineState = INITIAL;
  state: ConnectionState = INITIAL.state;
  reason: string | undefined = INITIAL.reason;
  since: number;
  catalog: InstanceCatalog = emptyCatalog();
  serverInfo: Implementation | undefined;
  capabilities: ServerCapabilities | undefined;
  client: Client | undefined;
  connectedUrl: string | undefined;
  /** Per list: its bytes of JSON and why it was cut, as last fetched. */
  private lists: Partial<Record<keyof InstanceCatalog, { bytes: number; truncated?: string }>> = {};
  private refresher: Refresher | undefined;

  private endFirstAttempt: () => void = () => undefined;
  /** Resolves once the first connection attempt has ended: active, failed, or removed. */
  readonly firstAttempt: Promise<void> = new Promise((resolve) => {
    this.endFirstAttempt = resolve;
  });

  private generation = 0;
  private misses = 0;
  private pingsWithoutStream = 0;
  private timer: unknown;
  private probing = false;
  private attemptInFlight: Promise<void> | undefined;

  constructor(
    public record: InstanceRecord,
    private readonly deps: ConnectionDeps,
    readonly via: string | undefined = undefined,
  ) {
    this.since = deps.clock.now();
  }

  get id(): string {
    return this.record.id;
  }

  /** Starts connecting (called once, after construction). */
  start(): Promise<void> {
    return this.connectNow().finally(() => this.endFirstAttempt());
  }

  /** Connects (or reconnects) now, also after `disconnect()`; resolves when the attempt ends. */
  connect(): Promise<void> {
    this.dispatch({ type: 'release' });
    if (this.state === 'active') return Promise.resolve();
    return this.connectNow();
  }

  /** Drops the connection and stays down until `connect()` is called. */
  async disconnect(reason = 'disconnected on request'): Promise<void> {
    if (this.state === 'removed') return;
    this.dispatch({ type: 'hold' });
    this.reset();
    await this.closeClient();
    this.clearCatalog();
    this.dispatch({ type: 'disconnect', reason });
  }

  /** The record was rewritten: reconnect if it now points elsewhere, or retry if down. */
  update(record: InstanceRecord): void {
    const moved =
      record.url !== this.record.url ||
      record.token !== this.record.token ||
      record.pid !== this.record.pid;
    this.record = record;
    if (this.state === 'removed' || this.machine.held) return;
    if (moved) {
      this.reset();
      // 'connecting' from now on, not once the old session has ended: a caller that waits for
      // 'active' must not take the old connection for the new one.
      const generation = this.generation;
      this.dispatch({ type: 'moved' });
      void this.closeClient().then(() => {
        // A disconnect or removal meanwhile wins over this reconnect.
        if (generation === this.generation) void this.connectNow('record now points elsewhere');
      });
    } else if (this.state === 'retrying' || this.state === 'dead') {
      // A fresh heartbeat is a sign of life: try now rather than at the next backoff step.
      this.reset();
      void this.connectNow();
    }
  }

  /** Closes for good (the record is gone). */
  async remove(reason: string): Promise<void> {
    if (this.state === 'removed') return;
    this.reset();
    await this.closeClient();
    this.clearCatalog();
    this.dispatch({ type: 'remove', reason });
  }

  private clearCatalog(): void {
    this.catalog = emptyCatalog();
    this.lists = {};
  }

  get degraded(): string | undefined {
    if (this.state !== 'active') return undefined;
    const transport = this.client?.transport;
    const stream = transport instanceof HttpClientTransport ? transport.eventStream : undefined;
    if (stream?.state !== 'lost' || stream.failures === 0) return undefined;
    return `event stream lost, ${stream.failures} reopen${stream.failures === 1 ? '' : 's'} failed (${stream.reason}); notifications from this instance are not arriving`;
  }

  get catalogTruncated(): string | undefined {
    const reasons = Object.values(this.lists).flatMap((l) => (l?.truncated ? [l.truncated] : []));
    return reasons.length > 0 ? reasons.join('; ') : undefined;
  }

  private reset(): void {
    this.generation++;
    this.refresher?.cancel();
    this.refresher = undefined;
    if (this.timer !== undefined) this.deps.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.attemptInFlight = undefined;
  }

  /** The one way a state changes: a step of the machine, reported to the manager. */
  private dispatch(event: MachineEvent): void {
    const { next, changed } = transition(this.machine, event);
    const from = this.state;
    this.machine = next;
    this.state = next.state;
    this.reason = next.reason;
    if (!changed) return;
    this.since = this.deps.clock.now();
    this.deps.onTransition(this, from);
  }

  /** Closes the live client; `endSession` first ends its session on the instance (DELETE). */
  private async closeClient(endSession = true): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client) await this.endClient(client, endSession);
  }

  private async endClient(client: Client, endSession: boolean): Promise<void> {
    const transport = client.transport as { terminateSession?: () => Promise<void> } | undefined;
    if (endSession && transport?.terminateSession) {
      let timer: unknown;
      await Promise.race([
        transport.terminateSession().catch(() => undefined),
        new Promise<void>((resolve) => {
          timer = this.deps.clock.setTimeout(resolve, this.deps.endSessionTimeoutMs);
        }),
      ]);
      this.deps.clock.clearTimeout(timer);
    }
    await client.close().catch(() => undefined);
  }

  private connectNow(why?: string): Promise<void> {
    this.attemptInFlight ??= this.attemptConnect(why).finally(() => {
      this.attemptInFlight = undefined;
    });
    return this.attemptInFlight;
  }

  private async attemptConnect(why?: string): Promise<void> {
    if (this.state === 'removed' || this.machine.held) return;
    if (await this.removeIfDead()) return;
    const generation = ++this.generation;
    this.dispatch({ type: 'attempt', reason: why ?? `connecting to ${this.record.url}` });
    // A retry first knocks: a port that refuses fails the attempt with no client built.
    if (this.machine.attempt > 0 && !(await this.deps.probe(this.record).catch(() => true))) {
      if (generation === this.generation)
        await this.fail(`nothing accepts connections on port ${this.record.port}`, generation);
      return;
    }
    if (generation !== this.generation) return;
    // The record's port must still be the record's process's: after it dies, another process
    // (another user's, even) may listen there, and it must never receive the record's token.
    const { pid, port } = this.record;
    const owner = await this.deps.portOwner(pid, port).catch(() => 'unknown' as const);
    if (generation !== this.generation) return;
    if (owner === 'other') {
      await this.fail(
        `port ${port} is held by a process other than ${pid}; not connecting, so its token stays private`,
        generation,
      );
      return;
    }
    const target = await this.verifiedTarget();
    if (generation !== this.generation) return;
    if (target === undefined) {
      await this.fail(
        `process ${pid} holds no socket on localhost port ${port}; not connecting, so its token stays private`,
        generation,
      );
      return;
    }
    const client = new Client(this.deps.clientInfo, { capabilities: this.deps.clientCapabilities });
    try {
      this.deps.configureClient(client, this);
      const transport = this.deps.createTransport(target);
      // The SDK chains handlers that are already set when it connects.
      transport.onerror = () => this.probeSoon(generation);
      await client.connect(transport, { timeout: this.deps.connectTimeoutMs });
      deliverInOrder(transport);
      if (generation !== this.generation) {
        await this.endClient(client, true);
        return;
      }
      this.client = client;
      this.connectedUrl = target.url;
      client.onclose = () => {
        if (generation === this.generation && this.state === 'active')
          void this.fail('connection closed', generation);
      };
      this.serverInfo = client.getServerVersion();
      this.capabilities = client.getServerCapabilities();
      this.listenForListChanges(client, generation);
      if (transport instanceof HttpClientTransport)
        transport.oneventstream = (status) => this.eventStreamChanged(status, generation);
      const catalog = await this.fetchCatalog(client, ['tools', 'resources', 'prompts']);
      if (generation !== this.generation) return;
      this.catalog = catalog;
      this.misses = 0;
      this.dispatch({ type: 'connected', reason: `connected to ${this.record.url}` });
      this.deps.onCatalog(this);
      this.schedulePing(generation);
    } catch (error) {
      if (generation !== this.generation) return;
      if (this.client !== client) await this.endClient(client, true);
      await this.fail(describe(error), generation);
    }
  }

  /**
   * The record to connect to: for a `localhost` URL, the literal loopback address at which the
   * record's process listens (127.0.0.1 first), so every socket goes where the port-owner
   * check looked, not wherever `localhost` resolves (another user may listen on the other
   * family). Undefined when the process listens on neither.
   */
  private async verifiedTarget(): Promise<InstanceRecord | undefined> {
    const url = new URL(this.record.url);
    if (url.hostname !== 'localhost') return this.record;
    const owned = await this.deps
      .loopbacks(this.record.pid, this.record.port)
      .catch(() => undefined);
    if (owned === undefined) return this.record;
    const address = owned.includes('127.0.0.1') ? '127.0.0.1' : owned[0];
    if (address === undefined) return undefined;
    url.hostname = address === '::1' ? '[::1]' : address;
    return { ...this.record, url: url.href };
  }

  private listenForListChanges(client: Client, generation: number): void {
    const refresher = createRefresher({
      clock: this.deps.clock,
      // A part already cut at a bound is refetched ten times less often: its instance lists
      // more than the hub keeps, and each list costs the hub a parse of all of it.
      intervalMs: (part) =>
        PART_LISTS[part].some((list) => this.lists[list]?.truncated !== undefined)
          ? this.deps.refreshIntervalMs * 10
          : this.deps.refreshIntervalMs,
      fetch: async (part) => {
        if (generation !== this.generation || this.client !== client) return;
        try {
          const catalog = await this.fetchCatalog(client, [part]);
          if (generation !== this.generation) return;
          this.catalog = catalog;
          this.deps.onCatalog(this);
        } catch (error) {
          this.probeSoon(generation, describe(error));
        }
      },
    });
    this.refresher = refresher;
    client.setNotificationHandler(ToolListChangedNotificationSchema, async () =>
      refresher.request('tools'),
    );
    client.setNotificationHandler(ResourceListChangedNotificationSchema, async () =>
      refresher.request('resources'),
    );
    client.setNotificationHandler(PromptListChangedNotificationSchema, async () =>
      refresher.request('prompts'),
    );
  }

  /**
   * A reopened event stream may have missed `list_changed`: every list is fetched again
   * (through the refresher, so at most once an interval).
   */
  private eventStreamChanged(status: EventStreamStatus, generation: number): void {
    if (generation !== this.generation) return;
    if (status.state === 'open' && status.resumed)
      for (const part of ['tools', 'resources', 'prompts'] as const) this.refresher?.request(part);
  }

  /**
   * The catalog with `parts` fetched anew (within the catalog limits; the other parts as they
   * were). Only lists the server declared are asked for.
   */
  private async fetchCatalog(client: Client, parts: CatalogPart[]): Promise<InstanceCatalog> {
    const caps = client.getServerCapabilities() ?? {};
    const fetching = parts.flatMap((part) => (caps[part] ? PART_LISTS[part] : []));
    const skipped = parts.flatMap((part) => (caps[part] ? [] : PART_LISTS[part]));
    // Raw requests rather than client.listTools(): only the entries kept are validated, and the
    // hub forwards results without compiling a JSON Schema validator per tool.
    let others = 0;
    for (const [list, fetched] of Object.entries(this.lists))
      if (!fetching.includes(list as keyof InstanceCatalog)) others += fetched?.bytes ?? 0;
    const budget = { left: catalogBytes(this.deps.catalogLimits) - others };
    // One list after another: one instance's catalog is never parsed in parallel with itself.
    const results: FetchedList[] = [];
    for (const list of fetching)
      results.push(
        await fetchList(client, list, {
          limits: this.deps.catalogLimits,
          budget,
          timeoutMs: this.deps.connectTimeoutMs,
          clock: this.deps.clock,
        }),
      );
    const catalog: InstanceCatalog = { ...this.catalog };
    for (const list of skipped) {
      catalog[list] = [];
      delete this.lists[list];
    }
    fetching.forEach((list, i) => {
      const { items, bytes, truncated } = results[i]!;
      (catalog as unknown as Record<string, unknown[]>)[list] = items;
      this.lists[list] = truncated === undefined ? { bytes } : { bytes, truncated };
    });
    return catalog;
  }

  private async removeIfDead(): Promise<boolean> {
    if (this.deps.isAlive(this.record.pid)) return false;
    const reason = `process ${this.record.pid} is gone; record removed`;
    this.reset();
    await this.closeClient(false);
    this.clearCatalog();
    // Announce first, delete second: the watcher's report of the deletion then finds nothing
    // left to remove, and the reason on record stays the real one.
    this.dispatch({ type: 'remove', reason });
    await this.deps.removeRecord(this.record).catch(() => undefined);
    return true;
  }

  private async fail(reason: string, generation: number): Promise<void> {
    if (generation !== this.generation || this.state === 'removed') return;
    const wasActive = this.state === 'active';
    this.reset();
    await this.closeClient();
    if (await this.removeIfDead()) return;
    if (wasActive) {
      this.clearCatalog();
      this.deps.onCatalog(this);
    }
    const giveUpAfterMs = this.deps.backoff.giveUpAfterMs ?? 60_000;
    this.dispatch({ type: 'failed', reason, now: this.deps.clock.now(), giveUpAfterMs });
    const { state } = this.machine;
    if (this.machine.held || (state !== 'retrying' && state !== 'dead')) return;
    const retryGeneration = this.generation;
    const delay = retryDelay(
      { state, attempt: this.machine.attempt },
      this.deps.backoff,
      this.deps.random,
    );
    this.timer = this.deps.clock.setTimeout(() => {
      if (retryGeneration === this.generation) void this.connectNow();
    }, delay);
  }

  private schedulePing(generation: number): void {
    this.timer = this.deps.clock.setTimeout(
      () => void this.pingOnce(generation),
      this.deps.ping.intervalMs,
    );
  }

  private async pingOnce(generation: number): Promise<void> {
    if (generation !== this.generation || this.state !== 'active') return;
    if (await this.removeIfDead()) return;
    const ok = await this.ping(generation);
    if (ok) this.checkEventStream();
    if (ok !== undefined && generation === this.generation && this.state === 'active')
      this.schedulePing(generation);
  }

  /**
   * The event stream is part of health: while it is lost, an answered ping reopens it, on the
   * 1st, 2nd, 4th, 8th... ping since the loss (the transport's own schedule goes on beside).
   */
  private checkEventStream(): void {
    const transport = this.client?.transport;
    if (!(transport instanceof HttpClientTransport)) return;
    if (transport.eventStream?.state !== 'lost') {
      this.pingsWithoutStream = 0;
      return;
    }
    const n = ++this.pingsWithoutStream;
    if ((n & (n - 1)) === 0) transport.reopenEventStream();
  }

  /** Pings once; returns true/false for answered/missed, undefined once the connection failed. */
  private async ping(generation: number): Promise<boolean | undefined> {
    const client = this.client;
    if (!client) return undefined;
    try {
      await client.ping({ timeout: this.deps.ping.timeoutMs });
      this.misses = 0;
      return true;
    } catch (error) {
      if (generation !== this.generation) return undefined;
      if (isTimeout(error) && ++this.misses < this.deps.ping.misses) return false;
      await this.fail(
        isTimeout(error) ? `${this.misses} pings unanswered` : describe(error),
        generation,
      );
      return undefined;
    }
  }

  /** A transport error: check now instead of waiting for the next ping. */
  private probeSoon(generation: number, why?: string): void {
    if (this.probing || generation !== this.generation) return;
    if (this.state === 'connecting' && why === undefined) return;
    this.probing = true;
    void (async () => {
      try {
        if (await this.removeIfDead()) return;
        if (this.state === 'active') await this.ping(generation);
      } finally {
        this.probing = false;
      }
    })();
  }
}
