import { describe, expect, it } from 'vitest';
import { ChannelOutbox, FRAGMENT_CHARS, FragmentInbox, MAX_MESSAGE_CHARS } from './fragments.js';
import { METHODS } from './protocol.js';

interface Sent {
  method: string;
  params: Record<string, unknown>;
}

/** An outbox whose notifications are kept, each taking a turn of the event loop to "write". */
function outbox(fragments = true) {
  const sent: Sent[] = [];
  const box = new ChannelOutbox(
    async (method, params) => {
      sent.push({ method, params });
      await new Promise((resolve) => setImmediate(resolve));
    },
    () => fragments,
  );
  return { box, sent };
}

const big = (chars: number) => ({ jsonrpc: '2.0', id: 1, result: { text: 'x'.repeat(chars) } });

describe('ChannelOutbox', () => {
  it('sends a small message whole, and a large one in fragments that join back into it', async () => {
    const { box, sent } = outbox();
    await box.send(1, { jsonrpc: '2.0', method: 'ping' });
    expect(sent).toEqual([
      {
        method: METHODS.message,
        params: { channel: 1, message: { jsonrpc: '2.0', method: 'ping' } },
      },
    ]);
    sent.length = 0;
    const message = big(3 * FRAGMENT_CHARS);
    await box.send(2, message);
    expect(sent.every((s) => s.method === METHODS.fragment)).toBe(true);
    expect(sent).toHaveLength(Math.ceil(JSON.stringify(message).length / FRAGMENT_CHARS));
    expect(sent.map((s) => s.params.last)).toEqual([false, false, false, true]);
    const inbox = new FragmentInbox();
    const joined = sent.map((s) =>
      inbox.take(2, s.params.data as string, s.params.last as boolean),
    );
    expect(joined.at(-1)).toEqual({ kind: 'message', message });
    expect(joined.slice(0, -1).every((r) => r.kind === 'pending')).toBe(true);
  });

  it('lets small messages of any channel pass between the fragments, and keeps large ones of a channel in order', async () => {
    const { box, sent } = outbox();
    const first = box.send(1, big(2 * FRAGMENT_CHARS));
    const second = box.send(1, big(FRAGMENT_CHARS + 1));
    await new Promise((resolve) => setImmediate(resolve));
    const small = box.send(1, { jsonrpc: '2.0', id: 9, result: {} });
    const other = box.send(2, { jsonrpc: '2.0', method: 'notifications/progress' });
    await Promise.all([first, second, small, other]);
    const order = sent.map((s) =>
      s.method === METHODS.message ? `msg${s.params.channel}` : `frag${s.params.last ? '!' : ''}`,
    );
    // The small ones went before the first large message had finished.
    expect(order.indexOf('msg1')).toBeLessThan(order.indexOf('frag!'));
    expect(order.indexOf('msg2')).toBeLessThan(order.indexOf('frag!'));
    // The second large message began only after the first one's last fragment.
    expect(order.filter((o) => o.startsWith('frag'))).toEqual([
      'frag',
      'frag',
      'frag!',
      'frag',
      'frag!',
    ]);
  });

  it('sends a large message whole to a hub that takes no fragments, and refuses one over the bound', async () => {
    const { box, sent } = outbox(false);
    await box.send(1, big(2 * FRAGMENT_CHARS));
    expect(sent.map((s) => s.method)).toEqual([METHODS.message]);
    await expect(box.send(1, big(MAX_MESSAGE_CHARS))).rejects.toThrow(
      /over the \d+ a remote carries/,
    );
  });
});

describe('FragmentInbox', () => {
  it('refuses fragments that do not join into JSON, or grow past the bound, and forgets a dropped channel', () => {
    const inbox = new FragmentInbox();
    expect(inbox.take(1, '{"a":', true)).toMatchObject({ kind: 'refused' });
    const piece = 'x'.repeat(1024 * 1024);
    let last: ReturnType<FragmentInbox['take']> = { kind: 'pending' };
    for (let i = 0; i <= 64 && last.kind === 'pending'; i++) last = inbox.take(2, piece, false);
    expect(last).toMatchObject({ kind: 'refused', reason: expect.stringMatching(/over the/) });
    inbox.take(3, '{"a":', false);
    inbox.drop(3);
    expect(inbox.take(3, '{"b":1}', true)).toEqual({ kind: 'message', message: { b: 1 } });
  });
});
