import { randomUUID } from 'node:crypto';
import type { Clock } from '@mcp-beacon/runtime';
import type {
  CallToolResult,
  InputRequiredResult,
  LoggingMessageNotification,
  Result,
} from '@modelcontextprotocol/server';
import { toolError } from '../_values.js';
import type { LogSink } from '../sessions/era.js';

/** What an instance asks the client during a call: sampling, elicitation or roots. */
export interface InputAsk {
  method: 'sampling/createMessage' | 'elicitation/create' | 'roots/list';
  params: Record<string, unknown>;
}

/** A 2026-07-28 `input_required` result: the client answers and calls again with the state. */
export type InputRequired = InputRequiredResult;

/** Longest a call waits for the client to come back with its answers, in ms. */
export const PARKED_CALL_MS = 10 * 60_000;
/** Most calls waiting for the client's answers at once; a new one past it ends the oldest. */
export const MAX_PARKED_CALLS = 100;

interface Pending {
  ask: InputAsk;
  resolve(result: Result): void;
  reject(error: Error): void;
}

/** The client capability each ask needs. */
const NEEDS = {
  'sampling/createMessage': 'sampling',
  'elicitation/create': 'elicitation',
  'roots/list': 'roots',
} as const;

interface RelayedCall {
  instance: string;
  /** What the client said it can answer, in the call's envelope. */
  capabilities: Record<string, unknown> | undefined;
  result: Promise<CallToolResult>;
  abort(reason: string): void;
  /** Asks not yet handed to the client. */
  queued: Pending[];
  /** Asks handed to the client, by key, until it calls again. */
  sent: Map<string, Pending>;
  wake: (() => void) | undefined;
  expiry?: unknown;
  asks: number;
  /** The log sink of the client request the call answers now, while it waits on the call. */
  log: LogSink | undefined;
}

/**
 * Carries an instance's requests to a 2026-07-28 client, which takes no requests from a server:
 * during a client's call to that instance, each one is returned as an `input_required` result
 * (the call stays running on the instance), and the client's answers in its next call (the
 * same `requestState`) answer the instance's requests. The client's calls to one instance
 * carry that instance's asks, the longest-running call first. Calls waiting for the client are
 * bounded in number ({@link MAX_PARKED_CALLS}) and time ({@link PARKED_CALL_MS}); one dropped
 * for either is cancelled on its instance. The same calls carry the instance's log messages to
 * the client, as notifications of the request that asked for them (`logLevel` in its `_meta`);
 * a message no running request asked for is not sent, as 2026-07-28 requires.
 */
export class InputRelay {
  private readonly running = new Map<string, Set<RelayedCall>>();
  private readonly parked = new Map<string, RelayedCall>();

  constructor(private readonly clock: Clock) {}

  /**
   * Runs a client's call on `instance` (`start` gets the call's own signal): resolves with its
   * result, or with `input_required` when the instance asks something first. `log` is where the
   * request wants the instance's log messages, if it wants any.
   */
  run(
    instance: string,
    start: (signal: AbortSignal) => Promise<CallToolResult>,
    signal: AbortSignal,
    capabilities: Record<string, unknown> | undefined,
    log?: LogSink,
  ): Promise<CallToolResult | InputRequired> {
    const controller = new AbortController();
    const call: RelayedCall = {
      instance,
      capabilities,
      result: start(controller.signal),
      abort: (reason) => controller.abort(reason),
      queued: [],
      sent: new Map(),
      wake: undefined,
      asks: 0,
      log: undefined,
    };
    const calls = this.running.get(instance) ?? new Set();
    calls.add(call);
    this.running.set(instance, calls);
    void call.result.then(
      () => this.end(call),
      () => this.end(call),
    );
    return this.await(call, signal, log);
  }

