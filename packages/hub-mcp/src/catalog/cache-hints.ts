import type { ConnectionManager } from '@mcp-beacon/connection-manager';
import type { Clock } from '@mcp-beacon/runtime';
import type { ServerContext } from '@modelcontextprotocol/server';
import { isModernRequest } from '../sessions/era.js';

/**
 * How long a 2026-07-28 client may keep a list (`ttlMs`), by how settled the instances are:
 * `moving` while an instance is being connected (the list is about to change), `settling` for
 * {@link QUIET_AFTER_MS} after the last change, `quiet` after that. Always `private`: the lists
 * are this machine's projects.
 */
export const LIST_TTL_MS = { moving: 0, settling: 1_000, quiet: 30_000 } as const;

/** How long after the last change the lists count as quiet, in ms. */
export const QUIET_AFTER_MS = 60_000;

/** The cache fields of a modern list result. */
export interface ListCacheHint {
  ttlMs: number;
  cacheScope: 'private';
}

/** Tracks how settled the lists are; see {@link LIST_TTL_MS}. */
export interface CacheHints {
  /** A list changed now. */
  changed(): void;
  /** The hint for a list answered now. */
  forList(): ListCacheHint;
}

const MOVING = new Set(['discovered', 'connecting', 'retrying']);

/** Creates the tracker; the lists count as just changed at creation. */
export function createCacheHints(manager: ConnectionManager, clock: Clock): CacheHints {
  let last = clock.now();
  return {
    changed() {
      last = clock.now();
    },
    forList() {
      const moving = manager.list().some((c) => MOVING.has(c.state));
      const ttlMs = moving
        ? LIST_TTL_MS.moving
        : clock.now() - last < QUIET_AFTER_MS
          ? LIST_TTL_MS.settling
          : LIST_TTL_MS.quiet;
      return { ttlMs, cacheScope: 'private' };
    },
  };
}

/** The cache fields a list result carries: for a 2026-07-28 request only (2025 has none). */
export const listHint = (hints: CacheHints, handlerCtx: ServerContext): ListCacheHint | object =>
  isModernRequest(handlerCtx) ? hints.forList() : {};
