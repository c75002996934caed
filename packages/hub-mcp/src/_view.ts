import { createHash } from 'node:crypto';
import type { ConnectionInfo } from '@mcp-beacon/connection-manager';
import { cleanText } from '@mcp-beacon/registry';
import type { Prompt, Resource, ResourceTemplate, Tool } from '@modelcontextprotocol/sdk/types.js';
import { proxiedUri, qualifiedName, SlugBook } from './_names.js';

/** What the view needs of a connection. */
export type ViewSource = Pick<ConnectionInfo, 'id' | 'record' | 'state' | 'catalog'>;

/** Where a hub-side tool or prompt name leads: the instance and its own name. */
export interface Route {
  id: string;
  name: string;
}

/** The lists a client is shown. */
export interface ViewLists {
  tools: Tool[];
  resources: Resource[];
  resourceTemplates: ResourceTemplate[];
  prompts: Prompt[];
}

/** A fingerprint per list kind: equal fingerprints, equal lists. */
export interface ViewSignature {
  tools: string;
  resources: string;
  prompts: string;
}

/** One instance's contribution, rebuilt only when its own catalog or state changes. */
interface Slice {
  slug: string;
  catalog: ViewSource['catalog'] | undefined;
  lists: ViewLists;
  toolNames: Map<string, string>; // hub name -> instance name
  promptNames: Map<string, string>;
  signature: ViewSignature;
}

/** Everything the hub exposes, kept up to date one instance at a time. */
export interface HubView {
  readonly slugs: SlugBook;
  /** Applies a connection's current state and catalog; O(size of that instance). */
  update(source: ViewSource): void;
  /** The instance left the hub: its names are released. */
  remove(id: string): void;
  toolRoute(name: string): Route | undefined;
  promptRoute(name: string): Route | undefined;
  /** The full lists, assembled on demand and cached until something changes. */
  lists(): ViewLists;
  /** The lists' fingerprints, cached like {@link lists}. */
  signature(): ViewSignature;
}

const EMPTY: ViewLists = { tools: [], resources: [], resourceTemplates: [], prompts: [] };
const digest = (value: unknown) =>
  createHash('sha1').update(JSON.stringify(value)).digest('base64');

function buildSlice(source: ViewSource, slug: string): Slice {
  const active = source.state === 'active';
  const slice: Slice = {
    slug,
    catalog: active ? source.catalog : undefined,
    lists: EMPTY,
    toolNames: new Map(),
    promptNames: new Map(),
    signature: { tools: '', resources: '', prompts: '' },
  };
  if (!active) return slice;
  const { catalog } = source;
  // Names and descriptions come from other processes: escaped so no terminal gets them raw.
  const label = cleanText(source.record.name);
  const describe = (text: string | undefined) =>
    `[${label}] ${cleanText(text ?? '', { newlines: true })}`.trimEnd();
  const tools: Tool[] = [];
  for (const tool of catalog.tools) {
    const name = qualifiedName(slug, tool.name);
    if (slice.toolNames.has(name)) continue;
    slice.toolNames.set(name, tool.name);
    tools.push({ ...tool, name, description: describe(tool.description) });
  }
  const prompts: Prompt[] = [];
  for (const prompt of catalog.prompts) {
    const name = qualifiedName(slug, prompt.name);
    if (slice.promptNames.has(name)) continue;
    slice.promptNames.set(name, prompt.name);
    prompts.push({ ...prompt, name, description: describe(prompt.description) });
  }
  const resources = catalog.resources.map((r) => ({
    ...r,
    uri: proxiedUri(slug, r.uri),
    description: describe(r.description),
  }));
  const resourceTemplates = catalog.resourceTemplates.map((t) => ({
    ...t,
    uriTemplate: proxiedUri(slug, t.uriTemplate),
    description: describe(t.description),
  }));
  slice.lists = { tools, resources, resourceTemplates, prompts };
  slice.signature = {
    tools: tools.length ? digest(tools) : '',
    resources:
      resources.length || resourceTemplates.length ? digest([resources, resourceTemplates]) : '',
    prompts: prompts.length ? digest(prompts) : '',
  };
  return slice;
}

/**
 * Creates the hub's view: `hubTools` first, then each active instance's tools and prompts as
 * `<slug>__<name>` and its resources as `beacon://<slug>/<uri>`, with descriptions prefixed
 * `[<instance name>]`. Each instance is a slice rebuilt only when its catalog or state changes;
 * routes change at once, the full lists are assembled only when asked for.
 */
export function createView(hubTools: readonly Tool[]): HubView {
  const slugs = new SlugBook();
  const slices = new Map<string, Slice>();
  const toolRoutes = new Map<string, Route>();
  const promptRoutes = new Map<string, Route>();
  let lists: ViewLists | undefined;
  let signature: ViewSignature | undefined;

  const unroute = (id: string, slice: Slice) => {
    for (const name of slice.toolNames.keys())
      if (toolRoutes.get(name)?.id === id) toolRoutes.delete(name);
    for (const name of slice.promptNames.keys())
      if (promptRoutes.get(name)?.id === id) promptRoutes.delete(name);
  };

  return {
    slugs,
    update(source) {
      const slug = slugs.assign({
        id: source.id,
        name: source.record.name,
        path: source.record.path,
      });
      const old = slices.get(source.id);
      const catalog = source.state === 'active' ? source.catalog : undefined;
      if (old && old.catalog === catalog) return;
      if (old) unroute(source.id, old);
      const slice = buildSlice(source, slug);
      slices.set(source.id, slice);
      for (const [name, original] of slice.toolNames)
        toolRoutes.set(name, { id: source.id, name: original });
      for (const [name, original] of slice.promptNames)
        promptRoutes.set(name, { id: source.id, name: original });
      if (old || slice.catalog) {
        lists = undefined;
        signature = undefined;
      }
    },
    remove(id) {
      const slice = slices.get(id);
      if (slice) {
        unroute(id, slice);
        slices.delete(id);
        if (slice.catalog) {
          lists = undefined;
          signature = undefined;
        }
      }
      slugs.release(id);
    },
    toolRoute: (name) => toolRoutes.get(name),
    promptRoute: (name) => promptRoutes.get(name),
    lists() {
      if (lists) return lists;
      const next: ViewLists = {
        tools: [...hubTools],
        resources: [],
        resourceTemplates: [],
        prompts: [],
      };
      for (const slice of slices.values()) {
        if (!slice.catalog) continue;
        next.tools.push(...slice.lists.tools);
        next.resources.push(...slice.lists.resources);
        next.resourceTemplates.push(...slice.lists.resourceTemplates);
        next.prompts.push(...slice.lists.prompts);
      }
      lists = next;
      return lists;
    },
    signature() {
      if (signature) return signature;
      const parts = { tools: [] as string[], resources: [] as string[], prompts: [] as string[] };
      for (const [id, slice] of slices) {
        if (!slice.catalog) continue;
        if (slice.signature.tools) parts.tools.push(`${id}:${slice.signature.tools}`);
        if (slice.signature.resources) parts.resources.push(`${id}:${slice.signature.resources}`);
        if (slice.signature.prompts) parts.prompts.push(`${id}:${slice.signature.prompts}`);
      }
      signature = {
        tools: parts.tools.join(','),
        resources: parts.resources.join(','),
        prompts: parts.prompts.join(','),
      };
      return signature;
    },
  };
}
