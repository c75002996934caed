import { describe, expect, it } from 'vitest';
import { watchTable } from './list-watch.js';

describe('watchTable', () => {
  it('lays out instance, state, tools, url and the time of the last change', () => {
    const since = Date.parse('2026-11-25T10:11:12Z');
    const table = watchTable([
      {
        name: 'web-shop',
        id: '1a2b3c4d',
        state: 'active',
        tools: 6,
        url: 'http://127.0.0.1:5173/mcp',
        since,
      },
      {
        name: 'api',
        id: '5e6f7a8b',
        state: 'retrying',
        tools: 0,
        url: 'http://127.0.0.1:1/mcp',
        since,
      },
    ]);
    expect(table.split('\n')).toEqual([
      'INSTANCE  ID        STATE     TOOLS  URL                        CHANGED',
      'web-shop  1a2b3c4d  active    6      http://127.0.0.1:5173/mcp  10:11:12',
      'api       5e6f7a8b  retrying  0      http://127.0.0.1:1/mcp     10:11:12',
      '',
    ]);
    expect(watchTable([])).toBe('No Beacon instances yet.\n');
  });
});
