import { describe, expect, it } from 'vitest';
import { LogRing } from './ring.js';

describe('LogRing', () => {
  it('keeps only the newest lines and counts the dropped ones', () => {
    const ring = new LogRing(3, 100, () => 0);
    ring.write('stdout', 'a\nb\nc\nd\ne\n');
    expect(ring.read().map((l) => [l.seq, l.text])).toEqual([
      [3, 'c'],
      [4, 'd'],
      [5, 'e'],
    ]);
    expect(ring.dropped).toBe(2);
  });

  it('joins lines split across chunks and flushes the last one', () => {
    const ring = new LogRing(10);
    ring.write('stderr', 'hel');
    ring.write('stderr', 'lo\r\nwor');
    ring.flush();
    expect(ring.read().map((l) => [l.stream, l.text])).toEqual([
      ['stderr', 'hello'],
      ['stderr', 'wor'],
    ]);
  });

  it('cuts long lines and bounds an endless unterminated line', () => {
    const ring = new LogRing(10, 5);
    ring.write('stdout', 'abcdefgh\n');
    ring.write('stdout', 'x'.repeat(20));
    const lines = ring.read();
    expect(lines[0]?.text).toBe('abcde… [cut]');
    expect(lines).toHaveLength(2);
  });

  it('filters, pages with since and limits to the newest', () => {
    const ring = new LogRing(100);
    ring.write('stdout', 'one\ntwo\nthree\nfour\n');
    expect(ring.read({ since: 2 }).map((l) => l.text)).toEqual(['three', 'four']);
    expect(ring.read({ limit: 1 }).map((l) => l.text)).toEqual(['four']);
    expect(ring.read({ filter: (t) => t.includes('o') }).map((l) => l.text)).toEqual([
      'one',
      'two',
      'four',
    ]);
  });
});
