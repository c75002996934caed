// What the client is shown: the hub's tools, one grouped tool per instance tool name, namespaced
// tools for the rest, and every instance's resources and prompts. Each instance is a slice
// rebuilt only when its own catalog or state changes; the lists are assembled on demand.

import { createHash } from 'node:crypto';
import type { ConnectionInfo } from '@mcp-beacon/connection-manager';
import { cleanText } from '@mcp-beacon/registry';
import type { Prompt, Resource, ResourceTemplate, Tool } from '@modelcontextprotocol/sdk/types.js';
import { tag } from './_attribution.js';
import { cleanEntry, defineTool } from './_definitions.js';
import { byStart, type GroupEntry, listGroup } from './_group.js';
import {
  DEFAULT_MAX_NAME_LENGTH,
  plainName,
  proxiedUri,
  qualifiedName,
  SEPARATOR,
  SlugBook,
} from './_names.js';

export { byStart } from './_group.js';

/** What the view needs of a connection. */
export type ViewSource = Pick<ConnectionInfo, 'id' | 'record' | 'state' | 'catalog'> &
  Partial<Pick<ConnectionInfo, 'via'>>;

/** Where a hub-side tool or prompt name leads: the instance and its own name. */
export interface Route {
  id: string;
  name: string;
}

/** How instance tools are listed: once per name (default), or once per instance. */
export type ToolSurface = 'grouped' | 'namespaced';

/** A tool listed once for every instance that offers a tool of its name. */
export interface ToolGroup {
  /** Its hub-side name (the instances' own name, made valid and short enough). */
  readonly name: string;
  /** The instances offering it now (active). */
  readonly members: ReadonlyMap<string, SliceInfo>;
}

