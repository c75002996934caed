// instances_tools: finding instance tools by words, including those --max-tools left out.

import type { Tool } from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { HubView } from './view.js';

/** Most definitions one search answers with; the count of the rest is given. */
export const MAX_SEARCH_RESULTS = 20;
/** Instances named per definition; the count of the rest is given. */
const NAMED_INSTANCES = 10;

/** One definition found, as `instances_tools` answers it. */
const FoundToolSchema = z.object({
  tool: z.string().describe("The instances' own name for it (for instances_call)"),
  listed_as: z
    .string()
    .nullable()
    .describe('Its name in the tool list, or null when only instances_call reaches it'),
  instances: z.array(z.string()).describe('Slugs of instances offering it (the first few)'),
  instance_count: z.number(),
  title: z.string().optional(),
  description: z.string(),
  inputSchema: z.record(z.string(), z.unknown()),
});

/** The structured answer of `instances_tools`. */
export const ToolSearchResultSchema = z.object({
  tools: z.array(FoundToolSchema),
  matched: z.number().describe('Definitions that matched, of which `tools` holds the best'),
});

type FoundTool = z.infer<typeof FoundToolSchema>;

/** Lower-case words of two or more letters or digits. */
const words = (text: string) => text.toLowerCase().match(/[a-z0-9]{2,}/g) ?? [];

/**
 * The instance tool definitions matching most words of `query` (all of them when it has none),
 * one entry per distinct definition, best first, at most {@link MAX_SEARCH_RESULTS}.
 */
export function searchTools(
  view: HubView,
  options: { only: string | undefined; query: string | undefined },
): { result: z.infer<typeof ToolSearchResultSchema>; text: string } {
  const wanted = [...new Set(words(options.query ?? ''))];
  const found = new Map<string, { entry: FoundTool; score: number }>();
  for (const slice of view.slices()) {
    if (options.only !== undefined && slice.id !== options.only) continue;
    for (const [own, key] of slice.toolKeys) {
      const known = found.get(key);
      if (known) {
        known.entry.instance_count++;
        if (known.entry.instances.length < NAMED_INSTANCES) known.entry.instances.push(slice.slug);
        known.entry.listed_as ??= view.listedName(slice.id, own) ?? null;
        continue;
      }
      const tool = view.definition(slice.id, own) as Tool;
      const haystack = `${own} ${tool.title ?? ''} ${tool.description ?? ''}`.toLowerCase();
      const score = wanted.filter((w) => haystack.includes(w)).length;
      if (wanted.length > 0 && score === 0) continue;
      found.set(key, {
        score,
        entry: {
          tool: own,
          listed_as: view.listedName(slice.id, own) ?? null,
          instances: [slice.slug],
          instance_count: 1,
          ...(tool.title === undefined ? {} : { title: tool.title }),
          description: tool.description ?? '',
          inputSchema: tool.inputSchema as Record<string, unknown>,
        },
      });
    }
  }
  const ranked = [...found.values()]
    .sort((a, b) => b.score - a.score || a.entry.tool.localeCompare(b.entry.tool))
    .map((f) => f.entry);
  const tools = ranked.slice(0, MAX_SEARCH_RESULTS);
  const lines = tools.map((t) => {
    const where = `${t.instances.join(', ')}${t.instance_count > t.instances.length ? ` and ${t.instance_count - t.instances.length} more` : ''}`;
    const how = t.listed_as
      ? `call ${t.listed_as}`
      : `call instances_call {instance: ${JSON.stringify(t.instances[0])}, tool: ${JSON.stringify(t.tool)}}`;
    const summary = t.description.split('\n')[0] ?? '';
    return `${t.tool} on ${where}: ${how}. ${summary}`.trimEnd();
  });
  if (ranked.length > tools.length)
    lines.push(
      `${ranked.length - tools.length} more matched; narrow the query or name an instance.`,
    );
  return {
    result: { tools, matched: ranked.length },
    text: lines.length > 0 ? lines.join('\n') : 'No instance tool matches.',
  };
}
