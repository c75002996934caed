// Which client session an instance's message belongs to. A request an instance sends during a
// call (sampling, elicitation, roots, a log message) arrives on that call's own response stream,
// read in the async context of the call: the session that made the call is found there, so
// nothing one session caused is answered by, or shown to, another.

import { AsyncLocalStorage } from 'node:async_hooks';
import type { Forwarder } from '../calls/forward.js';

/** A request of one session running on one instance. */
interface CallScope<S> {
  readonly session: S;
  readonly instance: string;
  /** Set when the request ended: a stream opened inside it and kept must not count. */
  ended: boolean;
}

const scope = new AsyncLocalStorage<CallScope<unknown>>();

/**
 * The session whose request to `instance` is running in the current async context; undefined
 * outside one (a message on the instance's own event stream, or after the request ended).
 */
export function callingSession<S>(instance: string): S | undefined {
  const current = scope.getStore();
  if (!current || current.ended || current.instance !== instance) return undefined;
  return current.session as S;
}

/** What a session counts of its requests to instances. */
export interface CallCounter {
  /** A request to `instance` starts (+1) or ends (-1). */
  calling(instance: string, delta: 1 | -1): void;
}

/**
 * The hub's forwarder as one session uses it: each request runs in that session's call scope
 * (see {@link callingSession}) and is counted while it runs.
 */
export function scopedForwarder<S extends CallCounter>(inner: Forwarder, session: S): Forwarder {
  const within = async <T>(instance: string, run: () => Promise<T>): Promise<T> => {
    const mine: CallScope<S> = { session, instance, ended: false };
    session.calling(instance, 1);
    try {
      return await scope.run(mine, run);
    } finally {
      mine.ended = true;
      session.calling(instance, -1);
    }
  };
  return {
    callTool: (id, name, args, extra) => within(id, () => inner.callTool(id, name, args, extra)),
    request: (id, method, params, extra) =>
      within(id, () => inner.request(id, method, params, extra)),
  };
}