/** What the view knows of one instance, for routing and for messages. */
export interface SliceInfo {
  readonly id: string;
  readonly slug: string;
  readonly name: string;
  /** Its folder as shown (cleaned of control characters). */
  readonly path: string;
  /** Its folder as the record has it, for comparisons only: never shown. */
  readonly folder: string;
  /** The remote it runs on; its path is that machine's, never compared with local folders. */
  readonly via: string | undefined;
  readonly started: string;
  /** Hub-side name of each of its tools by its own name: grouped or namespaced. */
  readonly toolNames: ReadonlyMap<string, string>;
  /** Definition key of each of its tools by its own name. */
  readonly toolKeys: ReadonlyMap<string, string>;
  /** Its own tool name behind each group it is a member of, by group name. */
  readonly grouped: ReadonlyMap<string, string>;
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

/** What a tool name leads to. */
export type ToolTarget = { kind: 'group'; group: ToolGroup } | { kind: 'route'; route: Route };

/** Options of {@link createView}. */
export interface ViewOptions {
  /** The hub's own tools, listed first; their names are never given to an instance tool. */
  hubTools: readonly Tool[];
  /** Default `grouped`. */
  surface?: ToolSurface;
  /** Longest tool and prompt name listed (default 48). */
  maxNameLength?: number;
  /** Most tools listed, the hub's own included (default: no cap). */
  maxTools?: number;
}

/** Everything the hub exposes, kept up to date one instance at a time. */
export interface HubView {
  readonly slugs: SlugBook;
  /**
   * Applies a connection's current state and catalog; O(size of that instance). True when a
   * list may have changed.
   */
  update(source: ViewSource): boolean;
  /** The instance left the hub: its names are released. True when a list may have changed. */
  remove(id: string): boolean;
  /**
   * A tool name: a group (a name without `__`), or one instance's namespaced tool
   * (`<slug>__<name>`, only ever that slug's instance).
   */
  tool(name: string): ToolTarget | undefined;
  promptRoute(name: string): Route | undefined;
  /** An instance the view knows, active or not. */
  slice(id: string): SliceInfo | undefined;
  /** Every instance the view knows, in start order. */
  slices(): readonly SliceInfo[];
  /** The listed name of an instance's tool, or undefined when `--max-tools` left it out. */
  listedName(id: string, own: string): string | undefined;
  /** The full definition of an instance's tool as the hub shows it (before naming). */
  definition(id: string, own: string): Tool | undefined;
  /** The full lists, assembled on demand and cached until something changes. */
  lists(): ViewLists;
  /** The lists' fingerprints, cached like {@link lists}. */
  signature(): ViewSignature;
  /** How many groups, routes and slugs the view holds (each bounded by what instances offer). */
  counts(): { groups: number; routes: number; prompts: number; slugs: number; retired: number };
}

interface SliceTool {
  own: string;
  definition: Tool;
  key: string;
  /** The namespaced name: always routable, listed when the tool is not grouped. */
  alias: string;
  /** Its group's name, when it is listed grouped. */
  group: string | undefined;
}

interface Slice extends SliceInfo {
  readonly toolNames: Map<string, string>;
  readonly toolKeys: Map<string, string>;
  readonly grouped: Map<string, string>;
  catalog: ViewSource['catalog'] | undefined;
  /** Its tools by their own names, in catalog order. */
  tools: Map<string, SliceTool>;
  /** Its tools that are not grouped, as listed. */
  namespaced: Tool[];
  resources: Resource[];
  resourceTemplates: ResourceTemplate[];
  prompts: Prompt[];
  promptNames: Map<string, string>;
  signature: ViewSignature;
}

interface Group extends ToolGroup {
  readonly members: Map<string, Slice>;
  /** The listed tool and its fingerprint, cached until its members change. */
  listed: { tool: Tool; digest: string } | undefined;
}

const EMPTY_SIGNATURE: ViewSignature = { tools: '', resources: '', prompts: '' };
const digest = (value: unknown) =>
  createHash('sha1').update(JSON.stringify(value)).digest('base64');

/**
 * Creates the hub's view: the hub's tools first; then, grouped, each instance tool name once
 * with an `instance` argument (see `listGroup` for the definition it shows), or, namespaced,
 * every instance tool as `<slug>__<name>`; then resources as `beacon://<slug>/<uri>`
 * (`ui://<slug>/...` for MCP Apps UI resources) and prompts as `<slug>__<name>`. A tool is
 * namespaced in the grouped surface only when its name is a hub tool's, holds `__` (the form
 * of the hub's own names), or it has an `instance` argument of its own. Namespaced tools,
 * resources and prompts follow instance start order. Every `<slug>__<name>` routes, listed or
 * not, and only to that slug's instance.
 */
export function createView(options: ViewOptions): HubView {
  const { hubTools } = options;
  const surface = options.surface ?? 'grouped';
  const maxName = options.maxNameLength ?? DEFAULT_MAX_NAME_LENGTH;
  const maxTools = options.maxTools ?? Number.POSITIVE_INFINITY;
  const hubNames = new Set(hubTools.map((t) => t.name));
  const slugs = new SlugBook();
  const slices = new Map<string, Slice>();
  const groups = new Map<string, Group>();
  const aliases = new Map<string, Route>();
  const promptRoutes = new Map<string, Route>();
  let ordered: Slice[] | undefined;
  let lists: ViewLists | undefined;
  let listedNames: Set<string> | undefined;
  let signature: ViewSignature | undefined;

  const changed = () => {
    lists = undefined;
    listedNames = undefined;
    signature = undefined;
  };
  const inOrder = () => {
    ordered ??= [...slices.values()].sort(byStart);
    return ordered;
  };
  /** The name a tool is grouped under, or undefined when it must be namespaced. */
  const groupName = (own: string, groupable: boolean): string | undefined => {
    if (surface !== 'grouped' || !groupable) return undefined;
    const name = plainName(own, maxName);
    return hubNames.has(name) || name.includes(SEPARATOR) ? undefined : name;
  };

  const build = (source: ViewSource, slug: string): Slice => {
    const active = source.state === 'active';
    const slice: Slice = {
      id: source.id,
      slug,
      // Names and paths come from other processes: escaped so no terminal gets them raw.
      name: cleanText(source.record.name),
      path: cleanText(source.record.path),
      folder: source.record.path,
      via: source.via,
      started: source.record.started,
      toolNames: new Map(),
      toolKeys: new Map(),
      grouped: new Map(),
      catalog: active ? source.catalog : undefined,
      tools: new Map(),
      namespaced: [],
      resources: [],
      resourceTemplates: [],
      prompts: [],
      promptNames: new Map(),
      signature: EMPTY_SIGNATURE,
    };
    if (!active) return slice;
    const { catalog } = source;
    const describe = (text: string | undefined) => `${tag(slice.name)} ${text ?? ''}`.trimEnd();
    for (const tool of catalog.tools) {
      if (slice.toolKeys.has(tool.name)) continue;
      const { tool: definition, key, groupable } = defineTool(tool, slug);
      const alias = qualifiedName(slug, tool.name, maxName);
      let group = groupName(tool.name, groupable);
      if (group !== undefined && slice.grouped.has(group)) group = undefined;
      slice.toolKeys.set(tool.name, key);
      slice.tools.set(tool.name, { own: tool.name, definition, key, alias, group });
      slice.toolNames.set(tool.name, group ?? alias);
      if (group !== undefined) slice.grouped.set(group, tool.name);
      else
        slice.namespaced.push({
          ...definition,
          name: alias,
          description: describe(definition.description),
        });
    }
    for (const prompt of catalog.prompts) {
      const name = qualifiedName(slug, prompt.name, maxName);
      if (slice.promptNames.has(name)) continue;
      slice.promptNames.set(name, prompt.name);
      const clean = cleanEntry(prompt);
      slice.prompts.push({ ...clean, name, description: describe(clean.description) });
    }
    slice.resources = catalog.resources.map((r) => {
      const clean = cleanEntry(r);
      return { ...clean, uri: proxiedUri(slug, r.uri), description: describe(clean.description) };
    });
    slice.resourceTemplates = catalog.resourceTemplates.map((t) => {
      const clean = cleanEntry(t);
      return {
        ...clean,
        uriTemplate: proxiedUri(slug, t.uriTemplate),
        description: describe(clean.description),
      };
    });
    const { namespaced, resources, resourceTemplates, prompts } = slice;
    slice.signature = {
      tools: namespaced.length ? digest(namespaced) : '',
      resources:
        resources.length || resourceTemplates.length ? digest([resources, resourceTemplates]) : '',
      prompts: prompts.length ? digest(prompts) : '',
    };
    return slice;
  };

  const attach = (slice: Slice) => {
    for (const tool of slice.tools.values()) {
      // First come keeps an alias (two slugs never make one, but a shortened one might).
      if (!aliases.has(tool.alias)) aliases.set(tool.alias, { id: slice.id, name: tool.own });
      if (tool.group === undefined) continue;
      let group = groups.get(tool.group);
      if (!group) {
        group = { name: tool.group, members: new Map(), listed: undefined };
        groups.set(tool.group, group);
      }
      group.members.set(slice.id, slice);
      group.listed = undefined;
    }
    for (const [name, original] of slice.promptNames)
      if (!promptRoutes.has(name)) promptRoutes.set(name, { id: slice.id, name: original });
  };

  const detach = (slice: Slice) => {
    for (const tool of slice.tools.values()) {
      if (aliases.get(tool.alias)?.id === slice.id) aliases.delete(tool.alias);
      const group = tool.group === undefined ? undefined : groups.get(tool.group);
      if (!group) continue;
      group.members.delete(slice.id);
      group.listed = undefined;
      // A name no instance offers is forgotten: memory follows what instances offer now.
      if (group.members.size === 0) groups.delete(group.name);
    }
    for (const name of slice.promptNames.keys())
      if (promptRoutes.get(name)?.id === slice.id) promptRoutes.delete(name);
  };

  const listed = (group: Group) => {
    if (!group.listed) {
      const entries: GroupEntry[] = [];
      for (const member of group.members.values()) {
        const tool = member.tools.get(member.grouped.get(group.name)!)!;
        entries.push({ member, tool: tool.definition, key: tool.key });
      }
      const tool = listGroup(group.name, entries);
      group.listed = { tool, digest: digest(tool) };
    }
    return group.listed;
  };
  const sortedGroups = () =>
    [...groups.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

  const assemble = (): ViewLists => {
    const next: ViewLists = {
      tools: [...hubTools],
      resources: [],
      resourceTemplates: [],
      prompts: [],
    };
    const names = new Set(next.tools.map((t) => t.name));
    const add = (tool: Tool) => {
      if (next.tools.length >= maxTools || names.has(tool.name)) return;
      names.add(tool.name);
      next.tools.push(tool);
    };
    for (const group of sortedGroups()) add(listed(group).tool);
    for (const slice of inOrder()) {
      if (!slice.catalog) continue;
      for (const tool of slice.namespaced) add(tool);
      next.resources.push(...slice.resources);
      next.resourceTemplates.push(...slice.resourceTemplates);
      next.prompts.push(...slice.prompts);
    }
    return next;
  };

  const current = () => {
    lists ??= assemble();
    return lists;
  };

  return {
    slugs,
    update(source) {
      const slug = slugs.assign({
        id: source.id,
        name: source.record.name,
        path: source.record.path,
        remote: source.via,
      });
      const old = slices.get(source.id);
      const catalog = source.state === 'active' ? source.catalog : undefined;
      if (old && old.catalog === catalog && old.started === source.record.started) return false;
      if (old) detach(old);
      const slice = build(source, slug);
      attach(slice);
      slices.set(source.id, slice);
      ordered = undefined;
      if (!old?.catalog && !slice.catalog) return false;
      changed();
      return true;
    },
    remove(id) {
      const slice = slices.get(id);
      slugs.release(id);
      if (!slice) return false;
      detach(slice);
      slices.delete(id);
      ordered = undefined;
      if (!slice.catalog) return false;
      changed();
      return true;
    },
    tool(name) {
      if (name.includes(SEPARATOR)) {
        const route = aliases.get(name);
        return route && { kind: 'route', route };
      }
      const group = groups.get(name);
      return group && { kind: 'group', group };
    },
    promptRoute: (name) => promptRoutes.get(name),
    slice: (id) => slices.get(id),
    slices: () => inOrder(),
    listedName(id, own) {
      const name = slices.get(id)?.toolNames.get(own);
      if (name === undefined) return undefined;
      listedNames ??= new Set(current().tools.map((t) => t.name));
      return listedNames.has(name) ? name : undefined;
    },
    definition: (id, own) => slices.get(id)?.tools.get(own)?.definition,
    lists: current,
    signature() {
      if (signature) return signature;
      const parts = { tools: [] as string[], resources: [] as string[], prompts: [] as string[] };
      for (const group of sortedGroups()) parts.tools.push(listed(group).digest);
      for (const slice of inOrder()) {
        if (!slice.catalog) continue;
        const { id } = slice;
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
    counts() {
      const { live, retired } = slugs.counts();
      return {
        groups: groups.size,
        routes: aliases.size,
        prompts: promptRoutes.size,
        slugs: live,
        retired,
      };
    },
  };
}
