// The server's event stream as part of a connection's health: why a connection without it is
// degraded, and when an answered ping reopens it.
import type { Transport } from '@modelcontextprotocol/client';
import { HttpClientTransport } from './http-transport.js';

/** Why an active connection over `transport` is not whole, or undefined when it is. */
export function degradedReason(transport: Transport | undefined): string | undefined {
  const stream = transport instanceof HttpClientTransport ? transport.eventStream : undefined;
  if (stream?.state !== 'lost' || stream.failures === 0) return undefined;
  const reopens = `${stream.failures} reopen${stream.failures === 1 ? '' : 's'}`;
  return `event stream lost, ${reopens} failed (${stream.reason}); notifications from this instance are not arriving`;
}

/**
 * Reopens a lost event stream on the 1st, 2nd, 4th, 8th... answered ping since the loss (the
 * transport's own schedule goes on beside).
 */
export class StreamReopener {
  private pingsWithoutStream = 0;

  /** An answered ping over `transport`. */
  answered(transport: Transport | undefined): void {
    if (!(transport instanceof HttpClientTransport)) return;
    if (transport.eventStream?.state !== 'lost') {
      this.pingsWithoutStream = 0;
      return;
    }
    const n = ++this.pingsWithoutStream;
    if ((n & (n - 1)) === 0) transport.reopenEventStream();
  }
}
