// What the client is shown: the hub's tools, one grouped tool per instance tool name, namespaced
// tools for the rest, and every instance's resources and prompts. Each instance is a slice
// rebuilt only when its own catalog or state changes; the lists are assembled on demand.

import { remoteOf } from '@mcp-beacon/connection-manager';
import type { Tool } from '@modelcontextprotocol/server';
import type {
  Route,
  SliceInfo,
  ToolGroup,
  ToolTarget,
  ViewLists,
  ViewOptions,
  ViewSignature,
  ViewSource,
} from '../types.js';
import { byStart, type GroupEntry, listGroup } from './group.js';
import { DEFAULT_MAX_NAME_LENGTH, plainName, SEPARATOR, SlugBook } from './names.js';
import { buildSlice, digest, type Slice } from './slice.js';

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

interface Group extends ToolGroup {
  readonly members: Map<string, Slice>;
  /** The listed tool and its fingerprint, cached until its members change. */
  listed: { tool: Tool; digest: string } | undefined;
}

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
  const rules = { maxNameLength: maxName, groupName };

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
        remote: remoteOf(source.location),
      });
      const old = slices.get(source.id);
      const catalog = source.state === 'active' ? source.catalog : undefined;
      if (old && old.catalog === catalog && old.started === source.record.started) return false;
      if (old) detach(old);
      const slice = buildSlice(source, slug, rules);
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
