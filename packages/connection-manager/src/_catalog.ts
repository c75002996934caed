// An instance's catalog (tools, resources, templates, prompts), fetched within bounds: an
// instance may list anything, but the hub keeps at most so many entries and bytes of it.

import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  PromptSchema,
  ResourceSchema,
  ResourceTemplateSchema,
  ResultSchema,
  ToolSchema,
} from '@modelcontextprotocol/sdk/types.js';
import type { InstanceCatalog } from './connection.js';

/** How much of one instance's catalog the hub keeps; the rest is cut, and said so. */
export interface CatalogLimits {
  /** Tools kept (default 1 000). */
  tools?: number;
  /** Resources kept (default 1 000). */
  resources?: number;
  /** Resource templates kept (default 1 000). */
  resourceTemplates?: number;
  /** Prompts kept (default 1 000). */
  prompts?: number;
  /** Bytes of JSON kept over the four lists together (default 8 MiB). */
  bytes?: number;
  /** Pages read per list (default 100). */
  pages?: number;
}

/** The parts of a catalog that one `list_changed` notification refreshes. */
export type CatalogPart = 'tools' | 'resources' | 'prompts';

/** The lists of each part. */
export const PART_LISTS: Record<CatalogPart, readonly (keyof InstanceCatalog)[]> = {
  tools: ['tools'],
  resources: ['resources', 'resourceTemplates'],
  prompts: ['prompts'],
};

const LISTS = {
  tools: { method: 'tools/list', field: 'tools', schema: ToolSchema },
  resources: { method: 'resources/list', field: 'resources', schema: ResourceSchema },
  resourceTemplates: {
    method: 'resources/templates/list',
    field: 'resourceTemplates',
    schema: ResourceTemplateSchema,
  },
  prompts: { method: 'prompts/list', field: 'prompts', schema: PromptSchema },
} as const;

const DEFAULTS: Required<CatalogLimits> = {
  tools: 1_000,
  resources: 1_000,
  resourceTemplates: 1_000,
  prompts: 1_000,
  bytes: 8 * 1024 * 1024,
  pages: 100,
};

/** One list as fetched: its entries, their bytes, and why it was cut (if it was). */
export interface FetchedList {
  items: unknown[];
  bytes: number;
  truncated: string | undefined;
}

/**
 * Fetches one list of an instance, page by page, keeping entries that are valid for their kind
 * (an invalid one is dropped, not the whole list) until a limit is reached: the list's count,
 * the bytes left in `budget`, or the page limit. Results are parsed loosely and only kept
 * entries are validated, so a list of 50,000 tools costs the validation of 1,000.
 */
export async function fetchList(
  client: Client,
  list: keyof InstanceCatalog,
  options: {
    limits?: CatalogLimits | undefined;
    /** Bytes the catalog may still take, shared by lists fetched together; reduced here. */
    budget: { left: number };
    timeoutMs: number;
  },
): Promise<FetchedList> {
  const limits = { ...DEFAULTS, ...options.limits };
  const { method, field, schema } = LISTS[list];
  const max = limits[list];
  const items: unknown[] = [];
  let bytes = 0;
  let dropped = 0;
  let truncated: string | undefined;
  let cursor: string | undefined;
  for (let page = 0; ; page++) {
    if (page === limits.pages) {
      truncated = `${list}: more than ${limits.pages} pages`;
      break;
    }
    const result = (await client.request(
      { method, params: cursor === undefined ? {} : { cursor } } as never,
      ResultSchema,
      { timeout: options.timeoutMs },
    )) as Record<string, unknown>;
    const entries = Array.isArray(result[field]) ? (result[field] as unknown[]) : [];
    for (const entry of entries) {
      if (items.length >= max) {
        truncated = `${list}: more than ${max}`;
        break;
      }
      const parsed = schema.safeParse(entry);
      if (!parsed.success) {
        dropped++;
        continue;
      }
      const size = JSON.stringify(parsed.data).length;
      if (size > options.budget.left) {
        truncated = `${list}: the catalog is over ${limits.bytes} bytes`;
        break;
      }
      options.budget.left -= size;
      bytes += size;
      items.push(parsed.data);
    }
    if (truncated) break;
    cursor = typeof result.nextCursor === 'string' ? result.nextCursor : undefined;
    if (cursor === undefined) break;
  }
  if (dropped > 0 && !truncated) truncated = `${list}: ${dropped} invalid entries left out`;
  return { items, bytes, truncated };
}

/** The byte limit of a catalog (a list's budget is this less the other lists' bytes). */
export const catalogBytes = (limits: CatalogLimits | undefined) => limits?.bytes ?? DEFAULTS.bytes;
