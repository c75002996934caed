// A connection's state machine: every change of its state goes through transition(), a pure
// step from (state, event) to the next state. The Connection class runs the effects around it
// (connecting, pinging, closing, scheduling the retries that retry.ts times).

import type { ConnectionState } from './types.js';

/** What the machine keeps of a connection. */
export interface MachineState {
  readonly state: ConnectionState;
  /** Why it is in its state. */
  readonly reason: string | undefined;
  /** Dropped on request: held down until a connect is asked for. */
  readonly held: boolean;
  /** Failed attempts since the last success (0 while healthy). */
  readonly attempt: number;
  /** When the current run of failures began, in ms since the epoch. */
  readonly failingSince: number | undefined;
}

/** What happens to a connection. */
export type MachineEvent =
  /** `connect()` was asked for: no longer held down. */
  | { type: 'release' }
  /** `disconnect()` was asked for: held down from now on (its state follows with `disconnect`). */
  | { type: 'hold' }
  /** An attempt begins. */
  | { type: 'attempt'; reason: string }
  /** The attempt ended with a live session and a catalog. */
  | { type: 'connected'; reason: string }
  /** An attempt, a ping or the session failed; `now` and the give-up bound decide retry or dead. */
  | { type: 'failed'; reason: string; now: number; giveUpAfterMs: number }
  /** The record now points elsewhere (url, token or pid): a new session is due. */
  | { type: 'moved' }
  /** Dropped on request. */
  | { type: 'disconnect'; reason: string }
  /** The record is gone, or its process is. */
  | { type: 'remove'; reason: string };

/** The next state, and whether it is a transition to report (state or reason changed). */
export interface Step {
  next: MachineState;
  changed: boolean;
}

/** The state of a connection that has just been found. */
export const INITIAL: MachineState = {
  state: 'discovered',
  reason: 'record found',
  held: false,
  attempt: 0,
  failingSince: undefined,
};

const to = (s: MachineState, patch: Partial<MachineState>, changed = true): Step => ({
  next: { ...s, ...patch },
  changed,
});
const stay = (s: MachineState): Step => ({ next: s, changed: false });

/** One step of the machine; `removed` is final. */
export function transition(s: MachineState, event: MachineEvent): Step {
  if (s.state === 'removed') return stay(s);
  switch (event.type) {
    case 'release':
      return s.held ? to(s, { held: false }, false) : stay(s);
    case 'hold':
      return s.held ? stay(s) : to(s, { held: true }, false);
    case 'attempt':
      if (s.held) return stay(s);
      return s.state === 'connecting'
        ? stay(s)
        : to(s, { state: 'connecting', reason: event.reason });
    case 'connected':
      return to(s, { state: 'active', reason: event.reason, attempt: 0, failingSince: undefined });
    case 'failed': {
      const failingSince = s.failingSince ?? event.now;
      if (s.held) return to(s, { failingSince }, false);
      const failedFor = event.now - failingSince;
      if (failedFor >= event.giveUpAfterMs) {
        const reason = `unreachable for ${Math.round(failedFor / 1000)} s: ${event.reason}`;
        // Still dead for the same reason: nothing new to report.
        if (s.state === 'dead' && s.reason === reason) return to(s, { failingSince }, false);
        return to(s, { state: 'dead', reason, failingSince });
      }
      return to(s, {
        state: 'retrying',
        reason: event.reason,
        failingSince,
        attempt: s.attempt + 1,
      });
    }
    case 'moved':
      return s.held
        ? stay(s)
        : to(s, { state: 'connecting', reason: 'record now points elsewhere' });
    case 'disconnect':
      return to(s, { state: 'disconnected', reason: event.reason, held: true });
    case 'remove':
      return to(s, { state: 'removed', reason: event.reason });
  }
}
