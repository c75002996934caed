import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import type { ConnectionInfo, ConnectionManager } from '@mcp-beacon/connection-manager';
import {
  type Clock,
  cleanText,
  type InstanceRecord,
  signalGroup,
  systemClock,
} from '@mcp-beacon/registry';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  EmptyResultSchema,
  ErrorCode,
  type Implementation,
  type JSONRPCMessage,
  JSONRPCMessageSchema,
  McpError,
} from '@modelcontextprotocol/sdk/types.js';
import * as v from 'valibot';
import { z } from 'zod';
import { CommandTransport, isNotMcp } from './command-transport.js';
import {
  InstancesResultSchema,
  MAX_CHANNELS,
  MAX_REMOTE_INSTANCES,
  METHODS,
  REMOTE_CAPABILITY,
  REMOTE_PROTOCOL_VERSION,
  type RemoteInstance,
  RemoteInstanceSchema,
  StartResultSchema,
  zCloseNotification,
  zInstanceNotification,
  zMessageNotification,
} from './protocol.js';
import { type ChannelHost, TunnelTransport } from './tunnel.js';

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

/** Options of {@link RemoteLink}. */
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
  /** Called after every change of {@link RemoteLink.info}. */
  onChange?: (info: RemoteInfo) => void;
  log?: (message: string) => void;
  /**
   * Whether the remote's instances are added to `manager` (default true). Off, they are only
   * kept as the remote describes them ({@link RemoteLink.instances}), as `beacon-hub list` needs.
   */
  mirror?: boolean;
}

const STDERR_KEEP = 4_096;
/** A link that stayed up this long starts its next backoff from the beginning. */
const STABLE_MS = 30_000;
const PASSWORD = /password|passphrase|permission denied|askpass|host key verification/i;

/**
 * The local id of a remote instance: a UUID v4 shape derived from the remote's name and the
 * instance's id there, so it is stable across reconnects and no remote can choose an id that
 * collides with a local instance or another remote's.
 */
