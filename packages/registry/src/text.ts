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

/** Options of {@link cleanText}. */
export interface CleanTextOptions {
  /** Keep `\n` as is (for multi-line text such as descriptions); default false. */
  newlines?: boolean;
}

/**
 * Makes untrusted text safe to show on a terminal: ANSI escape sequences (colours, cursor
 * moves, window titles) are removed, and every other control character (C0 but tab, DEL, C1)
 * is written as a visible `\xHH` escape. Text without any comes back unchanged.
 */
export function cleanText(text: string, options: CleanTextOptions = {}): string {
  const control = options.newlines ? CONTROL_BUT_NEWLINE : CONTROL;
  control.lastIndex = 0;
  if (!control.test(text)) return text;
  control.lastIndex = 0;
  return text.replace(ANSI, '').replace(control, hex);
}
