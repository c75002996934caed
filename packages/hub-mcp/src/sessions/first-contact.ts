// The first-contact gate: many clients list tools once, right after initialize, and never
// again, so the first list (and a call of a name not known yet) waits until the instances
// present at start-up have settled, at most a bound.

import type { ConnectionManager } from '@mcp-beacon/connection-manager';
import type { Clock } from '@mcp-beacon/runtime';

/** Options of {@link createFirstContact}. */
export interface FirstContactOptions {
  manager: ConnectionManager;
  /** Resolves once the records present at start-up are handed to the manager. */
  startup: PromiseLike<unknown> | undefined;
  /** Bound on the wait, in ms from creation (0 = no wait). */
  boundMs: number;
  clock: Clock;
}

/** The hub's gate: passed once start-up has settled, or its bound has passed. */
export interface HubGate {
  /** Resolves once start-up has settled or the bound has passed. */
  readonly passed: Promise<void>;
  /** True once {@link passed} has resolved. */
  isPassed(): boolean;
  close(): void;
}

/** The gate one session's first list and first calls wait at. */
export interface FirstContact extends HubGate {
  /** Also waits for `pass` (bounded by its maker), e.g. the first start of the client's roots. */
  include(pass: Promise<void>): void;
  /** Resolves when everything the first list waits for is done. */
  wait(): Promise<void>;
  /**
   * A lookup by name: one that finds nothing before the gate has passed is tried again after
   * it, for a client that names a tool it remembers before it lists anything.
   */
  lookup<T>(find: () => T | undefined): Promise<T | undefined>;
}

/** Creates the hub's gate; its timer starts now. */
export function createFirstContact(options: FirstContactOptions): HubGate {
  const { clock } = options;
  let timer: unknown;
  let done = false;
  const passed = Promise.race([
    Promise.resolve(options.startup)
      .then(() => options.manager.whenFirstAttemptsDone())
      .catch(() => undefined),
    new Promise<void>((resolve) => {
      timer = clock.setTimeout(resolve, options.boundMs);
    }),
  ]).then(() => {
    done = true;
    if (timer !== undefined) clock.clearTimeout(timer);
  });
  return {
    passed,
    isPassed: () => done,
    close() {
      if (timer !== undefined) clock.clearTimeout(timer);
    },
  };
}

/**
 * One client session's gate: the hub's start-up wait, plus what that session adds with
 * {@link FirstContact.include} (the first start of its roots), which no other session waits for.
 */
export function sessionGate(hub: HubGate): FirstContact {
  let extra: Promise<void> | undefined;
  const wait = async () => {
    if (!hub.isPassed()) await hub.passed;
    if (extra) await extra;
  };
  return {
    passed: hub.passed,
    isPassed: hub.isPassed,
    include(pass) {
      const mine: Promise<void> = pass.then(() => {
        if (extra === mine) extra = undefined;
      });
      extra = mine;
    },
    wait,
    async lookup(find) {
      const found = find();
      if (found !== undefined || hub.isPassed()) return found;
      await wait();
      return find();
    },
    close() {},
  };
}
