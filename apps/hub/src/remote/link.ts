// Over 300 lines on purpose: one link's life, start to retry (spawn, handshake, identity, listing,
// pings, drop, backoff), reads best in one class. What it holds has files of its own: the
// instances (mirror.ts), the channels (channels.ts), the stderr (stderr-tail.ts).
import { type ChildProcess, spawn } from 'node:child_process';
import type { ConnectionInfo } from '@mcp-beacon/connection-manager';
import { type Clock, cleanText, signalGroup, sleep, systemClock } from '@mcp-beacon/registry';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import * as v from 'valibot';
import { z } from 'zod';
import { ChannelTable } from './channels.js';
import { CommandTransport, isNotMcp } from './command-transport.js';
import { RemoteMirror } from './mirror.js';
import {
  InstancesResultSchema,
  METHODS,
  REMOTE_CAPABILITY,
  REMOTE_OFFER,
  REMOTE_PROTOCOL_VERSION,
  type RemoteInstance,
  RemoteInstanceSchema,
  StartResultSchema,
  takesFragments,
  zCloseNotification,
  zFragmentNotification,
  zInstanceNotification,
  zMessageNotification,
} from './protocol.js';
import { StderrTail } from './stderr-tail.js';
import type { RemoteInfo, RemoteLinkOptions, RemoteState } from './types.js';
import { waitActive } from './wait-active.js';

/** Longest wait for a command's stderr to end after it exited, in ms. */
const STDERR_DRAIN_MS = 1_000;
/** Longest wait in `close()` for commands that were SIGKILLed, past the kill, in ms. */
const CLOSE_GRACE_MS = 1_000;

/** A link that stayed up this long starts its next backoff from the beginning. */
const STABLE_MS = 30_000;

/**
 * One remote: runs its command (in a session of its own, so nothing it runs can read the
 * hub's terminal), speaks MCP to the hub at the other end over the command's stdio, and
 * shows that hub's instances in the local manager as `<remote>/<name>`, each reached through
 * a channel of this link. A command that exits, hangs or answers as something else is a
 * state (`unreachable`, `refused`), retried with capped backoff; its instances leave the
 * lists until it is back. No port is opened on either side, and instance tokens stay there.
 */
export class RemoteLink {
  private state: RemoteState = 'connecting';
  private reason: string | undefined;
  private since: number;
  private hub: { name: string; version: string } | undefined;
  private child: ChildProcess | undefined;
  private client: Client | undefined;
  private readonly stderr = new StderrTail();
  /** Commands dropped but not exited yet (SIGTERM sent, SIGKILL due 2 s later). */
  private readonly dying = new Set<ChildProcess>();
  private attempt = 0;
  private connectedAt = 0;
  private timer: unknown;
  private pingTimer: unknown;
  private closed = false;
  private readonly channels: ChannelTable;
  private readonly mirror: RemoteMirror;
  private readonly clock: Clock;
  private endFirstAttempt: () => void = () => undefined;
  /** Resolves once the first attempt has ended (connected with its instances listed, or failed). */
  readonly firstAttempt = new Promise<void>((resolve) => {
    this.endFirstAttempt = resolve;
  });

