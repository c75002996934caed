import type { JSONRPCMessage, Transport } from '@modelcontextprotocol/client';

/** What a tunnel needs of its remote link. */
export interface ChannelHost {
  /** Opens a channel to the remote instance; rejects when the remote refuses. */
  open(instance: string, tunnel: TunnelTransport): Promise<number>;
  send(channel: number, message: JSONRPCMessage): Promise<void>;
  closeChannel(channel: number): void;
}

/**
 * One MCP session to a remote instance, carried as a channel of the remote's link: to the
 * local connection it is a transport like any other. It closes when the remote closes the
 * channel, when the link drops, or when the connection closes it.
 */
export class TunnelTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  private channel: number | undefined;
  private closed = false;

  constructor(
    private readonly host: ChannelHost,
    /** The instance's id on the remote. */
    readonly instance: string,
  ) {}

  async start(): Promise<void> {
    this.channel = await this.host.open(this.instance, this);
    if (this.closed) this.host.closeChannel(this.channel);
  }

  async send(message: JSONRPCMessage): Promise<void> {
    if (this.closed || this.channel === undefined) throw new Error('the tunnel is closed');
    await this.host.send(this.channel, message);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    if (this.channel !== undefined) this.host.closeChannel(this.channel);
    this.ended();
  }

  /** A message of this channel arrived from the remote. */
  deliver(message: JSONRPCMessage): void {
    if (!this.closed) this.onmessage?.(message);
  }

  /** The remote (or the link) ended the channel. */
  ended(reason?: string): void {
    if (this.closed) return;
    this.closed = true;
    if (reason) this.onerror?.(new Error(reason));
    this.onclose?.();
  }
}
