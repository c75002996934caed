import { randomUUID } from 'node:crypto';
import type { ConnectionInfo } from '@mcp-beacon/connection-manager';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { chooseInstance } from './_select.js';
import { createView, type ViewSource } from './_view.js';

const HUB: Tool[] = [{ name: 'instances_list', inputSchema: { type: 'object' } }];

function source(name: string, path: string, started: number, via?: string): ViewSource {
  return {
    id: randomUUID(),
    record: { name, path, started: new Date(started).toISOString() } as ViewSource['record'],
    state: 'active',
    catalog: {
      tools: [{ name: 'run', description: 'run', inputSchema: { type: 'object' } }],
      resources: [],
      resourceTemplates: [],
      prompts: [],
    },
    ...(via ? { via } : {}),
  };
}

function choose(sources: ViewSource[], roots: string[]) {
  const view = createView({ hubTools: HUB });
  for (const s of sources) view.update(s);
  const target = view.tool('run');
  if (target?.kind !== 'group') throw new Error('run is not grouped');
  return chooseInstance({
    group: target.group,
    instance: undefined,
    all: () => sources as unknown as ConnectionInfo[],
    slugs: view.slugs.all(),
    roots,
    slice: (id) => view.slice(id),
  });
}

describe('the default instance of a grouped call', () => {
  it('never takes a remote instance for a client root, even at the same path', () => {
    const remote = source('box/web', '/home/u/web', 1, 'box');
    const local = source('web', '/home/u/web', 2);
    expect(choose([remote, local], ['/home/u/web'])).toEqual({ ok: true, id: local.id });
  });

  it('asks for `instance` when only a remote instance has the root path', () => {
    const remote = source('box/web', '/home/u/web', 1, 'box');
    const other = source('api', '/home/u/api', 2);
    const result = choose([remote, other], ['/home/u/web']);
    expect(result.ok).toBe(false);
    expect(result.ok ? '' : result.message).toMatch(/pass instance/);
  });
});
