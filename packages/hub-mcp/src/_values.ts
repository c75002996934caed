// Small shapes shared by the view and the handlers: a JSON object test and a tool error result.
import type { CallToolResult } from '@modelcontextprotocol/server';

/** Whether a JSON value is an object (not null, not an array). */
export const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A tool result that reports `text` as an error the model can read. */
export const toolError = (text: string): CallToolResult => ({
  isError: true,
  content: [{ type: 'text', text }],
});
