import { portableSchema } from '@mcp-beacon/registry';
import type { StandardSchemaWithJSON } from '@modelcontextprotocol/server';
import { z } from 'zod';

/** Lengths are checked here, not listed: every byte of a tool list is paid on every turn. */
const LISTED = { lengths: false } as const;

/**
 * A tool's input shape as the SDK takes it: zod checks every call, and the JSON Schema the tool
 * lists keeps to what every model API takes (`portableSchema`: no `$schema`,
 * `additionalProperties`, `pattern` and the like).
 */
export function portable<S extends z.ZodRawShape>(
  shape: S,
): StandardSchemaWithJSON<z.input<z.ZodObject<S>>, z.output<z.ZodObject<S>>> {
  const std = z.object(shape)['~standard'];
  return {
    '~standard': {
      ...std,
      jsonSchema: {
        input: (options) => portableSchema(std.jsonSchema.input(options), LISTED),
        output: (options) => portableSchema(std.jsonSchema.output(options), LISTED),
      },
    },
  } as StandardSchemaWithJSON<z.input<z.ZodObject<S>>, z.output<z.ZodObject<S>>>;
}
