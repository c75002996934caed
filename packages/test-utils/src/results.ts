import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';

/** The `_meta` key of a routed tool result naming the instance that answered. */
const ANSWERED_BY = 'beacon/instance';

/** A routed result split into what the instance wrote and who the hub says answered. */
export interface SplitResult {
  /** The result as the instance wrote it (the hub's last line and `_meta` entry taken off). */
  own: CallToolResult;
  /** The hub's closing line (`answered by <name> (<location>)`), if it has one. */
  line: string | undefined;
  /** `_meta["beacon/instance"]`, if present. */
  by: { id: string; name: string; slug: string; location: string } | undefined;
}

/** Splits a tool result the hub routed to an instance (see {@link SplitResult}). */
export function splitAnswer(result: CallToolResult): SplitResult {
  const last = result.content.at(-1) as { type: string; text?: string } | undefined;
  const line =
    last?.type === 'text' && last.text?.startsWith('answered by ') ? last.text : undefined;
  const { _meta, structuredContent, ...rest } = result;
  const { [ANSWERED_BY]: by, ...meta } = (_meta ?? {}) as Record<string, unknown>;
  // The hub also says who answered in object structured content; only its own word is taken.
  const structured = structuredContent as Record<string, unknown> | undefined;
  const { answeredBy, ...instanceStructured } = structured ?? {};
  const own: CallToolResult = {
    ...rest,
    ...(structured === undefined
      ? {}
      : {
          structuredContent:
            answeredBy === line && line !== undefined ? instanceStructured : structured,
        }),
    ...(Object.keys(meta).length > 0 ? { _meta: meta } : {}),
    content: line === undefined ? result.content : result.content.slice(0, -1),
  };
  return { own, line, by: by as SplitResult['by'] };
}
