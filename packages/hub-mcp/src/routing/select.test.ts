import { randomUUID } from 'node:crypto';
import type { ConnectionInfo } from '@mcp-beacon/connection-manager';
import type { Tool } from '@modelcontextprotocol/server';
import { describe, expect, it } from 'vitest';
import { createView } from '../catalog/view.js';
import type { ViewSource } from '../types.js';
import { folderKey } from './folders.js';
import { chooseInstance, type MatchContext, matchInstances } from './select.js';

const HUB: Tool[] = [{ name: 'instances_list', inputSchema: { type: 'object' } }];

function source(
  name: string,
  path: string,
  started: number,
  options: { remote?: string; tools?: Tool[] } = {},
): ViewSource {
  return {
    id: randomUUID(),
    record: { name, path, started: new Date(started).toISOString() } as ViewSource['record'],
    state: 'active',
    catalog: {
      tools: options.tools ?? [
        { name: 'run', description: 'run', inputSchema: { type: 'object' } },
      ],
      resources: [],
      resourceTemplates: [],
      prompts: [],
    },
    location: options.remote
      ? { kind: 'remote', remote: options.remote, path }
      : { kind: 'local', path },
  };
}

function setup(sources: ViewSource[], remotes: string[] = []) {
  const view = createView({ hubTools: HUB });
  for (const s of sources) view.update(s);
  const match: MatchContext = {
    slugs: view.slugs.all(),
    folderKey: (p) => folderKey(p),
    remotes: () => new Set(remotes),
  };
  const all = sources as unknown as ConnectionInfo[];
  const choose = (roots: string[] | undefined, instance?: unknown, tool = 'run') => {
    const target = view.tool(tool);
    if (target?.kind !== 'group') throw new Error(`${tool} is not grouped`);
    return chooseInstance({
      group: target.group,
      instance,
      all: () => all,
      match,
      roots: roots?.map((r) => folderKey(r)),
      slice: (id) => view.slice(id),
    });
  };
  return { view, match, all, choose };
}

describe('the default instance of a grouped call', () => {
  it('never takes a remote instance for a client root, even at the same path', () => {
    const remote = source('box/web', '/home/u/web', 1, { remote: 'box' });
    const local = source('web', '/home/u/web', 2);
    expect(setup([remote, local]).choose(['/home/u/web'])).toEqual({
      ok: true,
      id: local.id,
      tool: 'run',
    });
  });

  it('asks for `instance` when only a remote instance has the root path', () => {
    const remote = source('box/web', '/home/u/web', 1, { remote: 'box' });
    const other = source('api', '/home/u/api', 2);
    const result = setup([remote, other]).choose(['/home/u/web']);
    expect(result.ok).toBe(false);
    expect(result.ok ? '' : result.message).toMatch(/pass instance/);
  });

  it('lets the deepest folder holding the root win, whoever started first', () => {
    const outer = source('mono', '/repo', 1);
    const inner = source('pkg', '/repo/packages/pkg', 2);
    expect(setup([outer, inner]).choose(['/repo/packages/pkg/src'])).toEqual({
      ok: true,
      id: inner.id,
      tool: 'run',
    });
    expect(setup([inner, outer]).choose(['/repo/docs'])).toEqual({
      ok: true,
      id: outer.id,
      tool: 'run',
    });
  });

  it('falls back to the only instance offering the name when the root’s instance lacks it', () => {
    const web = source('web', '/home/u/web', 2);
    const app = source('app', '/home/u/app', 1, {
      tools: [{ name: 'get-time', inputSchema: { type: 'object' } }],
    });
    expect(setup([app, web]).choose(['/home/u/web'], undefined, 'get-time')).toEqual({
      ok: true,
      id: app.id,
      tool: 'get-time',
    });
  });

  it('never sends a call without `instance` past the root’s instance, started first or not', () => {
    const evil = source('evil', '/tmp/evil', 1, {
      tools: [{ name: 'run', description: 'another run', inputSchema: { type: 'object' } }],
    });
    const web = source('web', '/home/u/web', 2);
    const { choose } = setup([evil, web]);
    expect(choose(['/home/u/web'])).toEqual({ ok: true, id: web.id, tool: 'run' });
    const none = choose(undefined);
    expect(none.ok).toBe(false);
    expect(none.ok ? '' : none.message).toBe(
      'run is offered by 2 instances: evil (/tmp/evil), web (/home/u/web); pass instance (a name, id or folder)',
    );
  });

  it('names the candidates when the roots lie in two instances', () => {
    const a = source('a', '/w/a', 1);
    const b = source('b', '/w/b', 2);
    const result = setup([a, b]).choose(['/w/a/x', '/w/b']);
    expect(result.ok ? '' : result.message).toBe(
      'run: your workspace roots lie in 2 instances offering it: a (/w/a), b (/w/b); pass instance (a name, id or folder)',
    );
  });
});

describe('an instance argument', () => {
  it('matches a folder on the machine it names: local paths never reach a remote', () => {
    const remote = source('box/shop', '/home/me/shop', 1, { remote: 'box' });
    const local = source('shop', '/home/me/shop', 2);
    const { all, match, choose } = setup([remote, local], ['box']);
    expect(matchInstances(all, match, '/home/me/shop/').map((c) => c.id)).toEqual([local.id]);
    expect(matchInstances(all, match, 'box:/home/me/shop').map((c) => c.id)).toEqual([remote.id]);
    expect(choose(undefined, 'box:/home/me/shop')).toEqual({
      ok: true,
      id: remote.id,
      tool: 'run',
    });
    expect(choose(undefined, '/home/me/shop')).toEqual({ ok: true, id: local.id, tool: 'run' });
  });

  it('never lets a local record answer to a remote’s name', () => {
    const poser = source('devbox/web', '/tmp/poser', 1);
    const real = source('devbox/web', '/srv/web', 2, { remote: 'devbox' });
    const { all, match, view } = setup([poser, real], ['devbox']);
    expect(matchInstances(all, match, 'devbox/web').map((c) => c.id)).toEqual([real.id]);
    // Its slug stays its own: remote slugs hold a dot, which no local slug has.
    expect(view.slugs.slugOf(poser.id)).toBe('devbox_web');
    expect(view.slugs.slugOf(real.id)).toBe('devbox.web');
    expect(matchInstances(all, match, 'devbox_web').map((c) => c.id)).toEqual([poser.id]);
  });

  it('reaches a member whose definition differs, through the plain name', () => {
    const older = source('old', '/w/old', 1);
    const newer = source('new', '/w/new', 2, {
      tools: [
        {
          name: 'run',
          description: 'run, v2',
          inputSchema: { type: 'object', properties: { fast: { type: 'boolean' } } },
        },
      ],
    });
    const { choose } = setup([older, newer]);
    expect(choose(undefined, 'new')).toEqual({ ok: true, id: newer.id, tool: 'run' });
    expect(choose(undefined, 'old')).toEqual({ ok: true, id: older.id, tool: 'run' });
  });

  it('points at the namespaced name of a tool with an `instance` argument of its own', () => {
    const plain = source('plain', '/w/plain', 1);
    const own = source('own', '/w/own', 2, {
      tools: [
        {
          name: 'run',
          inputSchema: { type: 'object', properties: { instance: { type: 'string' } } },
        },
      ],
    });
    const result = setup([plain, own]).choose(undefined, 'own');
    expect(result.ok ? '' : result.message).toBe(
      'own (/w/own) does not offer run under that name; its own is own__run; run is offered by plain (/w/plain)',
    );
  });
});