export function remoteInstanceId(remote: string, id: string): string {
  const h = createHash('sha256').update(`${remote}\0${id}`).digest('hex');
  const variant = ((Number.parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/**
 * One remote: runs its command (in a session of its own, so nothing it runs can read the
 * hub's terminal), speaks MCP to the hub at the other end over the command's stdio, and
 * shows that hub's instances in the local manager as `<remote>/<name>`, each reached through
 * a channel of this link. A command that exits, hangs or answers as something else is a
 * state (`unreachable`, `refused`), retried with capped backoff; its instances leave the
 * lists until it is back. No port is opened on either side, and instance tokens stay there.
 */
export class RemoteLink implements ChannelHost {
  private state: RemoteState = 'connecting';
  private reason: string | undefined;
  private since: number;
  private hub: { name: string; version: string } | undefined;
  private child: ChildProcess | undefined;
  private client: Client | undefined;
  private stderr = '';
  private attempt = 0;
  private connectedAt = 0;
  private timer: unknown;
  private pingTimer: unknown;
  private closed = false;
  private nextChannel = 1;
  private readonly channels = new Map<number, TunnelTransport>();
  /** Remote id -> local id, for the instances shown now. */
  private readonly shown = new Map<string, string>();
  /** Remote id -> the instance as the remote last described it. */
  private readonly described = new Map<string, RemoteInstance>();
  /** Remote ids of the instances added to the local manager. */
  private readonly mirrored = new Set<string>();
  private readonly clock: Clock;
  private endFirstAttempt: () => void = () => undefined;
  /** Resolves once the first attempt has ended (connected with its instances listed, or failed). */
  readonly firstAttempt = new Promise<void>((resolve) => {
    this.endFirstAttempt = resolve;
  });

  constructor(private readonly options: RemoteLinkOptions) {
    this.clock = options.clock ?? systemClock;
    this.since = this.clock.now();
  }

  get name(): string {
    return this.options.spec.name;
  }

  info(): RemoteInfo {
    return {
      name: this.name,
      command: this.options.spec.command.join(' '),
      state: this.state,
      reason: this.reason,
      since: this.since,
      instances: this.shown.size,
      hub: this.hub,
    };
  }

  /** The remote's instances as it last described them, with their local ids. */
  instances(): Array<RemoteInstance & { localId: string }> {
    return [...this.described.values()].map((instance) => ({
      ...instance,
      localId: this.shown.get(instance.id) ?? remoteInstanceId(this.name, instance.id),
    }));
  }

  /** Starts the first attempt. */
  start(): void {
    if (!this.closed && this.child === undefined && this.timer === undefined)
      void this.attemptNow();
  }

  /**
   * Starts (or finds) the instance of `folder` on the remote, as the remote's hub sees the
   * folder, and resolves with its local connection once that is active.
   */
  async startInstance(
    folder: string,
    options: { signal?: AbortSignal; timeoutMs?: number },
  ): Promise<{ info: ConnectionInfo; started: boolean }> {
    const client = this.client;
    if (!client || this.state !== 'connected')
      throw new Error(
        `remote ${this.name} is ${this.state}${this.reason ? `: ${this.reason}` : ''}`,
      );
    const answer = await client.request(
      { method: METHODS.start, params: { path: folder } },
      z.object({}).passthrough(),
      {
        timeout: options.timeoutMs ?? 60_000,
        resetTimeoutOnProgress: true,
        ...(options.signal ? { signal: options.signal } : {}),
      },
    );
    const parsed = v.safeParse(StartResultSchema, answer);
    const instance = parsed.success
      ? v.safeParse(RemoteInstanceSchema, parsed.output.instance)
      : undefined;
    if (!parsed.success || !instance?.success)
      throw new Error(`remote ${this.name} answered beacon/start with something else`);
    const id = this.show(instance.output);
    if (id === undefined) throw new Error(`remote ${this.name} has too many instances`);
    const info = await waitActive(
      this.options.manager,
      id,
      options.timeoutMs ?? 20_000,
      this.clock,
      options.signal,
    );
    return { info, started: parsed.output.started };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    await this.drop('the hub is closing');
    this.endFirstAttempt();
  }

  // --- ChannelHost ---

  async open(instance: string, tunnel: TunnelTransport): Promise<number> {
    const client = this.client;
    if (!client || this.state !== 'connected')
      throw new Error(`remote ${this.name} is ${this.state}`);
    if (this.channels.size >= MAX_CHANNELS)
      throw new Error(`remote ${this.name} has ${MAX_CHANNELS} channels open`);
    const channel = this.nextChannel++;
    this.channels.set(channel, tunnel);
    try {
      await client.request(
        { method: METHODS.open, params: { channel, instance } },
        EmptyResultSchema,
        {
          timeout: 10_000,
        },
      );
    } catch (error) {
      this.channels.delete(channel);
      const message = (error as Error).message.replace(/^(MCP error -?\d+: )+/, '');
      throw new Error(`remote ${this.name}: ${cleanText(message)}`);
    }
    return channel;
  }

  async send(channel: number, message: JSONRPCMessage): Promise<void> {
    const client = this.client;
    if (!client || !this.channels.has(channel)) throw new Error('the tunnel is closed');
    await client.notification({ method: METHODS.message, params: { channel, message } });
  }

  closeChannel(channel: number): void {
    if (!this.channels.delete(channel)) return;
    void this.client
      ?.notification({ method: METHODS.close, params: { channel } })
      .catch(() => undefined);
  }

  // --- the attempt ---

  private setState(state: RemoteState, reason?: string): void {
    this.state = state;
    this.reason = reason;
    this.since = this.clock.now();
    this.options.onChange?.(this.info());
  }

  private async attemptNow(): Promise<void> {
    this.timer = undefined;
    if (this.closed) return;
    this.setState('connecting');
    const [file, ...args] = this.options.spec.command as [string, ...string[]];
    this.stderr = '';
    let child: ChildProcess;
    try {
      child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    } catch (error) {
      return this.failed('unreachable', `cannot run ${file}: ${(error as Error).message}`);
    }
    this.child = child;
    let exited: string | undefined;
    let markExited: () => void = () => undefined;
    const exit = new Promise<void>((resolve) => {
      markExited = resolve;
    });
    child.once('error', (error) => {
      exited ??= `cannot run ${file}: ${error.message}`;
      markExited();
      void this.lost(child, exited);
    });
    child.once('exit', (code, signal) => {
      exited ??= `the command exited (${signal ?? `code ${code}`})`;
      markExited();
      void this.lost(child, exited);
    });
    child.stderr?.setEncoding('utf8').on('data', (text: string) => {
      this.stderr = (this.stderr + text).slice(-STDERR_KEEP);
    });
    child.stdin?.on('error', () => undefined);

    const transport = new CommandTransport(child.stdout!, child.stdin!);
    let notMcp: string | undefined;
    transport.onerror = (error) => {
      if (isNotMcp(error)) notMcp ??= error.message;
    };
    const client = new Client(this.options.clientInfo, {
      capabilities: { experimental: { [REMOTE_CAPABILITY]: { version: REMOTE_PROTOCOL_VERSION } } },
    });
    this.installHandlers(client);
    try {
      await client.connect(transport, { timeout: this.options.handshakeTimeoutMs ?? 20_000 });
    } catch (error) {
      if (this.child !== child) return; // already reported as lost
      // Something answered, but not as a hub: its stdout is not MCP, or it refused initialize.
      const answered =
        error instanceof McpError &&
        error.code !== ErrorCode.ConnectionClosed &&
        error.code !== ErrorCode.RequestTimeout;
      if (notMcp !== undefined || answered) {
        await client.close().catch(() => undefined);
        return this.refuse(
          `not a Beacon hub: ${cleanText(notMcp ?? `initialize failed: ${(error as Error).message}`)}`,
        );
      }
      // A command that is exiting often fails the handshake first (a closed pipe): give its
      // exit a moment to arrive, so it is reported as what it is, with its stderr.
      await Promise.race([exit, sleep(this.clock, 1_000)]);
      await client.close().catch(() => undefined);
      if (exited !== undefined || this.child !== child) return; // `lost` reports it
      if (error instanceof McpError && error.code === ErrorCode.RequestTimeout)
        return this.kill(`no MCP answer within ${this.options.handshakeTimeoutMs ?? 20_000} ms`);
      return this.kill(`the MCP handshake failed: ${cleanText((error as Error).message)}`);
    }
    const refusal = this.checkIdentity(client);
    if (refusal) {
      await client.close().catch(() => undefined);
      return this.refuse(refusal);
    }
    this.client = client;
    this.connectedAt = this.clock.now();
    let listed: unknown;
    try {
      listed = await client.request({ method: METHODS.instances }, z.object({}).passthrough(), {
        timeout: 10_000,
      });
    } catch (error) {
      return this.kill(`cannot list its instances: ${cleanText((error as Error).message)}`);
    }
    const parsed = v.safeParse(InstancesResultSchema, listed);
    if (!parsed.success) return this.refuse('answered beacon/instances with something else');
    this.setState('connected');
    this.syncAll(parsed.output.instances);
    this.schedulePing(client);
    await this.options.manager.whenFirstAttemptsDone();
    this.endFirstAttempt();
  }

  private checkIdentity(client: Client): string | undefined {
    const server = client.getServerVersion();
    const name = cleanText(String(server?.name ?? '?')).slice(0, 80);
    const version = cleanText(String(server?.version ?? '?')).slice(0, 40);
    this.hub = { name, version };
    if (name !== 'beacon-hub') return `not a Beacon hub: it answered as ${name} ${version}`;
    const offered = client.getServerCapabilities()?.experimental?.[REMOTE_CAPABILITY] as
      | { version?: unknown }
      | undefined;
    if (offered === undefined)
      return `beacon-hub ${version} there is too old to serve as a remote; upgrade it on that machine`;
    if (offered.version !== REMOTE_PROTOCOL_VERSION)
      return `beacon-hub ${version} there speaks remote protocol ${String(offered.version)}, this one speaks ${REMOTE_PROTOCOL_VERSION}`;
    return undefined;
  }

  private installHandlers(client: Client): void {
    client.setNotificationHandler(zMessageNotification, async ({ params }) => {
      const tunnel = this.channels.get(params.channel);
      const message = JSONRPCMessageSchema.safeParse(params.message);
      if (tunnel && message.success) tunnel.deliver(message.data);
    });
    client.setNotificationHandler(zCloseNotification, async ({ params }) => {
      const tunnel = this.channels.get(params.channel);
      if (!tunnel) return;
      this.channels.delete(params.channel);
      tunnel.ended(params.reason ? `remote ${this.name}: ${cleanText(params.reason)}` : undefined);
    });
    client.setNotificationHandler(zInstanceNotification, async ({ params }) => {
      if (this.client !== client) return;
      const gone = params?.removed === true && typeof params.id === 'string';
      if (gone) return this.hide(params.id as string, 'removed on the remote');
      const instance = v.safeParse(RemoteInstanceSchema, params?.instance);
      if (!instance.success) return;
      if (instance.output.state === 'removed')
        return this.hide(instance.output.id, 'removed on the remote');
      const id = this.show(instance.output);
      // The remote connected to it again: so can we, without waiting for our backoff.
      const local = id === undefined ? undefined : this.options.manager.get(id);
      if (
        local &&
        instance.output.state === 'active' &&
        (local.state === 'retrying' || local.state === 'dead')
      )
        void this.options.manager.connect(local.id).catch(() => undefined);
    });
  }

  private syncAll(list: readonly unknown[]): void {
    const seen = new Set<string>();
    for (const item of list) {
      const instance = v.safeParse(RemoteInstanceSchema, item);
      if (!instance.success || instance.output.state === 'removed') continue;
      if (this.show(instance.output) !== undefined) seen.add(instance.output.id);
    }
    for (const remoteId of [...this.shown.keys()])
      if (!seen.has(remoteId)) this.hide(remoteId, 'gone from the remote');
  }

  /** Shows (or updates) a remote instance in the local manager; its local id. */
  private show(instance: RemoteInstance): string | undefined {
    let id = this.shown.get(instance.id);
    if (id === undefined) {
      if (this.shown.size >= MAX_REMOTE_INSTANCES) {
        this.options.log?.(
          `remote ${this.name}: more than ${MAX_REMOTE_INSTANCES} instances; ${instance.name} is not shown`,
        );
        return undefined;
      }
      id = remoteInstanceId(this.name, instance.id);
      this.shown.set(instance.id, id);
    }
    const mirrored = this.described.has(instance.id) && this.mirrored.has(instance.id);
    this.described.set(instance.id, instance);
    // Only an instance the remote reaches is added here (one still connecting there would
    // only fail its first attempt); once added, it stays until the remote removes it.
    if (this.options.mirror === false || (!mirrored && instance.state !== 'active')) {
      this.options.onChange?.(this.info());
      return id;
    }
    this.mirrored.add(instance.id);
    const record: InstanceRecord = {
      id,
      pid: instance.pid,
      path: instance.path,
      port: instance.port,
      started: instance.started,
      name: `${this.name}/${cleanText(instance.name)}`,
      has_package_json: instance.has_package_json,
      last_seen: new Date(this.clock.now()).toISOString(),
      // As the remote sees it; never dialled from here (the route is the channel).
      url: `http://127.0.0.1:${instance.port}/mcp`,
      ...(instance.version === undefined ? {} : { version: instance.version }),
    };
    const remoteId = instance.id;
    this.options.manager.upsert(record, {
      via: this.name,
      createTransport: () => new TunnelTransport(this, remoteId),
    });
    this.options.onChange?.(this.info());
    return id;
  }

  private hide(remoteId: string, why: string): void {
    const id = this.shown.get(remoteId);
    if (id === undefined) return;
    this.shown.delete(remoteId);
    this.described.delete(remoteId);
    if (this.mirrored.delete(remoteId))
      void this.options.manager.remove(id, `remote ${this.name}: ${why}`);
    this.options.onChange?.(this.info());
  }

  private schedulePing(client: Client): void {
    const { intervalMs = 15_000, timeoutMs = 10_000 } = this.options.ping ?? {};
    this.pingTimer = this.clock.setTimeout(async () => {
      if (this.client !== client) return;
      try {
        await client.ping({ timeout: timeoutMs });
      } catch {
        if (this.client === client)
          this.kill(`stopped answering (no ping answer within ${timeoutMs} ms)`);
        return;
      }
      this.schedulePing(client);
    }, intervalMs);
  }

  /** The command's last stderr line, cleaned and clipped. */
  private lastStderr(): string | undefined {
    const lines = this.stderr
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l !== '');
    const last = lines.at(-1);
    return last === undefined ? undefined : cleanText(last).slice(0, 300);
  }

  private withStderr(reason: string): string {
    const last = this.lastStderr();
    if (PASSWORD.test(this.stderr))
      return `${reason}: it asks for a password or a host-key confirmation, which the hub cannot answer; use a key (ssh-agent) and a known host${last ? ` (stderr: ${last})` : ''}`;
    return last ? `${reason}; its last stderr line: ${last}` : reason;
  }

  /** The command ended: drop the instances and retry later. */
  private async lost(child: ChildProcess, why: string): Promise<void> {
    // A command already dropped (refused, killed, or replaced by a newer attempt) is reported.
    if (this.child !== child) return;
    const reason = this.withStderr(why);
    await this.drop(reason);
    this.failed('unreachable', reason);
  }

  private kill(why: string): void {
    const reason = this.withStderr(why);
    void this.drop(reason).then(() => this.failed('unreachable', reason));
  }

  private refuse(why: string): void {
    void this.drop(why).then(() => this.failed('refused', why));
  }

  /** Ends the command, the client and every channel; removes this remote's instances. */
  private async drop(reason: string): Promise<void> {
    if (this.pingTimer !== undefined) this.clock.clearTimeout(this.pingTimer);
    this.pingTimer = undefined;
    const client = this.client;
    const child = this.child;
    this.client = undefined;
    this.child = undefined;
    for (const [channel, tunnel] of this.channels) {
      this.channels.delete(channel);
      tunnel.ended(`remote ${this.name}: ${reason}`);
    }
    for (const remoteId of [...this.shown.keys()]) this.hide(remoteId, reason);
    await client?.close().catch(() => undefined);
    if (child && child.exitCode === null && child.signalCode === null) {
      signalGroup(child.pid, 'SIGTERM');
      const killer = this.clock.setTimeout(() => signalGroup(child.pid, 'SIGKILL'), 2_000);
      child.once('exit', () => this.clock.clearTimeout(killer));
    }
  }

  private failed(state: 'unreachable' | 'refused', reason: string): void {
    if (this.closed) return;
    if (this.connectedAt > 0 && this.clock.now() - this.connectedAt >= STABLE_MS) this.attempt = 0;
    this.connectedAt = 0;
    this.setState(state, reason);
    this.endFirstAttempt();
    const { initialMs = 1_000, maxMs = 60_000 } = this.options.backoff ?? {};
    const ceiling = Math.min(maxMs, initialMs * 2 ** this.attempt++);
    const delay = Math.round(ceiling / 2 + (this.options.random ?? Math.random)() * (ceiling / 2));
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = this.clock.setTimeout(() => void this.attemptNow(), delay);
  }
}

const sleep = (clock: Clock, ms: number) =>
  new Promise<void>((resolve) => clock.setTimeout(resolve, ms));

/** Resolves with the connection once it is active; rejects on dead/removed, timeout or abort. */
function waitActive(
  manager: ConnectionManager,
  id: string,
  timeoutMs: number,
  clock: Clock,
  signal?: AbortSignal,
): Promise<ConnectionInfo> {
  return new Promise((resolve, reject) => {
    const now = manager.get(id);
    if (now?.state === 'active') return resolve(now);
    const done = (outcome: ConnectionInfo | Error) => {
      off();
      clock.clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (outcome instanceof Error) reject(outcome);
      else resolve(outcome);
    };
    const off = manager.onTransition((event) => {
      if (event.id !== id) return;
      if (event.to === 'active') done(event.info);
      else if (event.to === 'dead' || event.to === 'removed')
        done(new Error(`${event.info.record.name} is ${event.to}: ${event.reason ?? ''}`));
    });
    const timer = clock.setTimeout(
      () => done(new Error(`the remote instance did not become active within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const onAbort = () => done(new Error('cancelled'));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
