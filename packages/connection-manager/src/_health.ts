// The health check of an active connection: a ping every interval, a miss counted on timeout,
// and a failure after so many misses in a row (or at once on any other error).
import type { Client } from '@modelcontextprotocol/client';
import { SdkError, SdkErrorCode } from '@modelcontextprotocol/client';
import { describeError } from './errors.js';
import type { ConnectionDeps } from './types.js';

const isTimeout = (error: unknown): boolean =>
  error instanceof SdkError && error.code === SdkErrorCode.RequestTimeout;

/** What the health check needs of its connection; `generation` tells a stale step. */
export interface HealthHost {
  readonly deps: Pick<ConnectionDeps, 'clock' | 'ping'>;
  /** Whether `generation` is the connection's current one. */
  current(generation: number): boolean;
  active(): boolean;
  client(): Client | undefined;
  /** Removes the connection if its process is gone; true when it did. */
  removeIfDead(): Promise<boolean>;
  fail(reason: string, generation: number): Promise<void>;
  /** A ping was answered. */
  answered(): void;
}

/** Pings one connection while it is active; {@link stop} on every change of generation. */
export class HealthCheck {
  private misses = 0;
  private timer: unknown;
  private checking = false;

  constructor(private readonly host: HealthHost) {}

  /** Starts pinging a connection that just became active. */
  start(generation: number): void {
    this.misses = 0;
    this.schedule(generation);
  }

  stop(): void {
    if (this.timer !== undefined) this.host.deps.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** A transport error (or a failed refetch, `why`): check the process and ping now. */
  checkSoon(generation: number, connecting: boolean, why?: string): void {
    if (this.checking || !this.host.current(generation)) return;
    if (connecting && why === undefined) return;
    this.checking = true;
    void (async () => {
      try {
        if (await this.host.removeIfDead()) return;
        if (this.host.active()) await this.ping(generation);
      } finally {
        this.checking = false;
      }
    })();
  }

  private schedule(generation: number): void {
    const { clock, ping } = this.host.deps;
    this.timer = clock.setTimeout(() => void this.pingOnce(generation), ping.intervalMs);
  }

  private async pingOnce(generation: number): Promise<void> {
    const live = () => this.host.current(generation) && this.host.active();
    if (!live()) return;
    if (await this.host.removeIfDead()) return;
    const ok = await this.ping(generation);
    if (ok) this.host.answered();
    if (ok !== undefined && live()) this.schedule(generation);
  }

  /** Pings once; true/false for answered/missed, undefined once the connection failed. */
  private async ping(generation: number): Promise<boolean | undefined> {
    const client = this.host.client();
    if (!client) return undefined;
    const { ping } = this.host.deps;
    try {
      // 2026-07-28 has no ping: every server of that revision answers server/discover.
      if (client.getProtocolEra() === 'modern') await client.discover({ timeout: ping.timeoutMs });
      else await client.ping({ timeout: ping.timeoutMs });
      this.misses = 0;
      return true;
    } catch (error) {
      if (!this.host.current(generation)) return undefined;
      if (isTimeout(error) && ++this.misses < ping.misses) return false;
      const reason = isTimeout(error) ? `${this.misses} pings unanswered` : describeError(error);
      await this.host.fail(reason, generation);
      return undefined;
    }
  }
}
