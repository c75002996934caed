// An instance's catalog (tools, resources, templates, prompts), fetched within bounds: an
// instance may list anything, but the hub keeps at most so many entries and bytes of it.

import { setImmediate as turn } from 'node:timers/promises';
import type { Clock } from '@mcp-beacon/runtime';
import { type Client, specTypeSchemas } from '@modelcontextprotocol/client';
import { ConnectionError } from './errors.js';
import { HttpClientTransport } from './http-transport.js';
import type { CatalogLimits, InstanceCatalog } from './types.js';

/** The parts of a catalog that one `list_changed` notification refreshes. */
export type CatalogPart = 'tools' | 'resources' | 'prompts';

/** The lists of each part. */
export const PART_LISTS: Record<CatalogPart, readonly (keyof InstanceCatalog)[]> = {
  tools: ['tools'],
  resources: ['resources', 'resourceTemplates'],
  prompts: ['prompts'],
};

const LISTS = {
  tools: { method: 'tools/list', field: 'tools', schema: specTypeSchemas.Tool },
  resources: { method: 'resources/list', field: 'resources', schema: specTypeSchemas.Resource },
  resourceTemplates: {
    method: 'resources/templates/list',
    field: 'resourceTemplates',
    schema: specTypeSchemas.ResourceTemplate,
  },
  prompts: { method: 'prompts/list', field: 'prompts', schema: specTypeSchemas.Prompt },
} as const;

const DEFAULTS: Required<CatalogLimits> = {
  tools: 1_000,
  resources: 1_000,
  resourceTemplates: 1_000,
  prompts: 1_000,
  bytes: 8 * 1024 * 1024,
  pages: 100,
};

/**
 * Objects and arrays one list page may hold: `JSON.parse` of 150 000 of them takes about 45 ms
 * here, so no page holds the event loop much longer than that, however dense.
 */
export const MAX_PAGE_VALUES = 150_000;

/**
 * What a list page may hold beyond the catalog's byte bound before it is cut while read: its
 * envelope, cursor and white space are not entries.
 */
export const PAGE_SLACK = 64 * 1024;

/** Longest run of entry validation between two turns of the event loop, in ms. */
const SLICE_MS = 10;

/** One list as fetched: its entries, their bytes, and why it was cut (if it was). */
export interface FetchedList {
  items: unknown[];
  bytes: number;
  truncated: string | undefined;
}

/**
 * One page of a list, as the server wrote it. Over HTTP the page is cut while it is read once
 * it passes `maxLength` characters or {@link MAX_PAGE_VALUES} objects, before it is parsed; a
 * remote's pages arrive already bounded by the remote hub's own catalog limits.
 * @throws {ConnectionError} `TOO_LARGE` for a page cut while read; the request's failure.
 */
async function fetchPage(
  client: Client,
  method: string,
  params: Record<string, unknown>,
  timeoutMs: number,
  maxLength: number,
): Promise<Record<string, unknown>> {
  const transport = client.transport;
  if (!(transport instanceof HttpClientTransport))
    return (await client.request({ method, params }, specTypeSchemas.Result, {
      timeout: timeoutMs,
    })) as Record<string, unknown>;
  const answer = await transport.call(method, params, {
    timeoutMs,
    maxLength,
    maxValues: MAX_PAGE_VALUES,
  });
  if ('error' in answer)
    throw new ConnectionError('NOT_MCP', `${method} failed: ${answer.error.message}`);
  const result = answer.result;
  return typeof result === 'object' && result !== null ? (result as Record<string, unknown>) : {};
}

/**
 * Fetches one list of an instance, page by page, keeping entries that are valid for their kind
 * (an invalid one is dropped, not the whole list) until a limit is reached: the list's count
 * (kept and dropped entries both count), the bytes left in `budget`, or the page limit. Only
 * kept entries are validated, a page is cut while read past the byte bound, and validation
 * yields the event loop every 10 ms, so one instance's catalog never holds the hub for long.
 */
