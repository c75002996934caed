// ANSI escape sequences: CSI (ESC [ ... final), OSC (ESC ] ... BEL or ESC \), and the short
// two-character ESC forms; the 8-bit CSI (0x9b) too.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const ANSI = /(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]/g;
// C0 except tab, DEL, C1; and the same but newline too.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f-\x9f]/g;
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL_BUT_NEWLINE = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;

const hex = (char: string) => `\\x${char.charCodeAt(0).toString(16).padStart(2, '0')}`;

// Invisible format characters (Unicode Cf: bidi overrides and isolates, zero-width characters,
// the BOM, soft hyphens, tag characters) and the line and paragraph separators: they reorder or
// hide text, so what a person approves differs from what a model reads. A flag's tag sequence
// (the black flag, tags, the cancel tag) is matched first so it can be kept whole.
const INVISIBLE = /\u{1F3F4}[\u{E0020}-\u{E007E}]+\u{E007F}|[\p{Cf}\u2028\u2029]/gu;
const INVISIBLE_TEST = /[\p{Cf}\u2028\u2029]/u;
// Joiners (ZWNJ, ZWJ) shape ordinary text: Persian and Indic words, emoji sequences (👩‍💻).
// (Variation selectors such as U+FE0F are marks, \p{M}; skin tones are modifiers.)
const JOINABLE_BEFORE = /(?:[\p{L}\p{M}\p{Extended_Pictographic}]|[\u{1F3FB}-\u{1F3FF}])$/u;
const JOINABLE_AFTER = /^[\p{L}\p{M}\p{Extended_Pictographic}]/u;

const codePoint = (char: string) =>
  `\\u{${(char.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}}`;

/** `text` with its invisible characters written as visible `\u{XXXX}`, joiners in words kept. */
function showInvisible(text: string): string {
  return text.replace(INVISIBLE, (match: string, offset: number) => {
    if (match.length > 2) return match; // a flag's tag sequence
    if (
      (match === '\u200c' || match === '\u200d') &&
      JOINABLE_BEFORE.test(text.slice(Math.max(0, offset - 2), offset)) &&
      JOINABLE_AFTER.test(text.slice(offset + 1, offset + 3))
    )
      return match;
    return codePoint(match);
  });
}

/** Options of {@link cleanText}. */
export interface CleanTextOptions {
  /** Keep `\n` as is (for multi-line text such as descriptions); default false. */
  newlines?: boolean;
}

/**
 * Makes untrusted text safe to show on a terminal, a client or a model: ANSI escape sequences
 * (colours, cursor moves, window titles) are removed, every other control character (C0 but
 * tab, DEL, C1) is written as a visible `\xHH` escape, and every invisible format character
 * (bidi overrides and isolates, zero-width characters, the BOM, tag characters, line and
 * paragraph separators) as a visible `\u{XXXX}`. Joiners inside words and emoji sequences and
 * flags' tag sequences are kept, so text in every script reads as written. Text without any of
 * these comes back unchanged.
 */
export function cleanText(text: string, options: CleanTextOptions = {}): string {
  const control = options.newlines ? CONTROL_BUT_NEWLINE : CONTROL;
  control.lastIndex = 0;
  let out = text;
  if (control.test(out)) {
    control.lastIndex = 0;
    out = out.replace(ANSI, '').replace(control, hex);
  }
  return INVISIBLE_TEST.test(out) ? showInvisible(out) : out;
}
