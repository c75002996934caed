import { PassThrough } from 'node:stream';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { CommandTransport, isNotMcp, MAX_LINE_LENGTH } from './command-transport.js';

async function open() {
  const stdout = new PassThrough();
  const stdin = new PassThrough();
  const transport = new CommandTransport(stdout, stdin);
  const messages: JSONRPCMessage[] = [];
  const errors: Error[] = [];
  let closed = 0;
  transport.onmessage = (m) => messages.push(m);
  transport.onerror = (e) => errors.push(e);
  transport.onclose = () => closed++;
  await transport.start();
  return { stdout, stdin, transport, messages, errors, closed: () => closed };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('CommandTransport', () => {
  it('reads one message per line, across chunks, and writes one per line', async () => {
    const t = await open();
    t.stdout.write('{"jsonrpc":"2.0","id":1,"res');
    t.stdout.write('ult":{}}\n\n{"jsonrpc":"2.0","method":"notifications/x"}\n');
    await tick();
    expect(t.messages).toEqual([
      { jsonrpc: '2.0', id: 1, result: {} },
      { jsonrpc: '2.0', method: 'notifications/x' },
    ]);
    const written: string[] = [];
    t.stdin.on('data', (c: Buffer) => written.push(c.toString()));
    await t.transport.send({ jsonrpc: '2.0', id: 2, method: 'ping' });
    expect(written.join('')).toBe('{"jsonrpc":"2.0","id":2,"method":"ping"}\n');
  });

  it('ends on output that is not JSON-RPC, saying what it was', async () => {
    const t = await open();
    t.stdout.write('Welcome to devbox!\n{"jsonrpc":"2.0","id":1,"result":{}}\n');
    await tick();
    expect(t.messages).toEqual([]);
    expect(t.errors).toHaveLength(1);
    expect(isNotMcp(t.errors[0]!)).toBe(true);
    expect(t.errors[0]!.message).toBe('not JSON-RPC on stdout: "Welcome to devbox!"');
    expect(t.closed()).toBe(1);
    await expect(t.transport.send({ jsonrpc: '2.0', id: 2, method: 'ping' })).rejects.toThrow(
      /exited/,
    );
  });

  it(`ends on a line longer than ${MAX_LINE_LENGTH} characters instead of holding it`, async () => {
    const t = await open();
    const chunk = 'x'.repeat(1024 * 1024);
    for (let i = 0; i <= MAX_LINE_LENGTH / chunk.length && t.closed() === 0; i++) {
      t.stdout.write(chunk);
      await tick();
    }
    expect(t.closed()).toBe(1);
    expect(t.errors[0]!.message).toMatch(/a line longer than/);
  });

  it('closes once when the command ends its output', async () => {
    const t = await open();
    t.stdout.end();
    await tick();
    await t.transport.close();
    expect(t.closed()).toBe(1);
    expect(t.errors).toEqual([]);
  });
});
