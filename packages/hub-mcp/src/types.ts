// The view's shared shapes: what it reads from a connection and what it hands out.

import type { ConnectionInfo, InstanceLocation } from '@mcp-beacon/connection-manager';
import type {
  Prompt,
  Resource,
  ResourceTemplateType as ResourceTemplate,
  Tool,
} from '@modelcontextprotocol/server';

/** What the view needs of a connection. */
export type ViewSource = Pick<ConnectionInfo, 'id' | 'record' | 'state' | 'catalog' | 'location'>;

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
  /** Where it runs, its folder as the record has it: for comparisons only, never shown. */
  readonly location: InstanceLocation;
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
