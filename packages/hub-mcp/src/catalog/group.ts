// How a grouped tool is listed: one entry per instance tool name, whatever definitions its
// instances have. The listed definition is chosen from the current members only (never by who
// came first) and stays valid for all of them; the instance that runs a call checks its own
// arguments.

import { type InstanceLocation, isLocal } from '@mcp-beacon/connection-manager';
import type { Tool } from '@modelcontextprotocol/server';
import { isRecord } from '../_values.js';
import { withInstanceArg } from './definitions.js';

/** One member's tool, as the group lists it. */
export interface GroupEntry {
  readonly member: {
    readonly id: string;
    readonly name: string;
    readonly slug: string;
    readonly path: string;
    readonly location: InstanceLocation;
    readonly started: string;
  };
  /** Its definition as the hub shows it (text cleaned, UI resource URI made hub-side). */
  readonly tool: Tool;
  /** Equal keys, identical definitions as the instances wrote them. */
  readonly key: string;
}

/** Most distinct definitions whose input properties the listed schema combines. */
const MERGED_DEFINITIONS = 4;

const json = (value: unknown) => JSON.stringify(value) ?? 'undefined';
/** Instance start order (then id): the order of descriptions and messages. */
export const byStart = (a: GroupEntry['member'], b: GroupEntry['member']) =>
  a.started.localeCompare(b.started) || a.id.localeCompare(b.id);

interface Variant {
  key: string;
  tool: Tool;
  entries: GroupEntry[];
  local: boolean;
}

/**
 * The group's distinct definitions, the listed one first: offered by the most members, then
 * one a local instance offers, then by key. Nothing in it depends on arrival order.
 */
function rankVariants(entries: readonly GroupEntry[]): Variant[] {
  const byKey = new Map<string, Variant>();
  for (const entry of entries) {
    let variant = byKey.get(entry.key);
    if (!variant) {
      variant = { key: entry.key, tool: entry.tool, entries: [], local: false };
      byKey.set(entry.key, variant);
    }
    variant.entries.push(entry);
    if (isLocal(entry.member.location)) variant.local = true;
  }
  const variants = [...byKey.values()];
  for (const variant of variants) {
    variant.entries.sort((a, b) => byStart(a.member, b.member));
    // Its text and UI come from its first local member (start order), else its first.
    const first = variant.entries.find((e) => isLocal(e.member.location)) ?? variant.entries[0]!;
    variant.tool = first.tool;
  }
  return variants.sort(
    (a, b) =>
      b.entries.length - a.entries.length ||
      Number(b.local) - Number(a.local) ||
      (a.key < b.key ? -1 : a.key > b.key ? 1 : 0),
  );
}

/**
 * One input schema valid for every definition given: the properties of the first
 * {@link MERGED_DEFINITIONS} (a property they describe differently becomes `anyOf` their
 * schemas, so the listed tool stays bounded), required only what all require, and
 * `additionalProperties` only where all agree.
 */
function mergeInputSchemas(schemas: readonly Tool['inputSchema'][]): Tool['inputSchema'] {
  const [first] = schemas;
  if (!first || schemas.length === 1) return first ?? { type: 'object' };
  const properties: Record<string, unknown> = {};
  const variants = new Map<string, unknown[]>();
  for (const schema of schemas.slice(0, MERGED_DEFINITIONS)) {
    const own = isRecord(schema.properties) ? schema.properties : {};
    for (const [name, property] of Object.entries(own)) {
      const seen = variants.get(name);
      if (!seen) variants.set(name, [property]);
      else if (!seen.some((p) => json(p) === json(property))) seen.push(property);
    }
  }
  for (const [name, seen] of variants) {
    const head = seen[0];
    properties[name] =
      seen.length === 1
        ? head
        : {
            ...(isRecord(head) && typeof head.description === 'string'
              ? { description: head.description }
              : {}),
            anyOf: seen,
          };
  }
  const required = schemas
    .map((s) => (Array.isArray(s.required) ? s.required : []))
    .reduce((all, some) => all.filter((name) => some.includes(name)));
  const extra = schemas.map((s) => json((s as Record<string, unknown>).additionalProperties));
  const {
    required: _r,
    properties: _p,
    additionalProperties: _a,
    ...rest
  } = first as Record<string, unknown>;
  return {
    ...rest,
    type: 'object',
    properties,
    ...(required.length > 0 ? { required } : {}),
    ...(extra.every((e) => e === extra[0]) && extra[0] !== 'undefined'
      ? { additionalProperties: (first as Record<string, unknown>).additionalProperties }
      : {}),
  } as Tool['inputSchema'];
}

/** The annotations every definition agrees on (a hint one member lacks is left out). */
function commonAnnotations(tools: readonly Tool[]): Tool['annotations'] {
  const [first, ...rest] = tools;
  if (!first?.annotations) return undefined;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(first.annotations))
    if (rest.every((t) => t.annotations && json((t.annotations as never)[key]) === json(value)))
      out[key] = value;
  return Object.keys(out).length > 0 ? (out as Tool['annotations']) : undefined;
}

/**
 * The tool a group lists under `name`: its chosen definition (see {@link rankVariants}) with an
 * `instance` argument, its text marked as a project's. When the members' definitions differ, it
 * accepts the arguments of the most common ones ({@link mergeInputSchemas}), keeps an output
 * schema, annotations and `_meta` only where all agree, and says that projects differ without
 * naming one as the owner.
 */
export function listGroup(name: string, entries: readonly GroupEntry[]): Tool {
  const variants = rankVariants(entries);
  const chosen = variants[0]!;
  // Its text is a project's words, marked as such (like every text a project writes), and not
  // as any one project's: a client working in another project reads it as its own.
  const own = chosen.tool.description ? `${PROJECT_TAG} ${chosen.tool.description}` : '';
  if (variants.length === 1)
    return {
      ...chosen.tool,
      name,
      description: own,
      inputSchema: withInstanceArg(chosen.tool.inputSchema),
    };
  const description = `${own}${own ? '\n' : ''}Projects define it ${variants.length} ways; this is the most common (instances_tools shows each). The project that runs a call checks its arguments.`;
  const tools = variants.map((v) => v.tool);
  const output = tools.map((t) => json(t.outputSchema));
  const annotations = commonAnnotations(tools);
  const {
    _meta: _dropped,
    outputSchema: _output,
    annotations: _annotations,
    ...base
  } = chosen.tool;
  return {
    ...base,
    name,
    description,
    inputSchema: withInstanceArg(mergeInputSchemas(tools.map((t) => t.inputSchema))),
    ...(output.every((o) => o === output[0]) && chosen.tool.outputSchema !== undefined
      ? { outputSchema: chosen.tool.outputSchema }
      : {}),
    ...(annotations ? { annotations } : {}),
  };
}

/** What marks a grouped tool's description as a project's words. */
export const PROJECT_TAG = '[project]';
