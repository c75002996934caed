import { randomUUID } from 'node:crypto';
import { parseRecord } from '@mcp-beacon/registry';
import { describe, expect, it } from 'vitest';
import { diffState, type FileState } from './_state.js';

function valid(port: number, id = '2b0e6f5c-0b7e-4c5e-9d7a-4f7a0c3e9b11'): FileState {
  const now = '2026-01-01T00:00:00.000Z';
  const parsed = parseRecord({
    id,
    pid: 1,
    path: '/p',
    port,
    started: now,
    name: 'p',
    has_package_json: true,
    last_seen: now,
  });
  if (!parsed.ok) throw new Error(parsed.message);
  return { kind: 'valid', record: parsed.value, json: JSON.stringify(parsed.value) };
}
const invalid = (message = 'bad'): FileState => ({
  kind: 'invalid',
  reason: 'INVALID_JSON',
  message,
});
const types = (before: FileState | undefined, after: FileState | undefined) =>
  diffState('/f.json', before, after).map((e) => e.type);

describe('diffState', () => {
  it('maps every transition to the events a consumer needs', () => {
    expect(types(undefined, valid(1))).toEqual(['added']);
    expect(types(valid(1), valid(2))).toEqual(['updated']);
    expect(types(valid(1), valid(1))).toEqual([]);
    expect(types(valid(1), undefined)).toEqual(['removed']);
    expect(types(valid(1), invalid())).toEqual(['removed', 'invalid']);
    expect(types(invalid(), valid(1))).toEqual(['added']);
    expect(types(undefined, invalid())).toEqual(['invalid']);
    expect(types(invalid('a'), invalid('a'))).toEqual([]);
    expect(types(invalid('a'), invalid('b'))).toEqual(['invalid']);
    expect(types(invalid(), undefined)).toEqual([]);
    expect(types(undefined, undefined)).toEqual([]);
  });

  it('carries the previous record on updates and removals', () => {
    const id = randomUUID();
    const [update] = diffState('/f.json', valid(1, id), valid(2, id));
    expect(update).toMatchObject({
      type: 'updated',
      id,
      record: { port: 2 },
      previous: { port: 1 },
    });
    const [removal] = diffState('/f.json', valid(1, id), undefined);
    expect(removal).toMatchObject({ type: 'removed', id, previous: { port: 1 } });
  });
});
