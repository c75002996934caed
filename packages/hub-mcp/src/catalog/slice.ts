// One instance's slice of the view: its tools (grouped or namespaced), prompts and resources
// under hub-side names, with a fingerprint per list, built from its catalog alone.

import { createHash } from 'node:crypto';
import { cleanText } from '@mcp-beacon/runtime';
import type {
  Prompt,
  Resource,
  ResourceTemplateType as ResourceTemplate,
  Tool,
} from '@modelcontextprotocol/server';
import { tag } from '../calls/attribution.js';
import type { SliceInfo, ViewSignature, ViewSource } from '../types.js';
import { cleanEntry, defineTool } from './definitions.js';
import { proxiedUri, qualifiedName } from './names.js';

/** One tool of an instance as the view keeps it. */
export interface SliceTool {
  own: string;
  definition: Tool;
  key: string;
  /** The namespaced name: always routable, listed when the tool is not grouped. */
  alias: string;
  /** Its group's name, when it is listed grouped. */
  group: string | undefined;
}

/** One instance as the view keeps it: its names, routes and listed entries. */
export interface Slice extends SliceInfo {
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

/** How the view names an instance's entries. */
export interface SliceRules {
  maxNameLength: number;
  /** The name a tool is grouped under, or undefined when it must be namespaced. */
  groupName(own: string, groupable: boolean): string | undefined;
}

const EMPTY_SIGNATURE: ViewSignature = { tools: '', resources: '', prompts: '' };

/** A fingerprint of JSON-able data. */
export const digest = (value: unknown) =>
  createHash('sha1').update(JSON.stringify(value)).digest('base64');

/**
 * The slice of one instance: names and paths cleaned, its tools defined (`defineTool`) and
 * named `<slug>__<name>` unless grouped, its prompts `<slug>__<name>` and its resources
 * `beacon://<slug>/...`, every description marked with the instance. An instance that is not
 * active has an empty slice.
 */
export function buildSlice(source: ViewSource, slug: string, rules: SliceRules): Slice {
  const active = source.state === 'active';
  const slice: Slice = {
    id: source.id,
    slug,
    // Names and paths come from other processes: escaped so no terminal gets them raw.
    name: cleanText(source.record.name),
    path: cleanText(source.record.path),
    location: source.location,
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
    const alias = qualifiedName(slug, tool.name, rules.maxNameLength);
    let group = rules.groupName(tool.name, groupable);
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
    const name = qualifiedName(slug, prompt.name, rules.maxNameLength);
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
}