export async function fetchList(
  client: Client,
  list: keyof InstanceCatalog,
  options: {
    limits?: CatalogLimits | undefined;
    /** Bytes the catalog may still take, shared by lists fetched together; reduced here. */
    budget: { left: number };
    timeoutMs: number;
    clock: Clock;
  },
): Promise<FetchedList> {
  const limits = { ...DEFAULTS, ...options.limits };
  const { method, field, schema } = LISTS[list];
  const { clock } = options;
  const max = limits[list];
  const items: unknown[] = [];
  let bytes = 0;
  let dropped = 0;
  let truncated: string | undefined;
  let cursor: string | undefined;
  let sliceStart = clock.now();
  for (let page = 0; ; page++) {
    if (page === limits.pages) {
      truncated = `${list}: more than ${limits.pages} pages`;
      break;
    }
    let result: Record<string, unknown>;
    try {
      result = await fetchPage(
        client,
        method,
        cursor === undefined ? {} : { cursor },
        options.timeoutMs,
        limits.bytes + PAGE_SLACK,
      );
    } catch (error) {
      if (!(error instanceof ConnectionError && error.code === 'TOO_LARGE')) throw error;
      truncated = `${list}: a page was cut while read (${error.message})`;
      break;
    }
    const entries = Array.isArray(result[field]) ? (result[field] as unknown[]) : [];
    for (const entry of entries) {
      if (items.length + dropped >= max) {
        truncated = `${list}: more than ${max}${dropped > 0 ? ` (${dropped} invalid)` : ''}`;
        break;
      }
      if (clock.now() - sliceStart >= SLICE_MS) {
        await turn();
        sliceStart = clock.now();
      }
      const parsed = schema['~standard'].validate(entry);
      if (parsed.issues !== undefined) {
        dropped++;
        continue;
      }
      const size = JSON.stringify(parsed.value).length;
      if (size > options.budget.left) {
        truncated = `${list}: the catalog is over ${limits.bytes} bytes`;
        break;
      }
      options.budget.left -= size;
      bytes += size;
      items.push(parsed.value);
    }
    if (truncated) break;
    cursor = typeof result.nextCursor === 'string' ? result.nextCursor : undefined;
    if (cursor === undefined) break;
    await turn();
    sliceStart = clock.now();
  }
  if (dropped > 0 && !truncated) truncated = `${list}: ${dropped} invalid entries left out`;
  return { items, bytes, truncated };
}

/** The byte limit of a catalog (a list's budget is this less the other lists' bytes). */
const catalogBytes = (limits: CatalogLimits | undefined) => limits?.bytes ?? DEFAULTS.bytes;

const emptyCatalog = (): InstanceCatalog => ({
  tools: [],
  resources: [],
  resourceTemplates: [],
  prompts: [],
});

/**
 * One connection's catalog as last fetched, with each list's bytes and why it was cut: a part
 * is fetched anew within what the other lists leave of the byte bound.
 */
export class CatalogBook {
  /** The catalog as last fetched. */
  catalog: InstanceCatalog = emptyCatalog();
  private lists: Partial<Record<keyof InstanceCatalog, { bytes: number; truncated?: string }>> = {};

  constructor(
    private readonly options: {
      limits: CatalogLimits | undefined;
      timeoutMs: number;
      clock: Clock;
    },
  ) {}

  /** Why the catalog was cut at a bound, or undefined when it is whole. */
  get truncated(): string | undefined {
    const reasons = Object.values(this.lists).flatMap((l) => (l?.truncated ? [l.truncated] : []));
    return reasons.length > 0 ? reasons.join('; ') : undefined;
  }

  /** Whether a list of `part` was cut at a bound when last fetched. */
  isCut(part: CatalogPart): boolean {
    return PART_LISTS[part].some((list) => this.lists[list]?.truncated !== undefined);
  }

  clear(): void {
    this.catalog = emptyCatalog();
    this.lists = {};
  }

  /**
   * Fetches `parts` anew and resolves with a function that keeps them (the other parts as they
   * were) and returns the catalog: the caller calls it only if its connection is still the
   * current one. Only lists the
   * server declared are asked for, one after another, so one instance's catalog is never
   * parsed in parallel with itself.
   */
  async fetch(client: Client, parts: CatalogPart[]): Promise<() => InstanceCatalog> {
    const caps = client.getServerCapabilities() ?? {};
    const fetching = parts.flatMap((part) => (caps[part] ? PART_LISTS[part] : []));
    const skipped = parts.flatMap((part) => (caps[part] ? [] : PART_LISTS[part]));
    let others = 0;
    for (const [list, fetched] of Object.entries(this.lists))
      if (!fetching.includes(list as keyof InstanceCatalog)) others += fetched?.bytes ?? 0;
    const budget = { left: catalogBytes(this.options.limits) - others };
    const results: FetchedList[] = [];
    for (const list of fetching)
      results.push(await fetchList(client, list, { ...this.options, budget }));
    return () => {
      const catalog: InstanceCatalog = { ...this.catalog };
      for (const list of skipped) {
        catalog[list] = [];
        delete this.lists[list];
      }
      fetching.forEach((list, i) => {
        const { items, bytes, truncated } = results[i]!;
        (catalog as unknown as Record<string, unknown[]>)[list] = items;
        this.lists[list] = truncated === undefined ? { bytes } : { bytes, truncated };
      });
      this.catalog = catalog;
      return catalog;
    };
  }
}
