import { describe, expect, it } from 'vitest';
import { INITIAL, type MachineEvent, type MachineState, transition } from './_machine.js';
import { retryDelay } from './retry.js';

/** Runs events from `start`, returning each step's state and whether it was reported. */
function run(events: MachineEvent[], start: MachineState = INITIAL) {
  let s = start;
  return events.map((event) => {
    const { next, changed } = transition(s, event);
    s = next;
    return {
      state: next.state,
      reason: next.reason,
      changed,
      held: next.held,
      attempt: next.attempt,
    };
  });
}

const failed = (now: number, reason = 'refused'): MachineEvent => ({
  type: 'failed',
  reason,
  now,
  giveUpAfterMs: 1_000,
});

describe('connection state machine', () => {
  it('connects, fails into retrying with a growing attempt count, and recovers', () => {
    const steps = run([
      { type: 'attempt', reason: 'connecting' },
      failed(0),
      { type: 'attempt', reason: 'connecting' },
      failed(300),
      { type: 'attempt', reason: 'again' },
      { type: 'connected', reason: 'up' },
    ]);
    expect(steps.map((s) => [s.state, s.attempt, s.changed])).toEqual([
      ['connecting', 0, true],
      ['retrying', 1, true],
      ['connecting', 1, true],
      ['retrying', 2, true],
      ['connecting', 2, true],
      ['active', 0, true],
    ]);
  });

  it('is dead once failures last the give-up bound, and says nothing new while that holds', () => {
    const steps = run([failed(0), failed(600), failed(1_000), failed(1_000)]);
    expect(steps.map((s) => [s.state, s.reason, s.changed])).toEqual([
      ['retrying', 'refused', true],
      ['retrying', 'refused', true],
      ['dead', 'unreachable for 1 s: refused', true],
      ['dead', 'unreachable for 1 s: refused', false],
    ]);
  });

  it('holds a disconnected connection down: no attempt, no retry, no move, until released', () => {
    const steps = run([
      { type: 'connected', reason: 'up' },
      { type: 'hold' },
      { type: 'disconnect', reason: 'on request' },
      { type: 'attempt', reason: 'x' },
      failed(5),
      { type: 'moved' },
      { type: 'release' },
      { type: 'attempt', reason: 'back' },
    ]);
    expect(steps.map((s) => [s.state, s.held, s.changed])).toEqual([
      ['active', false, true],
      ['active', true, false],
      ['disconnected', true, true],
      ['disconnected', true, false],
      ['disconnected', true, false],
      ['disconnected', true, false],
      ['disconnected', false, false],
      ['connecting', false, true],
    ]);
  });

  it('turns a moved record into connecting, and keeps removed final', () => {
    const steps = run([
      { type: 'connected', reason: 'up' },
      { type: 'moved' },
      { type: 'remove', reason: 'gone' },
      { type: 'attempt', reason: 'x' },
      { type: 'connected', reason: 'x' },
    ]);
    expect(steps.map((s) => [s.state, s.changed])).toEqual([
      ['active', true],
      ['connecting', true],
      ['removed', true],
      ['removed', false],
      ['removed', false],
    ]);
  });
});

describe('retry policy', () => {
  it('waits on the backoff schedule while retrying and maxMs once dead', () => {
    const top = () => 1;
    const options = { initialMs: 100, maxMs: 800 };
    expect(
      [1, 2, 3, 4, 5].map((attempt) => retryDelay({ state: 'retrying', attempt }, options, top)),
    ).toEqual([100, 200, 400, 800, 800]);
    expect(retryDelay({ state: 'dead', attempt: 9 }, options, top)).toBe(800);
  });
});
