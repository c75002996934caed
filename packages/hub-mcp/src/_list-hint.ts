import type { ServerContext } from '@modelcontextprotocol/server';
import type { ListCacheHint } from './_cache-hints.js';
import type { HubContext } from './_context.js';
import { isModernRequest } from './_peer.js';

/** The cache fields a list result carries: for a 2026-07-28 request only (2025 has none). */
export const listHint = (ctx: HubContext, handlerCtx: ServerContext): ListCacheHint | object =>
  isModernRequest(handlerCtx) ? ctx.hints.forList() : {};
