import { AsyncResource } from 'node:async_hooks';
import type { CallToolResult } from '@modelcontextprotocol/client';
import { describe, expect, it } from 'vitest';
import type { Forwarder, ToolExtra } from '../calls/forward.js';
import { type CallCounter, callingSession, scopedForwarder } from './scope.js';

interface TestSession extends CallCounter {
  readonly name: string;
  /** Every `calling` call, in order. */
  readonly counted: Array<[string, 1 | -1]>;
  /** Running calls per instance, as the counts say. */
  running(instance: string): number;
}

function testSession(name: string): TestSession {
  const counted: Array<[string, 1 | -1]> = [];
  return {
    name,
    counted,
    calling: (instance, delta) => void counted.push([instance, delta]),
    running: (instance) =>
      counted.reduce((sum, [id, delta]) => (id === instance ? sum + delta : sum), 0),
  };
}

const extra: ToolExtra = {
  signal: new AbortController().signal,
  sendNotification: async () => undefined,
};

const text = (value: string): CallToolResult => ({ content: [{ type: 'text', text: value }] });

/** An inner forwarder whose every request runs `body` (given the instance id). */
function innerRunning(body: (id: string) => Promise<unknown>): Forwarder {
  return {
    callTool: async (id) => text(String(await body(id))),
    request: async (id) => ({ seen: await body(id) }),
  };
}

const seenBy = () => callingSession<TestSession>('i1')?.name;

describe('callingSession within scopedForwarder', () => {
  it('is the calling session during the request, after awaits and in a timer it set', async () => {
    const a = testSession('a');
    const seen: Array<string | undefined> = [];
    const forwarder = scopedForwarder(
      innerRunning(async () => {
        seen.push(seenBy());
        await Promise.resolve();
        seen.push(seenBy());
        await new Promise<void>((resolve) => setImmediate(resolve));
        seen.push(seenBy());
        seen.push(
          await new Promise<string | undefined>((resolve) =>
            setTimeout(() => resolve(seenBy()), 1),
          ),
        );
        return 'done';
      }),
      a,
    );
    expect(await forwarder.callTool('i1', 'tool', {}, extra)).toEqual(text('done'));
    expect(seen).toEqual(['a', 'a', 'a', 'a']);
    expect(await forwarder.request('i1', 'resources/read', { uri: 'u' }, extra)).toEqual({
      seen: 'done',
    });
    expect(seen).toEqual(['a', 'a', 'a', 'a', 'a', 'a', 'a', 'a']);
  });

  it('is undefined for another instance, and outside any request', async () => {
    const a = testSession('a');
    const forwarder = scopedForwarder(
      innerRunning(async () => callingSession<TestSession>('i2')?.name ?? 'nobody'),
      a,
    );
    expect(await forwarder.callTool('i1', 'tool', {}, extra)).toEqual(text('nobody'));
    expect(seenBy()).toBeUndefined();
  });

  it('tells concurrent requests of two sessions on one instance apart', async () => {
    const a = testSession('a');
    const b = testSession('b');
    // Each request waits until both run, so their continuations interleave.
    let arrived = 0;
    let bothRunning!: () => void;
    const both = new Promise<void>((resolve) => {
      bothRunning = resolve;
    });
    const inner = innerRunning(async () => {
      if (++arrived === 2) bothRunning();
      await both;
      return seenBy();
    });
    const [fromA, fromB] = await Promise.all([
      scopedForwarder(inner, a).callTool('i1', 'tool', {}, extra),
      scopedForwarder(inner, b).request('i1', 'resources/read', {}, extra),
    ]);
    expect(fromA).toEqual(text('a'));
    expect(fromB).toEqual({ seen: 'b' });
  });

  it('is undefined, once the request ended, in what the request left behind', async () => {
    const a = testSession('a');
    let captured!: () => string | undefined;
    let late!: Promise<string | undefined>;
    const forwarder = scopedForwarder(
      innerRunning(async () => {
        captured = AsyncResource.bind(seenBy);
        let release!: () => void;
        const released = new Promise<void>((resolve) => {
          release = resolve;
        });
        // A timer set during the request that fires after it ended.
        late = released.then(
          () => new Promise((resolve) => setTimeout(() => resolve(seenBy()), 1)),
        );
        queueMicrotask(release);
        return captured();
      }),
      a,
    );
    expect(await forwarder.callTool('i1', 'tool', {}, extra)).toEqual(text('a'));
    expect(captured()).toBeUndefined();
    expect(await late).toBeUndefined();
  });

  it('passes the request and its answer through unchanged', async () => {
    const a = testSession('a');
    const calls: unknown[] = [];
    const inner: Forwarder = {
      callTool: async (...args) => {
        calls.push(['callTool', ...args]);
        return text('tool answer');
      },
      request: async (...args) => {
        calls.push(['request', ...args]);
        return { contents: [] };
      },
    };
    const forwarder = scopedForwarder(inner, a);
    expect(await forwarder.callTool('i1', 'tool', { n: 1 }, extra)).toEqual(text('tool answer'));
    expect(await forwarder.request('i2', 'resources/read', { uri: 'u' }, extra)).toEqual({
      contents: [],
    });
    expect(calls).toEqual([
      ['callTool', 'i1', 'tool', { n: 1 }, extra],
      ['request', 'i2', 'resources/read', { uri: 'u' }, extra],
    ]);
  });
});

describe('scopedForwarder counts running requests', () => {
  it('counts a request as running from before the instance is asked until it answered', async () => {
    const a = testSession('a');
    const during: number[] = [];
    const forwarder = scopedForwarder(
      innerRunning(async (id) => {
        during.push(a.running(id));
        return 'ok';
      }),
      a,
    );
    await forwarder.callTool('i1', 'tool', {}, extra);
    await forwarder.request('i2', 'prompts/get', {}, extra);
    expect(during).toEqual([1, 1]);
    expect(a.counted).toEqual([
      ['i1', 1],
      ['i1', -1],
      ['i2', 1],
      ['i2', -1],
    ]);
  });

  it('counts a request that failed, or threw before its promise, as ended', async () => {
    const a = testSession('a');
    const rejecting: Forwarder = {
      callTool: async () => {
        throw new Error('tool broke');
      },
      request: () => {
        throw new Error('thrown at once');
      },
    };
    const forwarder = scopedForwarder(rejecting, a);
    await expect(forwarder.callTool('i1', 'tool', {}, extra)).rejects.toThrow('tool broke');
    await expect(forwarder.request('i1', 'resources/read', {}, extra)).rejects.toThrow(
      'thrown at once',
    );
    expect(a.counted).toEqual([
      ['i1', 1],
      ['i1', -1],
      ['i1', 1],
      ['i1', -1],
    ]);
    expect(a.running('i1')).toBe(0);
  });

  it('ends the scope of a failed request too', async () => {
    const a = testSession('a');
    let captured!: () => string | undefined;
    const forwarder = scopedForwarder(
      innerRunning(async () => {
        captured = AsyncResource.bind(seenBy);
        throw new Error('no');
      }),
      a,
    );
    await expect(forwarder.request('i1', 'resources/read', {}, extra)).rejects.toThrow('no');
    expect(captured()).toBeUndefined();
  });
});
