import { manualClock } from '@mcp-beacon/test-utils';
import type { CallToolResult, Result } from '@modelcontextprotocol/server';
import { describe, expect, it } from 'vitest';
import { InputRelay, MAX_PARKED_CALLS, PARKED_CALL_MS } from './input-relay.js';

const ELICIT = {
  method: 'elicitation/create',
  params: { mode: 'form', message: '[web] ok?', requestedSchema: { type: 'object' } },
} as const;
const CAN_ELICIT = { elicitation: {} };

/** A call on an instance that asks once, then answers with what it was told. */
function askingCall(relay: InputRelay, instance = 'web') {
  let aborted: unknown;
  const start = (signal: AbortSignal) =>
    new Promise<CallToolResult>((resolve, reject) => {
      signal.addEventListener('abort', () => {
        aborted = signal.reason;
        reject(new Error('aborted'));
      });
      queueMicrotask(() => {
        const answer = relay.ask(instance, ELICIT);
        if (typeof answer === 'string') return reject(new Error(answer));
        answer.then(
          (result: Result) =>
            resolve({ content: [{ type: 'text', text: `told ${JSON.stringify(result)}` }] }),
          reject,
        );
      });
    });
  return { start, aborted: () => aborted };
}

const signal = () => new AbortController().signal;

describe('InputRelay', () => {
  it('returns an ask as input_required and carries the answer back to the instance', async () => {
    const relay = new InputRelay(manualClock());
    const call = askingCall(relay);
    const first = await relay.run('web', call.start, signal(), CAN_ELICIT);
    expect(first).toMatchObject({
      resultType: 'input_required',
      inputRequests: { ask1: ELICIT },
      requestState: expect.any(String),
    });
    const state = (first as { requestState: string }).requestState;
    const done = await relay.resume(
      state,
      { ask1: { action: 'accept', content: { ok: true } } },
      signal(),
    );
    expect(done).toEqual({
      content: [{ type: 'text', text: 'told {"action":"accept","content":{"ok":true}}' }],
    });
    // A state is good once.
    expect(await relay.resume(state, {}, signal())).toMatchObject({
      isError: true,
      content: [{ text: expect.stringMatching(/no longer waits/) }],
    });
  });

  it('refuses an ask no call can carry, or that the client cannot answer', async () => {
    const relay = new InputRelay(manualClock());
    expect(relay.ask('web', ELICIT)).toBe('none');
    const call = askingCall(relay);
    const result = relay.run('web', call.start, signal(), {});
    await expect(result).rejects.toThrow('unsupported');
  });

  it('tells the instance when the client answers without the asked key', async () => {
    const relay = new InputRelay(manualClock());
    const call = askingCall(relay);
    const first = await relay.run('web', call.start, signal(), CAN_ELICIT);
    const state = (first as { requestState: string }).requestState;
    await expect(relay.resume(state, {}, signal())).rejects.toThrow(/gave no answer/);
  });

  it('cancels a call on its instance when the client never comes back', async () => {
    const clock = manualClock();
    const relay = new InputRelay(clock);
    const call = askingCall(relay);
    const first = await relay.run('web', call.start, signal(), CAN_ELICIT);
    const state = (first as { requestState: string }).requestState;
    await clock.advance(PARKED_CALL_MS);
    expect(String(call.aborted())).toMatch(/no answer within 10 minutes/);
    expect(await relay.resume(state, {}, signal())).toMatchObject({ isError: true });
  });

  it(`keeps at most ${MAX_PARKED_CALLS} calls waiting, dropping the oldest`, async () => {
    const relay = new InputRelay(manualClock());
    const calls = [];
    const states: string[] = [];
    for (let i = 0; i <= MAX_PARKED_CALLS; i++) {
      const call = askingCall(relay, `i${i}`);
      calls.push(call);
      const first = await relay.run(`i${i}`, call.start, signal(), CAN_ELICIT);
      states.push((first as { requestState: string }).requestState);
    }
    expect(String(calls[0]?.aborted())).toMatch(/more than 100 calls waited/);
    expect(calls[1]?.aborted()).toBeUndefined();
    expect(await relay.resume(states[0] ?? '', {}, signal())).toMatchObject({ isError: true });
    relay.close();
    expect(String(calls[1]?.aborted())).toMatch(/went away/);
  });

  it('cancels the instance call when the client cancels while it runs', async () => {
    const relay = new InputRelay(manualClock());
    let aborted = false;
    const controller = new AbortController();
    const running = relay.run(
      'web',
      (callSignal) =>
        new Promise<CallToolResult>((_resolve, reject) => {
          callSignal.addEventListener('abort', () => {
            aborted = true;
            reject(new Error('aborted'));
          });
        }),
      controller.signal,
      CAN_ELICIT,
    );
    controller.abort('cancelled');
    await expect(running).rejects.toThrow();
    expect(aborted).toBe(true);
    expect(relay.ask('web', ELICIT)).toBe('none');
  });
});

describe('InputRelay log messages', () => {
  /** A sink that wants `at` and above (warning is above info), keeping what it is sent. */
  const sink = (at: 'info' | 'warning') => {
    const sent: unknown[] = [];
    const order = ['info', 'warning'];
    return {
      sent,
      wants: (level: string) => order.indexOf(level) >= order.indexOf(at),
      send: async (params: unknown) => void sent.push(params),
    };
  };
  const message = (level: 'info' | 'warning') => ({ level, logger: 'web', data: level });

  it('go to a waiting request that wants their level, and nowhere once no call waits', async () => {
    const relay = new InputRelay(manualClock());
    const finishers: Array<(result: CallToolResult) => void> = [];
    const start = () =>
      new Promise<CallToolResult>((resolve) => {
        finishers.push(resolve);
      });
    const strict = sink('warning');
    const loose = sink('info');
    const first = relay.run('web', start, signal(), undefined, strict);
    const second = relay.run('web', start, signal(), undefined, loose);
    // Nothing wants a message from another instance.
    expect(relay.log('api', message('warning'))).toBe(false);
    // The first call wants only warnings and up; the second takes the info message.
    expect(relay.log('web', message('info'))).toBe(true);
    expect(relay.log('web', message('warning'))).toBe(true);
    expect(strict.sent).toEqual([message('warning')]);
    expect(loose.sent).toEqual([message('info')]);
    for (const finish of finishers) finish({ content: [] });
    await Promise.all([first, second]);
    expect(relay.log('web', message('warning'))).toBe(false);
  });

  it('go to no request while its call waits for the client’s answer', async () => {
    const relay = new InputRelay(manualClock());
    const call = askingCall(relay);
    const wants = sink('info');
    const parked = await relay.run('web', call.start, signal(), CAN_ELICIT, wants);
    expect(parked).toMatchObject({ resultType: 'input_required' });
    expect(relay.log('web', message('info'))).toBe(false);
    expect(wants.sent).toEqual([]);
  });
});
