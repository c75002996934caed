import { cleanText } from '@mcp-beacon/runtime';
import { type Client, type JSONRPCMessage, specTypeSchemas } from '@modelcontextprotocol/client';
import { ChannelOutbox, FragmentInbox } from './fragments.js';
import { MAX_CHANNELS, METHODS } from './protocol.js';
import type { ChannelHost, TunnelTransport } from './tunnel.js';

/**
 * The open channels of one remote's link: one per connection to a remote instance, each
 * carrying that connection's MCP session as `notifications/beacon/message`. At most
 * {@link MAX_CHANNELS} are open at once.
 */
export class ChannelTable implements ChannelHost {
  private next = 1;
  private readonly tunnels = new Map<number, TunnelTransport>();
  private readonly outbox: ChannelOutbox;
  private readonly inbox = new FragmentInbox();

  /**
   * @param remote The remote's name, for messages.
   * @param client The link's client while it is connected, else undefined.
   * @param fragments Whether the remote hub takes fragments (its capability says so).
   */
  constructor(
    private readonly remote: string,
    private readonly client: () => Client | undefined,
    fragments: () => boolean = () => false,
  ) {
    this.outbox = new ChannelOutbox(async (method, params) => {
      const live = this.client();
      if (!live) throw new Error('the tunnel is closed');
      await live.notification({ method, params });
    }, fragments);
  }

  async open(instance: string, tunnel: TunnelTransport): Promise<number> {
    const client = this.client();
    if (!client) throw new Error(`remote ${this.remote} is not connected`);
    if (this.tunnels.size >= MAX_CHANNELS)
      throw new Error(`remote ${this.remote} has ${MAX_CHANNELS} channels open`);
    const channel = this.next++;
    this.tunnels.set(channel, tunnel);
    try {
      await client.request(
        { method: METHODS.open, params: { channel, instance } },
        specTypeSchemas.EmptyResult,
        { timeout: 10_000 },
      );
    } catch (error) {
      this.tunnels.delete(channel);
      // A remote hub on an older SDK may have prefixed its message once or more.
      const message = (error as Error).message.replace(/^(MCP error -?\d+: )+/, '');
      throw new Error(`remote ${this.remote}: ${cleanText(message)}`);
    }
    return channel;
  }

  async send(channel: number, message: JSONRPCMessage): Promise<void> {
    const client = this.client();
    if (!client || !this.tunnels.has(channel)) throw new Error('the tunnel is closed');
    await this.outbox.send(channel, message);
  }

  closeChannel(channel: number): void {
    this.inbox.drop(channel);
    if (!this.tunnels.delete(channel)) return;
    void this.client()
      ?.notification({ method: METHODS.close, params: { channel } })
      .catch(() => undefined);
  }

  /** A message of a channel arrived from the remote hub. */
  delivered(channel: number, message: unknown): void {
    const tunnel = this.tunnels.get(channel);
    const parsed = specTypeSchemas.JSONRPCMessage['~standard'].validate(message);
    if (tunnel && parsed.issues === undefined) tunnel.deliver(parsed.value);
  }

  /** A fragment of a channel's message arrived from the remote hub. */
  fragment(channel: number, data: string, last: boolean): void {
    if (!this.tunnels.has(channel)) return;
    const taken = this.inbox.take(channel, data, last);
    if (taken.kind === 'message') this.delivered(channel, taken.message);
    else if (taken.kind === 'refused') {
      const tunnel = this.tunnels.get(channel);
      this.closeChannel(channel);
      tunnel?.ended(`remote ${this.remote}: ${taken.reason}`);
    }
  }

  /** The remote hub closed a channel. */
  closedByRemote(channel: number, reason: string | undefined): void {
    this.inbox.drop(channel);
    const tunnel = this.tunnels.get(channel);
    if (!tunnel) return;
    this.tunnels.delete(channel);
    tunnel.ended(reason ? `remote ${this.remote}: ${cleanText(reason)}` : undefined);
  }

  /** The link dropped: every channel ends with `reason`. */
  endAll(reason: string): void {
    this.inbox.clear();
    for (const [channel, tunnel] of this.tunnels) {
      this.tunnels.delete(channel);
      tunnel.ended(`remote ${this.remote}: ${reason}`);
    }
  }
}
