// What the client is shown: the hub's tools, one grouped tool per instance tool definition,
// namespaced tools for the rest, and every instance's resources and prompts. Each instance is a
// slice rebuilt only when its own catalog or state changes; the lists are assembled on demand.
// Over 300 lines on purpose: slices, groups and routes change together in every update, and one
// invariant (each name leads to one target, and keeps it once shown) holds across all three.

import { createHash } from 'node:crypto';
import type { ConnectionInfo } from '@mcp-beacon/connection-manager';
import { cleanText } from '@mcp-beacon/registry';
import type { Prompt, Resource, ResourceTemplate, Tool } from '@modelcontextprotocol/sdk/types.js';
import { cleanEntry, defineTool, withInstanceArg } from './_definitions.js';
import {
  DEFAULT_MAX_NAME_LENGTH,
  plainName,
  proxiedUri,
  qualifiedName,
  SlugBook,
} from './_names.js';

/** What the view needs of a connection. */
export type ViewSource = Pick<ConnectionInfo, 'id' | 'record' | 'state' | 'catalog'> &
  Partial<Pick<ConnectionInfo, 'via'>>;

/** Where a hub-side tool or prompt name leads: the instance and its own name. */
export interface Route {
  id: string;
  name: string;
}

/** How instance tools are listed: once per definition (default), or once per instance. */
export type ToolSurface = 'grouped' | 'namespaced';

/** A tool listed once for every instance that offers its definition. */
export interface ToolGroup {
  /** Its hub-side name (the instances' own name, made valid and short enough). */
  readonly name: string;
  /** The instances' own name for it. */
  readonly own: string;
  /** The definition's key: an instance offers this tool when its definition has this key. */
  readonly key: string;
  /** The instances offering it now (active), in the order they joined. */
  readonly members: ReadonlyMap<string, SliceInfo>;
}

/** What the view knows of one instance, for routing and for messages. */
export interface SliceInfo {
  readonly id: string;
  readonly slug: string;
  readonly name: string;
  readonly path: string;
  /** The remote it runs on; its path is that machine's, never compared with local folders. */
  readonly via: string | undefined;
  readonly started: string;
  /** Hub-side name of each of its tools by its own name: grouped or namespaced. */
  readonly toolNames: ReadonlyMap<string, string>;
  /** Definition key of each of its tools by its own name. */
  readonly toolKeys: ReadonlyMap<string, string>;
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
  /** Applies a connection's current state and catalog; O(size of that instance). */
  update(source: ViewSource): void;
  /** The instance left the hub: its names are released. */
  remove(id: string): void;
  /** A listed or remembered tool name: a group, or one instance's tool. */
  tool(name: string): ToolTarget | undefined;
  promptRoute(name: string): Route | undefined;
  /** An instance the view knows, active or not. */
  slice(id: string): SliceInfo | undefined;
  /** Every instance tool definition the view knows, by instance in start order. */
  slices(): readonly SliceInfo[];
  /** The listed name of an instance's tool, or undefined when `--max-tools` left it out. */
  listedName(id: string, own: string): string | undefined;
  /** The full definition of an instance's tool as the hub shows it (before naming). */
  definition(id: string, own: string): Tool | undefined;
  /** The full lists, assembled on demand and cached until something changes. */
  lists(): ViewLists;
  /** The lists' fingerprints, cached like {@link lists}. */
  signature(): ViewSignature;
  /** The tool list was sent to the client: its grouped names keep their meaning from now on. */
  markShown(): void;
}

interface SliceTool {
  own: string;
  definition: Tool;
  key: string;
  /** The namespaced name: always routable, listed when the tool is not grouped. */
  alias: string;
  /** False for a tool the hub must not give an `instance` argument: always namespaced. */
  groupable: boolean;
  group: Group | undefined;
}

interface Slice extends SliceInfo {
  readonly toolNames: Map<string, string>;
  readonly toolKeys: Map<string, string>;
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
  definition: Tool;
  /** Shown to the client: kept (and its name bound to its key) even with no members. */
  shown: boolean;
  /** The listed tool, cached until its members change. */
  listed: Tool | undefined;
}

/** Instances named in a grouped tool's description; the rest are counted. */
const NAMED_MEMBERS = 3;
const EMPTY_SIGNATURE: ViewSignature = { tools: '', resources: '', prompts: '' };
const digest = (value: unknown) =>
  createHash('sha1').update(JSON.stringify(value)).digest('base64');
/** Instance start order (then id): the order of lists, descriptions and messages. */
export const byStart = (a: SliceInfo, b: SliceInfo) =>
  a.started.localeCompare(b.started) || a.id.localeCompare(b.id);

/** The first {@link NAMED_MEMBERS} members by start order, and how many there are. */
function head(group: Group): SliceInfo[] {
  return [...group.members.values()].sort(byStart).slice(0, NAMED_MEMBERS);
}

function describeGroup(group: Group): Tool {
  const named = head(group).map((m) => `${m.name} (${m.path})`);
  const more = group.members.size - named.length;
  const offered = `${named.join(', ')}${more > 0 ? ` and ${more} more (instances_list)` : ''}`;
  const own = group.definition.description ?? '';
  return {
    ...group.definition,
    name: group.name,
    description: `${own}${own ? '\n\n' : ''}On: ${offered}. Pick one with \`instance\`; without it, the one holding your workspace root is used, else the only one.`,
    inputSchema: withInstanceArg(group.definition.inputSchema),
  };
}