  /**
   * Carries on a call that returned `input_required` with the client's answers. A `state` that
   * names no waiting call (it ended, expired, or was never issued here) is a tool error.
   */
  resume(
    state: string,
    answers: Record<string, unknown> | undefined,
    signal: AbortSignal,
    log?: LogSink,
  ): Promise<CallToolResult | InputRequired> {
    const call = this.parked.get(state);
    if (!call)
      return Promise.resolve(
        toolError(
          'this call no longer waits for input (it ended, or waited longer than the hub keeps it); call the tool again',
        ),
      );
    this.parked.delete(state);
    if (call.expiry !== undefined) this.clock.clearTimeout(call.expiry);
    for (const [key, pending] of call.sent) {
      const answer = answers?.[key];
      if (answer !== undefined && answer !== null && typeof answer === 'object')
        pending.resolve(answer as Result);
      else pending.reject(new Error(`the MCP client gave no answer to ${pending.ask.method}`));
    }
    call.sent.clear();
    return this.await(call, signal, log);
  }

  /**
   * Hands an instance's request to one of the client's running calls to it: `none` when no
   * call runs (nothing can carry it), `unsupported` when the client cannot answer it.
   */
  ask(instance: string, ask: InputAsk): Promise<Result> | 'none' | 'unsupported' {
    const call = this.running.get(instance)?.values().next().value;
    if (!call) return 'none';
    if (call.capabilities?.[NEEDS[ask.method]] === undefined) return 'unsupported';
    return new Promise<Result>((resolve, reject) => {
      call.queued.push({ ask, resolve, reject });
      call.wake?.();
    });
  }

  /**
   * Sends an instance's log message to the first of the client's requests waiting on a call to
   * it that wants the message's level; false when none does (the message is not sent).
   */
  log(instance: string, params: LoggingMessageNotification['params']): boolean {
    for (const call of this.running.get(instance) ?? []) {
      if (!call.log?.wants(params.level)) continue;
      void call.log.send(params).catch(() => undefined);
      return true;
    }
    return false;
  }

  /** Ends every call waiting for the client (the connection closed). */
  close(): void {
    for (const [state, call] of this.parked) this.drop(state, call, 'the MCP client went away');
  }

  private async await(
    call: RelayedCall,
    signal: AbortSignal,
    log: LogSink | undefined,
  ): Promise<CallToolResult | InputRequired> {
    if (signal.aborted) {
      call.abort('cancelled');
      throw signal.reason;
    }
    const onAbort = () => call.abort('cancelled');
    signal.addEventListener('abort', onAbort, { once: true });
    call.log = log;
    try {
      while (call.queued.length === 0) {
        const woken = new Promise<'asked'>((resolve) => {
          call.wake = () => resolve('asked');
        });
        const outcome = await Promise.race([call.result, woken]);
        call.wake = undefined;
        if (outcome !== 'asked') return outcome;
      }
      return this.park(call);
    } finally {
      call.log = undefined;
      signal.removeEventListener('abort', onAbort);
    }
  }

  private park(call: RelayedCall): InputRequired {
    const inputRequests: Record<string, InputAsk> = {};
    for (const pending of call.queued.splice(0)) {
      const key = `ask${++call.asks}`;
      call.sent.set(key, pending);
      inputRequests[key] = pending.ask;
    }
    if (this.parked.size >= MAX_PARKED_CALLS) {
      const [oldest, waiting] = this.parked.entries().next().value as [string, RelayedCall];
      this.drop(oldest, waiting, `more than ${MAX_PARKED_CALLS} calls waited for input`);
    }
    const state = randomUUID();
    this.parked.set(state, call);
    call.expiry = this.clock.setTimeout(
      () => this.drop(state, call, `no answer within ${PARKED_CALL_MS / 60_000} minutes`),
      PARKED_CALL_MS,
    );
    return { resultType: 'input_required', inputRequests, requestState: state } as InputRequired;
  }

  private drop(state: string, call: RelayedCall, reason: string): void {
    this.parked.delete(state);
    if (call.expiry !== undefined) this.clock.clearTimeout(call.expiry);
    for (const pending of [...call.sent.values(), ...call.queued])
      pending.reject(new Error(`the MCP client did not answer: ${reason}`));
    call.sent.clear();
    call.queued.length = 0;
    call.abort(reason);
  }

  private end(call: RelayedCall): void {
    const calls = this.running.get(call.instance);
    calls?.delete(call);
    if (calls?.size === 0) this.running.delete(call.instance);
    for (const pending of call.queued) pending.reject(new Error('the call ended'));
    call.queued.length = 0;
  }
}