  constructor(private readonly options: RemoteLinkOptions) {
    this.clock = options.clock ?? systemClock;
    this.since = this.clock.now();
    this.channels = new ChannelTable(
      options.spec.name,
      () => (this.state === 'connected' ? this.client : undefined),
      () => takesFragments(this.client?.getServerCapabilities()?.experimental?.[REMOTE_CAPABILITY]),
    );
    this.mirror = new RemoteMirror({
      remote: options.spec.name,
      manager: options.manager,
      host: this.channels,
      clock: this.clock,
      mirror: options.mirror !== false,
      onChange: () => this.options.onChange?.(this.info()),
      ...(options.log ? { log: options.log } : {}),
    });
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
      instances: this.mirror.size,
      hub: this.hub,
    };
  }

  /** The remote's instances as it last described them, with their local ids. */
  instances(): Array<RemoteInstance & { localId: string }> {
    return this.mirror.instances();
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
    // An answer that arrives after the link dropped shows nothing: it would stay as a ghost.
    if (this.client !== client || this.state !== 'connected')
      throw new Error(`remote ${this.name} dropped before the instance could be shown`);
    const id = this.mirror.show(instance.output);
    if (id === undefined) throw new Error(`remote ${this.name} has too many instances`);
    const info = await waitActive(this.options.manager, id, {
      timeoutMs: options.timeoutMs ?? 20_000,
      clock: this.clock,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    return { info, started: parsed.output.started };
  }

  /**
   * Ends the command (SIGTERM to its group, SIGKILL 0.5 s later) and waits until every command
   * this link ran has exited, at most 1.5 s.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    // The hub is exiting: a command gets half a second after SIGTERM, not two.
    await this.drop('the hub is closing', { killAfterMs: 500 });
    // Every command this link ran is gone before it says it is closed, a hung one too (it was
    // SIGKILLed at 0.5 s); one that still has not exited a second later is given up on.
    const exited = Promise.all(
      [...this.dying].map(
        (child) => new Promise<void>((resolve) => child.once('exit', () => resolve())),
      ),
    );
    await Promise.race([exited, sleep(this.clock, 500 + CLOSE_GRACE_MS)]);
    this.endFirstAttempt();
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
    this.stderr.clear();
    let child: ChildProcess;
    try {
      child = spawn(file, args, {
        stdio: ['pipe', 'pipe', 'pipe'],
        detached: true,
        windowsHide: true,
      });
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
    // The reason is built once the command's stderr is read to its end ('close'), so its last
    // line (`Permission denied (publickey).`) is in it; a grandchild holding stderr open gets
    // a second.
    const drained = new Promise<void>((resolve) => child.once('close', () => resolve()));
    child.once('exit', (code, signal) => {
      exited ??= `the command exited (${signal ?? `code ${code}`})`;
      markExited();
      const why = exited;
      void Promise.race([drained, sleep(this.clock, STDERR_DRAIN_MS)]).then(() =>
        this.lost(child, why),
      );
    });
    child.stderr?.setEncoding('utf8').on('data', (text: string) => this.stderr.add(text));
    child.stdin?.on('error', () => undefined);

    const transport = new CommandTransport(child.stdout!, child.stdin!);
    let notMcp: string | undefined;
    transport.onerror = (error) => {
      if (isNotMcp(error)) notMcp ??= error.message;
    };
    const client = new Client(this.options.clientInfo, {
      capabilities: { experimental: { [REMOTE_CAPABILITY]: REMOTE_OFFER } },
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
    if (this.closed || this.child !== child) {
      await client.close().catch(() => undefined);
      return; // closed, or the command ended meanwhile (reported as lost)
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
      if (this.client !== client) return; // dropped meanwhile, and reported
      return this.kill(`cannot list its instances: ${cleanText((error as Error).message)}`);
    }
    if (this.client !== client) return;
    const parsed = v.safeParse(InstancesResultSchema, listed);
    if (!parsed.success) return this.refuse('answered beacon/instances with something else');
    this.setState('connected');
    this.mirror.replaceAll(parsed.output.instances);
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
    client.setNotificationHandler(zMessageNotification, async ({ params }) =>
      this.channels.delivered(params.channel, params.message),
    );
    client.setNotificationHandler(zFragmentNotification, async ({ params }) =>
      this.channels.fragment(params.channel, params.data, params.last),
    );
    client.setNotificationHandler(zCloseNotification, async ({ params }) =>
      this.channels.closedByRemote(params.channel, params.reason),
    );
    client.setNotificationHandler(zInstanceNotification, async ({ params }) => {
      if (this.client === client) this.mirror.change(params);
    });
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

  /** The command ended: drop the instances and retry later. */
  private async lost(child: ChildProcess, why: string): Promise<void> {
    // A command already dropped (refused, killed, or replaced by a newer attempt) is reported.
    if (this.child !== child) return;
    const reason = this.stderr.explain(why);
    await this.drop(reason);
    this.failed('unreachable', reason);
  }

  private kill(why: string): void {
    const reason = this.stderr.explain(why);
    void this.drop(reason).then(() => this.failed('unreachable', reason));
  }

  private refuse(why: string): void {
    void this.drop(why).then(() => this.failed('refused', why));
  }

  /**
   * Ends the command (SIGTERM to its group, SIGKILL `killAfterMs` later, default 2 s), the
   * client and every channel; removes this remote's instances.
   */
  private async drop(reason: string, { killAfterMs = 2_000 } = {}): Promise<void> {
    if (this.pingTimer !== undefined) this.clock.clearTimeout(this.pingTimer);
    this.pingTimer = undefined;
    const client = this.client;
    const child = this.child;
    this.client = undefined;
    this.child = undefined;
    this.channels.endAll(reason);
    this.mirror.hideAll(reason);
    await client?.close().catch(() => undefined);
    if (child && child.exitCode === null && child.signalCode === null) {
      this.dying.add(child);
      signalGroup(child.pid, 'SIGTERM');
      const killer = this.clock.setTimeout(() => signalGroup(child.pid, 'SIGKILL'), killAfterMs);
      child.once('exit', () => {
        this.clock.clearTimeout(killer);
        this.dying.delete(child);
      });
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
