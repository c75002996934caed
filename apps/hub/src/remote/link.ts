// One link's life, start to retry: run the command, handshake, check the identity, list the
// instances, ping, drop, back off. What it holds has files of its own: the child process
// (command.ts), the instances (remote-instances.ts), the channels (channels.ts).
import { backoffDelay, type ConnectionInfo } from '@mcp-beacon/connection-manager';
import { type Clock, cleanText, sleep, systemClock } from '@mcp-beacon/runtime';
import { Client, ProtocolError, SdkError, SdkErrorCode } from '@modelcontextprotocol/client';
import * as v from 'valibot';
import { ChannelTable } from './channels.js';
import { RemoteCommand } from './command.js';
import { CommandTransport, isNotMcp } from './command-transport.js';
import {
  InstancesResultSchema,
  METHODS,
  onNotification,
  REMOTE_CAPABILITY,
  REMOTE_OFFER,
  type RemoteInstance,
  RemoteInstanceSchema,
  remoteHubOf,
  StartResultSchema,
  takesFragments,
} from './protocol.js';
import { RemoteInstances } from './remote-instances.js';
import type { RemoteInfo, RemoteLinkOptions, RemoteState } from './types.js';
import { waitActive } from './wait-active.js';

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
  private command: RemoteCommand | undefined;
  private client: Client | undefined;
  /** Commands dropped but not exited yet (SIGTERM sent, SIGKILL due 2 s later). */
  private readonly dying = new Set<Promise<void>>();
  private attempt = 0;
  private connectedAt = 0;
  private timer: unknown;
  private pingTimer: unknown;
  private closed = false;
  private readonly channels: ChannelTable;
  private readonly listed: RemoteInstances;
  private readonly clock: Clock;
  private endFirstAttempt: () => void = () => undefined;
  /**
   * Resolves once the first attempt has ended: failed, or connected with its instances listed
   * and their own first connection attempts over.
   */
  readonly firstAttemptEnded = new Promise<void>((resolve) => {
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
    this.listed = new RemoteInstances({
      remote: options.spec.name,
      manager: options.manager,
      host: this.channels,
      clock: this.clock,
      addToManager: options.addToManager !== false,
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
      instances: this.listed.size,
      hub: this.hub,
    };
  }

  /** The remote's instances as it last described them, with their local ids. */
  instances(): Array<RemoteInstance & { localId: string }> {
    return this.listed.instances();
  }

  /** Starts the first attempt. */
  start(): void {
    if (!this.closed && this.command === undefined && this.timer === undefined)
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
      v.looseObject({}),
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
    const id = this.listed.show(instance.output);
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
    await Promise.race([Promise.all(this.dying), sleep(this.clock, 500 + CLOSE_GRACE_MS)]);
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
    const command = RemoteCommand.run(this.options.spec.command, this.clock);
    if (!(command instanceof RemoteCommand)) return this.failed('unreachable', command.error);
    this.command = command;
    void command.ended.then((why) => this.lost(command, why));

    const transport = new CommandTransport(command.stdout, command.stdin);
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
      if (this.command !== command) return; // already reported as lost
      // Something answered, but not as a hub: its stdout is not MCP, or it refused initialize.
      const answered = error instanceof ProtocolError;
      if (notMcp !== undefined || answered) {
        await client.close().catch(() => undefined);
        return this.refuse(
          `not a Beacon hub: ${cleanText(notMcp ?? `initialize failed: ${(error as Error).message}`)}`,
        );
      }
      // A command that is exiting often fails the handshake first (a closed pipe): give its
      // exit a moment to arrive, so it is reported as what it is, with its stderr.
      await Promise.race([command.exited, sleep(this.clock, 1_000)]);
      await client.close().catch(() => undefined);
      if (command.hasExited || this.command !== command) return; // `lost` reports it
      if (error instanceof SdkError && error.code === SdkErrorCode.RequestTimeout)
        return this.dropAndRetry(
          `no MCP answer within ${this.options.handshakeTimeoutMs ?? 20_000} ms`,
        );
      return this.dropAndRetry(`the MCP handshake failed: ${cleanText((error as Error).message)}`);
    }
    if (this.closed || this.command !== command) {
      await client.close().catch(() => undefined);
      return; // closed, or the command ended meanwhile (reported as lost)
    }
    const { hub, refusal } = remoteHubOf(client);
    this.hub = hub;
    if (refusal) {
      await client.close().catch(() => undefined);
      return this.refuse(refusal);
    }
    this.client = client;
    this.connectedAt = this.clock.now();
    let listed: unknown;
    try {
      listed = await client.request({ method: METHODS.instances }, v.looseObject({}), {
        timeout: 10_000,
      });
    } catch (error) {
      if (this.client !== client) return; // dropped meanwhile, and reported
      return this.dropAndRetry(`cannot list its instances: ${cleanText((error as Error).message)}`);
    }
    if (this.client !== client) return;
    const parsed = v.safeParse(InstancesResultSchema, listed);
    if (!parsed.success) return this.refuse('answered beacon/instances with something else');
    this.setState('connected');
    this.listed.replaceAll(parsed.output.instances);
    this.schedulePing(client);
    await this.options.manager.whenFirstAttemptsDone(this.listed.localIds());
    this.endFirstAttempt();
  }

  private installHandlers(client: Client): void {
    const { channels } = this;
    onNotification(client, METHODS.message, (p) => channels.delivered(p.channel, p.message));
    onNotification(client, METHODS.fragment, (p) => channels.fragment(p.channel, p.data, p.last));
    onNotification(client, METHODS.close, (p) => channels.closedByRemote(p.channel, p.reason));
    onNotification(client, METHODS.instance, (params) => {
      if (this.client === client) this.listed.change(params);
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
          this.dropAndRetry(`stopped answering (no ping answer within ${timeoutMs} ms)`);
        return;
      }
      this.schedulePing(client);
    }, intervalMs);
  }

  /** The command ended (`reason` says why, with its stderr): drop the instances, retry later. */
  private async lost(command: RemoteCommand, reason: string): Promise<void> {
    // A command already dropped (refused, dropped, or replaced by a newer attempt) is reported.
    if (this.command !== command) return;
    await this.drop(reason);
    this.failed('unreachable', reason);
  }

  /** The remote hub is unusable (`why`): ends the command and retries with backoff. */
  private dropAndRetry(why: string): void {
    const reason = this.command?.explain(why) ?? why;
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
    const command = this.command;
    this.client = undefined;
    this.command = undefined;
    this.channels.endAll(reason);
    this.listed.hideAll(reason);
    await client?.close().catch(() => undefined);
    if (command) {
      const stopped = command.stop(killAfterMs, this.clock);
      this.dying.add(stopped);
      void stopped.then(() => this.dying.delete(stopped));
    }
  }

  private failed(state: 'unreachable' | 'refused', reason: string): void {
    if (this.closed) return;
    if (this.connectedAt > 0 && this.clock.now() - this.connectedAt >= STABLE_MS) this.attempt = 0;
    this.connectedAt = 0;
    this.setState(state, reason);
    this.endFirstAttempt();
    const backoff = { initialMs: 1_000, maxMs: 60_000, ...this.options.backoff };
    const delay = backoffDelay(this.attempt++, backoff, this.options.random);
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = this.clock.setTimeout(() => void this.attemptNow(), delay);
  }
}
