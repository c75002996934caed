// Tool schemas every model API takes. A client hands each listed tool's input schema to its
// model's function-calling API as it is (Gemini CLI) or stripped of what it does not know
// (Codex CLI); the APIs accept different parts of JSON Schema, and the strictest decide what is
// safe. Beacon's own tools keep to what Anthropic's, OpenAI's and Google's function-calling
// documentation all accept.

import { RegistryError } from './errors.js';

/**
 * The JSON Schema keywords Beacon's tool schemas use: those the function-calling APIs of
 * Anthropic, OpenAI and Google (Gemini's OpenAPI-subset `Schema`) all document. Left out, among
 * others: `$schema`, `$ref`/`$defs`, `additionalProperties`, `propertyNames`, `patternProperties`,
 * `oneOf`/`allOf`/`not`, `const`, `default`, `format`, `pattern`, `exclusiveMinimum`/`Maximum`,
 * and a `type` that lists several types (Gemini takes one type per schema).
 */
export const PORTABLE_SCHEMA_KEYWORDS: readonly string[] = [
  'type',
  'description',
  'properties',
  'required',
  'items',
  'enum',
  'minimum',
  'maximum',
  'minItems',
  'maxItems',
  'minLength',
  'maxLength',
];

const KEPT = new Set(PORTABLE_SCHEMA_KEYWORDS);
const LENGTHS = new Set(['minLength', 'maxLength', 'minItems', 'maxItems']);

/** Options of {@link portableSchema}. */
export interface PortableSchemaOptions {
  /**
   * Keep the length bounds of strings and arrays (default true). A server that checks its
   * arguments itself may leave them out: every byte of a tool list is paid on every model turn.
   */
  lengths?: boolean;
}
const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * `schema` with only {@link PORTABLE_SCHEMA_KEYWORDS}, at every level: a list of types becomes
 * its first type other than `null`, `required` names only properties it has, an `enum` keeps
 * its strings and numbers, and a bound no number reaches (`Number.MAX_SAFE_INTEGER`) goes;
 * with `lengths: false`, string and array length bounds go too.
 * What it takes still validates what the original took, or more.
 * @throws {RegistryError} `USAGE` for a schema that is not an object.
 */
export function portableSchema(
  schema: unknown,
  options: PortableSchemaOptions = {},
): Record<string, unknown> {
  if (!isObject(schema))
    throw new RegistryError('INVALID_SCHEMA', 'a tool schema must be an object');
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (!KEPT.has(key) || (options.lengths === false && LENGTHS.has(key))) continue;
    if (key === 'type') {
      const type = Array.isArray(value) ? value.find((t) => t !== 'null') : value;
      if (typeof type === 'string') out.type = type;
    } else if (key === 'properties' && isObject(value)) {
      out.properties = Object.fromEntries(
        Object.entries(value)
          .filter(([, inner]) => isObject(inner))
          .map(([name, inner]) => [name, portableSchema(inner, options)]),
      );
    } else if (key === 'items' && isObject(value)) {
      out.items = portableSchema(value, options);
    } else if (key === 'enum' && Array.isArray(value)) {
      const kept = value.filter((v) => typeof v === 'string' || typeof v === 'number');
      if (kept.length > 0) out.enum = kept;
    } else if (key === 'maximum' && value === Number.MAX_SAFE_INTEGER) {
      // Every integer a client can send is below it.
    } else if (key !== 'required' && key !== 'properties' && key !== 'items') {
      out[key] = value;
    }
  }
  if (Array.isArray(schema.required) && isObject(out.properties)) {
    const names = Object.keys(out.properties);
    const required = schema.required.filter(
      (name): name is string => typeof name === 'string' && names.includes(name),
    );
    if (required.length > 0) out.required = required;
  }
  return out;
}

/**
 * Where `schema` goes beyond {@link PORTABLE_SCHEMA_KEYWORDS}: one `path: keyword` per
 * offence (`properties.args.items: pattern`), empty when it keeps to them.
 */
export function schemaOffences(schema: unknown, at = ''): string[] {
  if (!isObject(schema)) return [`${at || '(root)'}: not an object`];
  const found: string[] = [];
  const here = at || '(root)';
  for (const [key, value] of Object.entries(schema)) {
    if (!KEPT.has(key)) found.push(`${here}: ${key}`);
    else if (key === 'type' && typeof value !== 'string') found.push(`${here}: type list`);
    else if (key === 'properties' && isObject(value))
      for (const [name, inner] of Object.entries(value))
        found.push(...schemaOffences(inner, `${at}${at ? '.' : ''}properties.${name}`));
    else if (key === 'items') found.push(...schemaOffences(value, `${at}${at ? '.' : ''}items`));
  }
  return found;
}