/**
 * Creates the hub's view: the hub's tools first; then, grouped, each distinct instance tool
 * definition once under its own name with an `instance` argument (the first definition seen
 * keeps a name; a different one under a taken name is listed as `<slug>__<name>`), or,
 * namespaced, every instance tool as `<slug>__<name>`; then resources as `beacon://<slug>/<uri>`
 * (`ui://<slug>/...` for MCP Apps UI resources) and prompts as `<slug>__<name>`. Namespaced
 * tools, resources and prompts follow instance start order. Every `<slug>__<name>` routes,
 * listed or not.
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

  const place = (slice: Slice, tool: SliceTool) => {
    const name = plainName(tool.own, maxName);
    if (surface === 'grouped' && tool.groupable && !hubNames.has(name)) {
      let group = groups.get(name);
      if (!group) {
        group = {
          name,
          own: tool.own,
          key: tool.key,
          definition: tool.definition,
          members: new Map(),
          shown: false,
          listed: undefined,
        };
        groups.set(name, group);
      }
      if (group.key === tool.key) {
        group.members.set(slice.id, slice);
        group.listed = undefined;
        tool.group = group;
        slice.toolNames.set(tool.own, name);
        return;
      }
    }
    slice.toolNames.set(tool.own, tool.alias);
    slice.namespaced.push({
      ...tool.definition,
      name: tool.alias,
      description: `[${slice.name}] ${tool.definition.description ?? ''}`.trimEnd(),
    });
  };

  const build = (source: ViewSource, slug: string): Slice => {
    const active = source.state === 'active';
    const slice: Slice = {
      id: source.id,
      slug,
      // Names and paths come from other processes: escaped so no terminal gets them raw.
      name: cleanText(source.record.name),
      path: cleanText(source.record.path),
      via: source.via,
      started: source.record.started,
      toolNames: new Map(),
      toolKeys: new Map(),
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
    for (const tool of catalog.tools) {
      if (slice.toolKeys.has(tool.name)) continue;
      const { tool: definition, key, groupable } = defineTool(tool, slug);
      slice.toolKeys.set(tool.name, key);
      slice.tools.set(tool.name, {
        own: tool.name,
        definition,
        key,
        alias: qualifiedName(slug, tool.name, maxName),
        groupable,
        group: undefined,
      });
    }
    const describe = (text: string | undefined) => `[${slice.name}] ${text ?? ''}`.trimEnd();
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
    return slice;
  };

  const attach = (slice: Slice) => {
    for (const tool of slice.tools.values()) {
      place(slice, tool);
      aliases.set(tool.alias, { id: slice.id, name: tool.own });
    }
    for (const [name, original] of slice.promptNames)
      promptRoutes.set(name, { id: slice.id, name: original });
    const { namespaced, resources, resourceTemplates, prompts } = slice;
    slice.signature = {
      tools: namespaced.length ? digest(namespaced) : '',
      resources:
        resources.length || resourceTemplates.length ? digest([resources, resourceTemplates]) : '',
      prompts: prompts.length ? digest(prompts) : '',
    };
  };

  const detach = (slice: Slice) => {
    for (const tool of slice.tools.values()) {
      if (aliases.get(tool.alias)?.id === slice.id) aliases.delete(tool.alias);
      const group = tool.group;
      if (!group) continue;
      group.members.delete(slice.id);
      group.listed = undefined;
      // A name the client never saw may go to the next definition that comes along.
      if (group.members.size === 0 && !group.shown) groups.delete(group.name);
    }
    for (const name of slice.promptNames.keys())
      if (promptRoutes.get(name)?.id === slice.id) promptRoutes.delete(name);
  };

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
    const live = [...groups.values()].filter((g) => g.members.size > 0);
    live.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const group of live) {
      group.listed ??= describeGroup(group);
      add(group.listed);
    }
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
      });
      const old = slices.get(source.id);
      const catalog = source.state === 'active' ? source.catalog : undefined;
      if (old && old.catalog === catalog) return;
      if (old) detach(old);
      const slice = build(source, slug);
      attach(slice);
      slices.set(source.id, slice);
      ordered = undefined;
      if (old?.catalog || slice.catalog) changed();
    },
    remove(id) {
      const slice = slices.get(id);
      if (slice) {
        detach(slice);
        slices.delete(id);
        ordered = undefined;
        if (slice.catalog) changed();
      }
      slugs.release(id);
    },
    tool(name) {
      const group = groups.get(name);
      if (group) return { kind: 'group', group };
      const route = aliases.get(name);
      return route && { kind: 'route', route };
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
      for (const group of groups.values()) {
        if (group.members.size === 0) continue;
        const named = head(group).map((m) => m.id);
        parts.tools.push(`${group.name}:${group.key}:${group.members.size}:${named.join('+')}`);
      }
      parts.tools.sort();
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
    markShown() {
      for (const tool of current().tools) {
        const group = groups.get(tool.name);
        if (group) group.shown = true;
      }
    },
  };
}
