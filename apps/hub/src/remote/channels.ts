import { cleanText } from '@mcp-beacon/registry';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  EmptyResultSchema,
  type JSONRPCMessage,
  JSONRPCMessageSchema,
} from '@modelcontextprotocol/sdk/types.js';
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

  /**
   * @param remote The remote's name, for messages.
   * @param client The link's client while it is connected, else undefined.
   */
  constructor(
    private readonly remote: string,
    private readonly client: () => Client | undefined,
  ) {}

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
        EmptyResultSchema,
        { timeout: 10_000 },
      );
    } catch (error) {
      this.tunnels.delete(channel);
      const message = (error as Error).message.replace(/^(MCP error -?\d+: )+/, '');
      throw new Error(`remote ${this.remote}: ${cleanText(message)}`);
    }
    return channel;
  }

  async send(channel: number, message: JSONRPCMessage): Promise<void> {
    const client = this.client();
    if (!client || !this.tunnels.has(channel)) throw new Error('the tunnel is closed');
    await client.notification({ method: METHODS.message, params: { channel, message } });
  }

  closeChannel(channel: number): void {
    if (!this.tunnels.delete(channel)) return;
    void this.client()
      ?.notification({ method: METHODS.close, params: { channel } })
      .catch(() => undefined);
  }

  /** A message of a channel arrived from the remote hub. */
  delivered(channel: number, message: unknown): void {
    const tunnel = this.tunnels.get(channel);
    const parsed = JSONRPCMessageSchema.safeParse(message);
    if (tunnel && parsed.success) tunnel.deliver(parsed.data);
  }

  /** The remote hub closed a channel. */
  closedByRemote(channel: number, reason: string | undefined): void {
    const tunnel = this.tunnels.get(channel);
    if (!tunnel) return;
    this.tunnels.delete(channel);
    tunnel.ended(reason ? `remote ${this.remote}: ${cleanText(reason)}` : undefined);
  }

  /** The link dropped: every channel ends with `reason`. */
  endAll(reason: string): void {
    for (const [channel, tunnel] of this.tunnels) {
      this.tunnels.delete(channel);
      tunnel.ended(`remote ${this.remote}: ${reason}`);
    }
  }
}
