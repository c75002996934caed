import { describe, expect, it } from 'vitest';
import { LogRing } from './ring.js';

describe('LogRing', () => {
  it('keeps only the newest lines and counts the dropped ones', () => {
    const ring = new LogRing({ lines: 3, lineChars: 100 }, () => 0);
    ring.write('stdout', 'a\nb\nc\nd\ne\n');
    expect(ring.read().map((l) => [l.seq, l.text])).toEqual([
      [3, 'c'],
      [4, 'd'],
      [5, 'e'],
    ]);
    expect(ring.dropped).toBe(2);
  });

  it('joins lines split across chunks and flushes the last one', () => {
    const ring = new LogRing();
    ring.write('stderr', 'hel');
    ring.write('stderr', 'lo\r\nwor');
    ring.flush();
    expect(ring.read().map((l) => [l.stream, l.text])).toEqual([
      ['stderr', 'hello'],
      ['stderr', 'wor'],
    ]);
  });

  it('cuts a long line once, with a marker, and skips the rest of it', () => {
    const ring = new LogRing({ lineChars: 5 });
    ring.write('stdout', 'abcdefgh\nnext\n');
    ring.write('stdout', 'x'.repeat(20));
    ring.write('stdout', 'y'.repeat(1_000)); // still the same endless line
    ring.write('stdout', 'z\nafter\n');
    expect(ring.read().map((l) => l.text)).toEqual([
      'abcde… [line cut at 5 characters]',
      'next',
      'xxxxx… [line cut at 5 characters]',
      'after',
    ]);
  });

  it('bounds the characters kept, dropping the oldest lines', () => {
    const ring = new LogRing({ lines: 1_000, lineChars: 100, chars: 250 });
    for (let i = 0; i < 10; i++) ring.write('stdout', `${String(i).repeat(100)}\n`);
    expect(ring.size).toBe(2);
    expect(ring.chars).toBe(200);
    expect(ring.dropped).toBe(8);
    expect(ring.read()[0]?.seq).toBe(9);
  });

  it('stays bounded over a long run (the kept array is compacted)', () => {
    const ring = new LogRing({ lines: 10 });
    for (let i = 0; i < 50_000; i++) ring.write('stdout', `line ${i}\n`);
    expect(ring.size).toBe(10);
    expect(ring.read().map((l) => l.text)).toEqual(
      Array.from({ length: 10 }, (_, k) => `line ${49_990 + k}`),
    );
    expect(ring.read({ since: 49_998 }).map((l) => l.seq)).toEqual([49_999, 50_000]);
  });

  it('removes ANSI sequences and escapes control characters', () => {
    const ring = new LogRing();
    ring.write('stdout', '\x1b[32mready\x1b[39m\x1b]0;title\x07 ok\x00\n');
    expect(ring.read().map((l) => l.text)).toEqual(['ready ok\\x00']);
  });

  it('pages with since and limits to the newest', () => {
    const ring = new LogRing();
    ring.write('stdout', 'one\ntwo\nthree\nfour\n');
    expect(ring.read({ since: 2 }).map((l) => l.text)).toEqual(['three', 'four']);
    expect(ring.read({ limit: 1 }).map((l) => l.text)).toEqual(['four']);
    expect(ring.read({ since: 3, limit: 5 }).map((l) => l.text)).toEqual(['four']);
    expect(ring.read({ since: 10 })).toEqual([]);
  });
});
