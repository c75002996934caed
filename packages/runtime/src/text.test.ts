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

  it.each([
    [
      'right-to-left override',
      'Reads a file.\u202e txt.exe \u202c',
      'Reads a file.\\u{202e} txt.exe \\u{202c}',
    ],
    ['isolates', 'a\u2066b\u2069c\u2067d\u2068e', 'a\\u{2066}b\\u{2069}c\\u{2067}d\\u{2068}e'],
    ['zero-width space and BOM', 'ig\u200bnore\ufeff', 'ig\\u{200b}nore\\u{feff}'],
    ['a zero-width joiner hiding between spaces', 'run \u200d rm', 'run \\u{200d} rm'],
    ['line and paragraph separators', 'a\u2028b\u2029c', 'a\\u{2028}b\\u{2029}c'],
    ['bidi marks', 'x\u200ey\u200fz\u061c', 'x\\u{200e}y\\u{200f}z\\u{061c}'],
    ['soft hyphen', 'pass\u00adword', 'pass\\u{00ad}word'],
    [
      'tag characters smuggling text',
      'ok\u{E0049}\u{E0067}\u{E006E}',
      'ok\\u{e0049}\\u{e0067}\\u{e006e}',
    ],
  ])('makes invisible text visible: %s', (_label, input, output) => {
    expect(cleanText(input)).toBe(output);
    expect(cleanText(input, { newlines: true })).toBe(output);
  });

  it.each([
    ['Arabic', 'مرحبا بالعالم، هذا اختبار'],
    ['Hebrew', 'שלום עולם, זו בדיקה'],
    ['Persian with a zero-width non-joiner', 'می\u200cخواهم'],
    ['Devanagari with a joiner', 'क्\u200dष'],
    [
      'emoji with ZWJ sequences',
      'dev 👩\u200d💻 family 👨\u200d👩\u200d👧 ❤\ufe0f\u200d🔥 👍🏽\u200d',
    ],
    ['a skin-toned ZWJ sequence', '🧑🏽\u200d🚀'],
    [
      'a flag with tag characters',
      'England 🏴\u{E0067}\u{E0062}\u{E0065}\u{E006E}\u{E0067}\u{E007F}',
    ],
    ['CJK', '你好，世界。こんにちは'],
  ])('keeps ordinary text readable: %s', (_label, text) => {
    const out = cleanText(text);
    if (text.endsWith('\u200d')) expect(out).toBe(`${text.slice(0, -1)}\\u{200d}`);
    else expect(out).toBe(text);
  });
});
