// What the hub's client sessions asked of instances that outlives one instance session: resource
// subscriptions (per instance, per client session) and log levels. One instance session serves
// every client session, so a subscription is held on the instance while any client session
// holds it, and the instance's log level is the least severe any client session asked for.

import type { LoggingLevel } from '@modelcontextprotocol/server';

/** Most subscriptions kept per instance and client session (more are forwarded, not restored). */
export const MAX_KEPT_SUBSCRIPTIONS = 1_000;

/** MCP log levels, least severe first. */
export const LOG_LEVELS: readonly LoggingLevel[] = [
  'debug',
  'info',
  'notice',
  'warning',
  'error',
  'critical',
  'alert',
  'emergency',
];

/** True when a session that asked for `wanted` (or nothing) takes a message at `level`. */
export const admits = (wanted: LoggingLevel | undefined, level: LoggingLevel): boolean =>
  wanted === undefined || LOG_LEVELS.indexOf(level) >= LOG_LEVELS.indexOf(wanted);

/** The client sessions' subscriptions and log levels; `S` is the session. */
export interface SubscriptionBook<S> {
  /** Session `session` subscribed to `uri` (the instance's own) on instance `id`. */
  add(session: S, id: string, uri: string): void;
  /** Session `session` unsubscribed; true when another session still holds the subscription. */
  remove(session: S, id: string, uri: string): boolean;
  /** True when a session other than `session` holds `uri` on `id`. */
  heldByOthers(session: S, id: string, uri: string): boolean;
  /** The sessions holding `uri` on `id`. */
  holders(id: string, uri: string): readonly S[];
  /** Every URI some session holds on `id`. */
  urisOf(id: string): readonly string[];
  /** Session left: the subscriptions no other session holds now, to end on their instances. */
  dropSession(session: S): { id: string; uri: string }[];
  /** Instance `id` left: its subscriptions are dropped. */
  forget(id: string): void;
  /** Session set its log level. Returns the instances' level when it changed, else undefined. */
  setLevel(session: S, level: LoggingLevel): LoggingLevel | undefined;
  /** The level a session asked for. */
  levelOf(session: S): LoggingLevel | undefined;
  /** The instances' log level: the least severe a session asked for; undefined when none did. */
  instanceLevel(): LoggingLevel | undefined;
}

/** Creates an empty book. */
export function createSubscriptionBook<S>(): SubscriptionBook<S> {
  /** instance id -> uri -> sessions */
  const byInstance = new Map<string, Map<string, Set<S>>>();
  const levels = new Map<S, LoggingLevel>();
  const least = (): LoggingLevel | undefined => {
    let best: number | undefined;
    for (const level of levels.values()) {
      const at = LOG_LEVELS.indexOf(level);
      if (best === undefined || at < best) best = at;
    }
    return best === undefined ? undefined : LOG_LEVELS[best];
  };
  const countOf = (session: S, id: string) => {
    let n = 0;
    for (const sessions of byInstance.get(id)?.values() ?? []) if (sessions.has(session)) n++;
    return n;
  };
  const release = (id: string, uri: string, session: S): boolean => {
    const uris = byInstance.get(id);
    const sessions = uris?.get(uri);
    if (!uris || !sessions) return false;
    sessions.delete(session);
    if (sessions.size > 0) return true;
    uris.delete(uri);
    if (uris.size === 0) byInstance.delete(id);
    return false;
  };
  return {
    add(session, id, uri) {
      const uris = byInstance.get(id) ?? new Map<string, Set<S>>();
      byInstance.set(id, uris);
      const sessions = uris.get(uri);
      if (sessions) sessions.add(session);
      else if (countOf(session, id) < MAX_KEPT_SUBSCRIPTIONS) uris.set(uri, new Set([session]));
      if (uris.size === 0) byInstance.delete(id);
    },
    remove: (session, id, uri) => release(id, uri, session),
    heldByOthers(session, id, uri) {
      const sessions = byInstance.get(id)?.get(uri);
      if (!sessions) return false;
      return sessions.size > (sessions.has(session) ? 1 : 0);
    },
    holders: (id, uri) => [...(byInstance.get(id)?.get(uri) ?? [])],
    urisOf: (id) => [...(byInstance.get(id)?.keys() ?? [])],
    dropSession(session) {
      levels.delete(session);
      const ended: { id: string; uri: string }[] = [];
      for (const [id, uris] of [...byInstance])
        for (const [uri, sessions] of [...uris])
          if (sessions.has(session) && !release(id, uri, session)) ended.push({ id, uri });
      return ended;
    },
    forget(id) {
      byInstance.delete(id);
    },
    setLevel(session, level) {
      const before = least();
      levels.set(session, level);
      const after = least();
      return after !== before ? after : undefined;
    },
    levelOf: (session) => levels.get(session),
    instanceLevel: least,
  };
}
