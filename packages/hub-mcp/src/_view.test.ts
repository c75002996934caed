import { randomUUID } from 'node:crypto';
import type { ConnectionState, InstanceCatalog } from '@mcp-beacon/connection-manager';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { createView, type ViewSource } from './_view.js';

const HUB: Tool[] = [{ name: 'instances_list', inputSchema: { type: 'object' } }];

function catalog(...tools: string[]): InstanceCatalog {
  return {
    tools: tools.map((name) => ({ name, description: name, inputSchema: { type: 'object' } })),
    resources: [{ uri: 'file:///readme', name: 'readme' }],
    resourceTemplates: [],
    prompts: [{ name: 'greet' }],
  };
}

function source(name: string, state: ConnectionState, cat = catalog('run')): ViewSource {
  return {
    id: randomUUID(),
    record: { name, path: `/work/${name}` } as ViewSource['record'],
    state,
    catalog: cat,
  };
}

describe('hub view', () => {
  it('lists hub tools, then each active instance, with routes to the original names', () => {
    const view = createView(HUB);
    const web = source('web', 'active', catalog('run', 'fs/read'));
    view.update(web);
    view.update(source('api', 'connecting'));
    const { tools, resources, prompts } = view.lists();
    expect(tools.map((t) => t.name)).toEqual([
      'instances_list',
      'web__run',
      expect.stringMatching(/^web__fs_read_[0-9a-f]{6}$/),
    ]);
    expect(tools[1]!.description).toBe('[web] run');
    expect(view.toolRoute(tools[2]!.name)).toEqual({ id: web.id, name: 'fs/read' });
    expect(resources.map((r) => r.uri)).toEqual(['beacon://web/file:///readme']);
    expect(prompts.map((p) => p.name)).toEqual(['web__greet']);
    expect(view.promptRoute('web__greet')).toEqual({ id: web.id, name: 'greet' });
    expect(view.toolRoute('api__run')).toBeUndefined();
  });

  it('escapes a hostile name and description, keeping newlines of the description', () => {
    const view = createView(HUB);
    const cat = catalog('run');
    cat.tools[0]!.description = 'line one\n\x1b[2J\x1b]0;pwned\x07line two\r';
    view.update(source('evil\x1b[31m\nrow', 'active', cat));
    const tool = view.lists().tools[1]!;
    expect(tool.description).toBe('[evil\\x0arow] line one\nline two\\x0d');
  });

  it('routes a new instance at once and rebuilds nobody else', () => {
    const view = createView(HUB);
    const sources = Array.from({ length: 100 }, (_, i) => source(`svc${i}`, 'active'));
    for (const s of sources) view.update(s);
    const before = view.lists().tools;
    const fresh = source('fresh', 'active');
    view.update(fresh);
    expect(view.toolRoute('fresh__run')).toEqual({ id: fresh.id, name: 'run' });
    const after = view.lists().tools;
    expect(after).toHaveLength(before.length + 1);
    // The other instances' entries are the very same objects: their slices were not rebuilt.
    for (let i = 0; i < before.length; i++) expect(after[i]).toBe(before[i]);
  });

  it('caches lists and fingerprints until something changes, and ignores non-changes', () => {
    const view = createView(HUB);
    const web = source('web', 'active');
    view.update(web);
    const lists = view.lists();
    const signature = view.signature();
    view.update(web); // same catalog object, same state
    view.update(source('idle', 'retrying')); // an instance with nothing to show
    expect(view.lists()).toBe(lists);
    expect(view.signature()).toBe(signature);
    view.update({ ...web, catalog: catalog('run', 'test') });
    expect(view.signature().tools).not.toBe(signature.tools);
    expect(view.signature().prompts).toBe(signature.prompts);
    expect(view.lists().tools.map((t) => t.name)).toContain('web__test');
  });

  it('hides an instance that is no longer active and frees its names when it leaves', () => {
    const view = createView(HUB);
    const web = source('web', 'active');
    view.update(web);
    const signature = view.signature();
    view.update({ ...web, state: 'retrying' });
    expect(view.toolRoute('web__run')).toBeUndefined();
    expect(view.lists().tools.map((t) => t.name)).toEqual(['instances_list']);
    view.update(web);
    expect(view.signature()).toEqual(signature);
    view.remove(web.id);
    expect(view.slugs.idOf('web')).toBeUndefined();
    expect(view.toolRoute('web__run')).toBeUndefined();
  });
});
