// One instance's connection: the effects of the state machine in `_machine.ts` (connect, verify
// the port owner, fetch the catalog, ping, fail and retry, remove). The decisions live
// elsewhere: the transitions in `_machine.ts`, the retry timing in `retry.ts`, the catalog and
// its bounds in `_catalog.ts`, the refetch policy in `_refresh.ts`, the port knock and the
// loopback target in `_probe.ts`.
import type { InstanceRecord } from '@mcp-beacon/registry';
import type {
  DiscoverResult,
  Implementation,
  Result,
  ServerCapabilities,
} from '@modelcontextprotocol/client';
import { Client, ProtocolError, SdkError, SdkErrorCode } from '@modelcontextprotocol/client';
import { callInstance, type InstanceCallOptions, type InstanceRequest } from './_call.js';
import { CatalogBook } from './_catalog.js';
import { endClient } from './_end-client.js';
import { HealthCheck } from './_health.js';
import { INITIAL, type MachineEvent, type MachineState, transition } from './_machine.js';
import {
  MAX_INPUT_ROUNDS,
  MODERN_REVISION,
  ModernSession,
  screenInputRequests,
} from './_modern.js';
import { inOrder } from './_order.js';
import { safeTarget } from './_probe.js';
import { createRefresher, type Refresher, refreshOnListChanged } from './_refresh.js';
import { degradedReason, StreamReopener } from './_stream-health.js';
import { ConnectionError, describeError as describe } from './errors.js';
import { type EventStreamStatus, HttpClientTransport } from './http-transport.js';
import { retryDelay } from './retry.js';
import type {
  ConnectionDeps,
  ConnectionInfo,
  ConnectionState,
  InstanceCatalog,
  InstanceLocation,
} from './types.js';

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
  serverInfo: Implementation | undefined;
  capabilities: ServerCapabilities | undefined;
  client: Client | undefined;
  connectedUrl: string | undefined;
  private readonly book: CatalogBook;
  private refresher: Refresher | undefined;
  /** What the hub keeps of a 2026-07-28 connection beside its SDK client. */
  private modern: ModernSession | undefined;

  private endFirstAttempt: () => void = () => undefined;
  /** Resolves once the first connection attempt has ended: active, failed, or removed. */
  readonly firstAttemptEnded: Promise<void> = new Promise((resolve) => {
    this.endFirstAttempt = resolve;
  });

  private generation = 0;
  private readonly reopener = new StreamReopener();
  private readonly health: HealthCheck;
  private timer: unknown;
  private attemptInFlight: Promise<void> | undefined;

  constructor(
    public record: InstanceRecord,
    private readonly deps: ConnectionDeps,
    /** The remote through which the instance is reached, or undefined on this machine. */
    private readonly remote: string | undefined = undefined,
  ) {
    this.since = deps.clock.now();
    this.book = new CatalogBook({
      limits: deps.catalogLimits,
      timeoutMs: deps.connectTimeoutMs,
      clock: deps.clock,
    });
    this.health = new HealthCheck({
      deps: this.deps,
      current: (generation) => generation === this.generation,
      active: () => this.state === 'active',
      client: () => this.client,
      removeIfDead: () => this.removeIfDead(),
      fail: (reason, generation) => this.fail(reason, generation),
      answered: () => this.reopener.answered(this.client?.transport),
    });
  }

  get id(): string {
    return this.record.id;
  }

  get location(): InstanceLocation {
    const { path } = this.record;
    return this.remote === undefined
      ? { kind: 'local', path }
      : { kind: 'remote', remote: this.remote, path };
  }

  get catalog(): InstanceCatalog {
    return this.book.catalog;
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
    this.book.clear();
  }

  get degraded(): string | undefined {
    return this.state === 'active' ? degradedReason(this.client?.transport) : undefined;
  }

  get catalogTruncated(): string | undefined {
    return this.book.truncated;
  }

  private reset(): void {
    this.generation++;
    this.refresher?.cancel();
    this.refresher = undefined;
    this.modern?.close();
    this.modern = undefined;
    if (this.timer !== undefined) this.deps.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.health.stop();
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

  private endClient(client: Client, endSession: boolean): Promise<void> {
    const { clock, endSessionTimeoutMs: timeoutMs } = this.deps;
    return endClient(client, { endSession, timeoutMs, clock });
  }

  /**
   * `modern` once the server refused the 2025 handshake as a 2026-07-28-only server: its
   * connections then speak 2026-07-28 (the verdict is kept for this record).
   */
  private era: 'modern' | undefined;
  /** The server's last `server/discover` answer, the kept verdict a modern connect starts from. */
  private prior: DiscoverResult | undefined;

  /**
   * Sends one request on the active client (see `ConnectionManager.call`); on a 2026-07-28
   * connection, what that revision has no request for is answered here.
   */
  call(client: Client, request: InstanceRequest, options: InstanceCallOptions): Promise<Result> {
    const answered = this.modern?.answer(request);
    if (answered) return Promise.resolve(answered);
    const sent = this.modern ? this.modern.outgoing(request) : request;
    return callInstance(client, this.record.name, sent, options);
  }

  private connectNow(why?: string): Promise<void> {
    this.attemptInFlight ??= this.attemptConnect(why).finally(() => {
      this.attemptInFlight = undefined;
    });
    return this.attemptInFlight;
  }

  private async attemptConnect(why?: string, switched = false): Promise<void> {
    if (this.state === 'removed' || this.machine.held) return;
    if (await this.removeIfDead()) return;
    const generation = ++this.generation;
    this.dispatch({ type: 'attempt', reason: why ?? `connecting to ${this.record.url}` });
    const target = await safeTarget(this.record, this.deps, this.machine.attempt > 0);
    if (generation !== this.generation) return;
    if ('refused' in target) {
      await this.fail(target.refused, generation);
      return;
    }
    const modern = this.era === 'modern';
    // A 2026-07-28 server is spoken to at exactly that revision; the SDK negotiates it (or adopts
    // the kept `server/discover` answer), and answers `input_required` through the handlers.
    const client = new Client(this.deps.clientInfo, {
      capabilities: this.deps.clientCapabilities,
      ...(modern
        ? {
            versionNegotiation: { mode: { pin: MODERN_REVISION } },
            inputRequired: { maxRounds: MAX_INPUT_ROUNDS },
          }
        : {}),
    });
    try {
      this.deps.configureClient(client, this);
      const raw = this.deps.createTransport(target.record, this.era);
      // HttpClientTransport orders its own deliveries; any other is wrapped (see `_order.ts`),
      // and a 2026-07-28 one's `input_required` answers are held to the hub's bounds.
      const transport =
        raw instanceof HttpClientTransport
          ? raw
          : inOrder(raw, modern ? screenInputRequests : undefined);
      // The SDK chains handlers that are already set when it connects.
      transport.onerror = () => this.checkSoon(generation);
      await client.connect(transport, {
        timeout: this.deps.connectTimeoutMs,
        ...(modern && this.prior
          ? { prior: { kind: 'modern' as const, discover: this.prior } }
          : {}),
      });
      if (modern) {
        this.prior = client.getDiscoverResult();
        this.modern = new ModernSession(client, this.deps.clock, (error) =>
          this.checkSoon(generation, `listen stream: ${describe(error)}`),
        );
      }
      if (generation !== this.generation) {
        await this.endClient(client, true);
        return;
      }
      this.client = client;
      this.connectedUrl = target.record.url;
      client.onclose = () => {
        if (generation === this.generation && this.state === 'active')
          void this.fail('connection closed', generation);
      };
      this.serverInfo = client.getServerVersion();
      this.capabilities = client.getServerCapabilities();
      this.listenForListChanges(client, generation);
      if (raw instanceof HttpClientTransport)
        raw.oneventstream = (status) => this.eventStreamChanged(status, generation);
      const keep = await this.book.fetch(client, ['tools', 'resources', 'prompts']);
      if (generation !== this.generation) return;
      keep();
      this.dispatch({ type: 'connected', reason: `connected to ${this.record.url}` });
      this.deps.onCatalog(this);
      this.modern?.listen();
      this.health.start(generation);
    } catch (error) {
      if (generation !== this.generation) return;
      if (this.client !== client) await this.endClient(client, true);
      // A kept verdict that failed is asked again next time.
      if (modern) this.prior = undefined;
      const era = eraAfter(this.era, error);
      if (era !== this.era) {
        // Learned what the server speaks: kept for this record, and tried again at once (once;
        // a server that changes its mind again waits for the ordinary retry).
        this.era = era;
        if (!switched)
          return this.attemptConnect(`${this.record.url} speaks MCP ${era ?? '2025-11-25'}`, true);
      }
      await this.fail(describe(error), generation);
    }
  }

  private listenForListChanges(client: Client, generation: number): void {
    const refresher = createRefresher({
      clock: this.deps.clock,
      // A part already cut at a bound is refetched ten times less often: its instance lists
      // more than the hub keeps, and each list costs the hub a parse of all of it.
      intervalMs: (part) =>
        this.book.isCut(part) ? this.deps.refreshIntervalMs * 10 : this.deps.refreshIntervalMs,
      fetch: async (part) => {
        if (generation !== this.generation || this.client !== client) return;
        try {
          const keep = await this.book.fetch(client, [part]);
          if (generation !== this.generation) return;
          keep();
          this.deps.onCatalog(this);
        } catch (error) {
          this.checkSoon(generation, describe(error));
        }
      },
    });
    this.refresher = refresher;
    refreshOnListChanged(client, refresher);
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

  private checkSoon(generation: number, why?: string): void {
    this.health.checkSoon(generation, this.state === 'connecting', why);
  }
}

/**
 * The era to try next after a failed connection attempt: `modern` when a 2025 handshake was
 * refused by a 2026-07-28-only server; back to 2025 when a 2026-07-28 attempt found a server
 * that does not offer it (it was replaced by an older one).
 */
function eraAfter(era: 'modern' | undefined, error: unknown): 'modern' | undefined {
  if (era === undefined)
    return error instanceof ConnectionError && error.code === 'MODERN_ONLY' ? 'modern' : era;
  return answeredNotModern(error) ? undefined : era;
}

/**
 * Whether a 2026-07-28 attempt failed on what the server answered (a refusal, a JSON-RPC error,
 * no common revision) rather than on the way there (refused, timed out, cut off).
 */
function answeredNotModern(error: unknown): boolean {
  if (error instanceof ProtocolError) return true;
  if (error instanceof ConnectionError) return error.code === 'NOT_MCP';
  if (error instanceof SdkError)
    return ![
      SdkErrorCode.RequestTimeout,
      SdkErrorCode.ConnectionClosed,
      SdkErrorCode.SendFailed,
      SdkErrorCode.NotConnected,
    ].includes(error.code as SdkErrorCode);
  const status = (error as { code?: unknown }).code;
  return typeof status === 'number' && status >= 400 && status < 500;
}
