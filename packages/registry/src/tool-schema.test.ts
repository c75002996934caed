import { describe, expect, it } from 'vitest';
import { PORTABLE_SCHEMA_KEYWORDS, portableSchema, schemaOffences } from './tool-schema.js';

describe('portable tool schemas', () => {
  const zodLike = {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    type: 'object',
    properties: {
      name: { type: 'string', minLength: 1, maxLength: 256, description: 'A script' },
      args: {
        type: 'array',
        maxItems: 64,
        items: { type: 'string', pattern: '^x', maxLength: 4096 },
      },
      extra: { type: 'object', propertyNames: { type: 'string' }, additionalProperties: {} },
      since: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
      reason: { type: ['string', 'null'], default: null },
      state: { type: 'string', enum: ['a', 'b', null] },
    },
    required: ['name', 'gone'],
    additionalProperties: false,
  };

  it('keeps only the keywords every model API takes, at every level', () => {
    expect(schemaOffences(zodLike)).toEqual([
      '(root): $schema',
      'properties.args.items: pattern',
      'properties.extra: propertyNames',
      'properties.extra: additionalProperties',
      'properties.reason: type list',
      'properties.reason: default',
      '(root): additionalProperties',
    ]);
    const portable = portableSchema(zodLike);
    expect(schemaOffences(portable)).toEqual([]);
    expect(portable).toEqual({
      type: 'object',
      properties: {
        name: { type: 'string', minLength: 1, maxLength: 256, description: 'A script' },
        args: { type: 'array', maxItems: 64, items: { type: 'string', maxLength: 4096 } },
        extra: { type: 'object' },
        since: { type: 'integer', minimum: 0 },
        reason: { type: 'string' },
        state: { type: 'string', enum: ['a', 'b'] },
      },
      required: ['name'],
    });
  });

  it('names the keywords it keeps, and refuses what is not a schema', () => {
    expect(PORTABLE_SCHEMA_KEYWORDS).not.toContain('$schema');
    expect(PORTABLE_SCHEMA_KEYWORDS).not.toContain('additionalProperties');
    expect(() => portableSchema('string')).toThrow(/must be an object/);
    expect(schemaOffences(true)).toEqual(['(root): not an object']);
  });
});
