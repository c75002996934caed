import { describe, expect, it } from 'vitest';
import { cleanText } from './text.js';

describe('cleanText', () => {
  it.each([
    ['plain', 'my-app', 'my-app'],
    ['tabs kept', 'a\tb', 'a\tb'],
    ['colours removed', '\x1b[32mready\x1b[39m in 300 ms', 'ready in 300 ms'],
    ['clear screen removed', 'x\x1b[2J\x1b[Hy', 'xy'],
    ['window title removed', '\x1b]0;pwned\x07name', 'name'],
    ['title ended by ST', '\x1b]2;t\x1b\\name', 'name'],
    ['newline escaped', 'a\nfake row', 'a\\x0afake row'],
    ['carriage return escaped', 'a\rb', 'a\\x0db'],
    ['bell and NUL escaped', '\x07\x00', '\\x07\\x00'],
    ['DEL and C1 escaped', 'a\x7fb\x85c', 'a\\x7fb\\x85c'],
    ['8-bit CSI removed', '\x9b31mred', 'red'],
    ['lone ESC escaped', 'a\x1b', 'a\\x1b'],
  ])('%s', (_label, input, output) => {
    expect(cleanText(input)).toBe(output);
  });

  it('keeps newlines when asked, cleaning the rest', () => {
    expect(cleanText('line one\n\x1b[2Jline two\r', { newlines: true })).toBe(
      'line one\nline two\\x0d',
    );
  });

  it('returns the same string when there is nothing to clean', () => {
    const text = 'nothing to clean here';
    expect(cleanText(text)).toBe(text);
  });
});
