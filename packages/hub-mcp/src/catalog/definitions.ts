import { createHash } from 'node:crypto';
import { cleanText } from '@mcp-beacon/runtime';
import type { Tool } from '@modelcontextprotocol/server';
import { isRecord } from '../_values.js';
import { withAnsweredBy } from '../calls/attribution.js';
import { proxiedUri } from './names.js';

/** The argument the hub adds to a grouped tool to pick the instance that runs it. */
export const INSTANCE_ARG = 'instance';

/** Multi-line text from an instance, safe for a terminal, a client and a model. */
export const cleanDescription = (text: string) => cleanText(text, { newlines: true });

/** Every `title` and `description` string inside a JSON Schema, cleaned; the rest as it was. */
function cleanSchema(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(cleanSchema);
  if (!isRecord(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value))
    out[key] =
      (key === 'description' || key === 'title') && typeof inner === 'string'
        ? cleanDescription(inner)
        : cleanSchema(inner);
  return out;
}

/** Icons a client may fetch: `https:` and `data:` only (no `http:`, `file:` or `javascript:`). */
export function safeIcons<T extends { icons?: { src: string }[] | undefined }>(item: T): T {
  if (!Array.isArray(item.icons)) return item;
  const icons = item.icons.filter((icon) => /^(?:https:|data:)/i.test(icon.src));
  const { icons: _dropped, ...rest } = item;
  return (icons.length > 0 ? { ...rest, icons } : rest) as T;
}

/**
 * A prompt, resource or template's text as the hub shows it: title, description and prompt
 * arguments' titles and descriptions cleaned, icons limited to https: and data:.
 */
export function cleanEntry<
  T extends {
    title?: string | undefined;
    description?: string | undefined;
    arguments?: { title?: string | undefined; description?: string | undefined }[] | undefined;
    icons?: { src: string }[] | undefined;
  },
>(entry: T): T {
  const out: T = { ...safeIcons(entry) };
  if (out.title !== undefined) out.title = cleanText(out.title);
  if (out.description !== undefined) out.description = cleanDescription(out.description);
  if (Array.isArray(out.arguments))
    out.arguments = out.arguments.map((a) => ({
      ...a,
      ...(a.title === undefined ? {} : { title: cleanText(a.title) }),
      ...(a.description === undefined ? {} : { description: cleanDescription(a.description) }),
    }));
  return out;
}

/** `_meta` with its MCP Apps UI resource (`ui.resourceUri`, or the flat `ui/resourceUri`) made hub-side. */
function rewriteUiMeta(meta: Record<string, unknown>, slug: string): Record<string, unknown> {
  let out = meta;
  const ui = meta.ui;
  if (isRecord(ui) && typeof ui.resourceUri === 'string')
    out = { ...out, ui: { ...ui, resourceUri: proxiedUri(slug, ui.resourceUri) } };
  const flat = meta['ui/resourceUri'];
  if (typeof flat === 'string') out = { ...out, 'ui/resourceUri': proxiedUri(slug, flat) };
  return out;
}

/** True when a tool shows an MCP Apps UI: its resource belongs to one instance. */
function hasUi(meta: unknown): boolean {
  return (
    isRecord(meta) &&
    ((isRecord(meta.ui) && typeof meta.ui.resourceUri === 'string') ||
      typeof meta['ui/resourceUri'] === 'string')
  );
}

/** An instance tool as the hub shows it, before it is given a hub-side name. */
export interface ToolDefinition {
  /** Cleaned text, UI resource URIs made hub-side; `name` is still the instance's own. */
  tool: Tool;
  /**
   * Equal keys, identical definitions (name, title, description, schemas, annotations, `_meta`
   * with the instance's own UI resource URI).
   */
  key: string;
  /** False when it has an `instance` argument of its own, which the hub's would shadow. */
  groupable: boolean;
}

/**
 * Cleans an instance tool (title, description, annotation title, and every title and
 * description inside its schemas) and points its MCP Apps UI resource at the hub-side
 * `ui://<slug>/...` URI.
 */
export function defineTool(tool: Tool, slug: string): ToolDefinition {
  const ui = hasUi(tool._meta);
  const clean: Tool = {
    ...safeIcons(tool),
    ...(tool.title === undefined ? {} : { title: cleanText(tool.title) }),
    description: cleanDescription(tool.description ?? ''),
    inputSchema: cleanSchema(tool.inputSchema) as Tool['inputSchema'],
    ...(tool.outputSchema === undefined
      ? {}
      : {
          outputSchema: withAnsweredBy(
            cleanSchema(tool.outputSchema) as Record<string, unknown>,
          ) as Tool['outputSchema'],
        }),
    ...(tool.annotations?.title === undefined
      ? {}
      : { annotations: { ...tool.annotations, title: cleanText(tool.annotations.title) } }),
    ...(ui && tool._meta ? { _meta: rewriteUiMeta(tool._meta, slug) } : {}),
  };
  const properties = tool.inputSchema?.properties;
  const groupable = !(isRecord(properties) && INSTANCE_ARG in properties);
  // The definition as the instance wrote it (its own UI URI, not the hub-side one), so one app
  // served by two instances has one key.
  const own = ui && tool._meta ? { ...clean, _meta: tool._meta } : clean;
  const key = createHash('sha1').update(JSON.stringify(own)).digest('base64');
  return { tool: clean, key, groupable };
}

/**
 * A grouped tool's input schema: the instance's own, plus an optional `instance` property.
 */
export function withInstanceArg(schema: Tool['inputSchema']): Tool['inputSchema'] {
  return {
    ...schema,
    type: 'object',
    properties: {
      ...(isRecord(schema.properties) ? schema.properties : {}),
      [INSTANCE_ARG]: {
        type: 'string',
        description: 'Project: name, id or folder (default: the one you work in)',
      },
    },
  };
}

/** A call's arguments without the hub's `instance`, and the instance it names (if any). */
export function takeInstanceArg(args: Record<string, unknown> | undefined): {
  instance: unknown;
  rest: Record<string, unknown> | undefined;
} {
  if (args === undefined || !(INSTANCE_ARG in args)) return { instance: undefined, rest: args };
  const { [INSTANCE_ARG]: instance, ...rest } = args;
  return { instance, rest };
}
