/** Which tool's output an error was recognised in. */
export type DiagnosticKind =
  | 'typescript'
  | 'eslint'
  | 'npm'
  | 'node'
  | 'vite'
  | 'webpack'
  | 'test'
  | 'error';

/** One error found in a run's output. */
export interface Diagnostic {
  kind: DiagnosticKind;
  /** The error in one line. */
  message: string;
  /** Source position when the text names one (the first frame outside node internals). */
  file: string | null;
  line: number | null;
  column: number | null;
  /** `seq` of the first and last output line that belong to the error. */
  fromSeq: number;
  toSeq: number;
  /** Those lines, at most {@link MAX_DIAGNOSTIC_LINES} of them. */
  text: string[];
}

/** Lines kept in one diagnostic's `text` (a stack or code frame is cut after this many). */
export const MAX_DIAGNOSTIC_LINES = 20;

/** A line as the parser reads it. */
export interface SourceLine {
  seq: number;
  text: string;
}

// file(line,col): error TS1234: message   |   file:line:col - error TS1234: message
const TS_PAREN = /^(.+?)\((\d+),(\d+)\): error (TS\d+): (.*)$/;
const TS_PRETTY = /^(.+?):(\d+):(\d+) - error (TS\d+): (.*)$/;
const TS_GLOBAL = /^error (TS\d+): (.*)$/;
// ESLint stylish: a file header line, then "  12:5  error  message  rule".
const ESLINT_ROW = /^\s+(\d+):(\d+)\s+error\s+(.+?)(?:\s{2,}(\S+))?\s*$/;
const ESLINT_FILE = /^(\/|[A-Za-z]:[\\/]|\.{0,2}[\w@-][\w./@-]*\.\w+$)\S*$/;
const NPM = /^npm (?:ERR!|error) (.*)$/;
// Node: "TypeError: message", "Error [ERR_X]: message", "Uncaught Error: message".
const JS_ERROR = /^(?:Uncaught )?((?:[A-Z]\w*)?(?:Error|Exception))(?: \[[\w.-]+\])?: (.+)$/;
const STACK_FRAME = /^\s+at (?:.*? \()?(.+?):(\d+):(\d+)\)?$/;
const STACK_ANY = /^\s+at /;
const VITE = /^(?:[\d:]+\s*(?:AM|PM)?\s*)?\[vite\] (?:Internal server error|error|Pre-transform error): (.*)$/i;
const VITE_BUILD = /^error during build:/;
const BUNDLER_AT = /^\s*(?:[╭┌]─+\[\s*|File: )(.+?):(\d+):(\d+)(?:\s*\])?$/;
const WEBPACK = /^ERROR in (.+?)(?: (\d+):(\d+)(?:-\d+)?)?$/;
const TEST_FAIL = /^\s*FAIL\s+(.+)$/;
const JEST_CASE = /^\s+● (.+)$/;
const VITEST_AT = /^\s*❯ (.+?):(\d+):(\d+)$/;
const JEST_AT = /^\s+at .*?\(?([^\s()]+):(\d+):(\d+)\)?$/;

/**
 * Finds the errors in output lines (ANSI codes already removed): TypeScript (`error TS`),
 * ESLint (stylish), `npm ERR!` / `npm error`, Node errors with their stack frames,
 * Vite and webpack build errors, and Vitest / Jest failures. Each comes with the seqs of the
 * lines it spans and, when the text names one, its file, line and column. Oldest first.
 */
export function findDiagnostics(lines: readonly SourceLine[]): Diagnostic[] {
  const found: Diagnostic[] = [];
  let eslintFile: string | null = null;
  let i = 0;
  const make = (
    kind: DiagnosticKind,
    message: string,
    from: number,
    to: number,
    at: { file: string; line: number; column: number } | null = null,
  ): Diagnostic => ({
    kind,
    message: message.trim(),
    file: at?.file ?? null,
    line: at?.line ?? null,
    column: at?.column ?? null,
    fromSeq: lines[from]!.seq,
    toSeq: lines[to]!.seq,
    text: lines.slice(from, Math.min(to + 1, from + MAX_DIAGNOSTIC_LINES)).map((l) => l.text),
  });
  const pos = (file: string, line: string, column: string) => ({
    file,
    line: Number(line),
    column: Number(column),
  });
  /** Index of the last line of a block that continues while `more` holds (blank lines allowed inside). */
  const extend = (from: number, more: (text: string) => boolean, limit = 60): number => {
    let end = from;
    for (let j = from + 1; j < lines.length && j - from <= limit; j++) {
      const text = lines[j]!.text;
      if (more(text)) end = j;
      else if (text.trim() !== '') break;
    }
    return end;
  };

  while (i < lines.length) {
    const text = lines[i]!.text;
    let m: RegExpExecArray | null;

    if ((m = TS_PAREN.exec(text) ?? TS_PRETTY.exec(text))) {
      // The pretty form is followed by a code frame: indented lines and numbered source lines.
      const end = TS_PRETTY.test(text) ? extend(i, (t) => /^\s|^\d+ /.test(t), 6) : i;
      found.push(make('typescript', `${m[4]}: ${m[5]}`, i, end, pos(m[1]!, m[2]!, m[3]!)));
      i = end + 1;
      continue;
    }
    if ((m = TS_GLOBAL.exec(text))) {
      found.push(make('typescript', `${m[1]}: ${m[2]}`, i, i));
      i++;
      continue;
    }
    if ((m = NPM.exec(text))) {
      const end = extend(i, (t) => NPM.test(t), 40);
      const parts = lines
        .slice(i, end + 1)
        .map((l) => NPM.exec(l.text)?.[1]?.trim() ?? '')
        .filter((p) => !/^(?:\d{3})?$/.test(p) && !/^A complete log of this run/.test(p));
      found.push(make('npm', parts.slice(0, 3).join(' | ') || 'npm failed', i, end));
      i = end + 1;
      continue;
    }
    if ((m = VITE.exec(text))) {
      const end = extend(i, (t) => /^[\s[─│╭╰┬]|^Plugin:|^File:/.test(t), 40);
      // "Transform failed with 1 error:" says more on the next line.
      const next = m[1]!.trim().endsWith(':')
        ? (lines
            .slice(i + 1, end + 1)
            .map((l) => l.text.trim())
            .find((t) => t !== '') ?? '')
        : '';
      const message = next ? `${m[1]!.trim()} ${next}` : m[1]!;
      found.push(make('vite', message, i, end, locate(lines, i, end, BUNDLER_AT)));
      i = end + 1;
      continue;
    }
    if (VITE_BUILD.test(text)) {
      const end = extend(i, (t) => !/^(?:✓|vite v|\S+ built in)/.test(t), 30);
      const detail =
        lines
          .slice(i + 1, end + 1)
          .map((l) => l.text.trim())
          .find((t) => t !== '' && !/^Build failed with/.test(t)) ?? 'build failed';
      found.push(make('vite', detail, i, end, locate(lines, i, end, BUNDLER_AT)));
      i = end + 1;
      continue;
    }
    if ((m = WEBPACK.exec(text))) {
      const end = extend(i, (t) => !/^(?:ERROR in |WARNING in |webpack \d|asset |\S+ compiled)/.test(t), 40);
      const message = lines[i + 1]?.text.trim() || text;
      const file = m[1]!.trim();
      const at = m[2] ? pos(file, m[2], m[3]!) : { file, line: 0, column: 0 };
      const diag = make('webpack', message, i, end, at);
      if (!m[2]) {
        diag.line = null;
        diag.column = null;
      }
      found.push(diag);
      i = end + 1;
      continue;
    }
    if ((m = TEST_FAIL.exec(text)) && !/^\s*FAIL\s*$/.test(text)) {
      // Vitest names the test on the FAIL line; Jest names the file, then "● suite › test"
      // for each failed test, so each of those is one diagnostic.
      const end = extend(
        i,
        (t) => !TEST_FAIL.test(t) && !/^\s*(?:Test Files|Tests|Test Suites|⎯)/.test(t),
        200,
      );
      const subject = m[1]!.trim();
      const cases: number[] = [];
      for (let j = i + 1; j <= end; j++) if (JEST_CASE.test(lines[j]!.text)) cases.push(j);
      const segments = cases.length === 0 ? [[i, end]] : cases.map((c, k) => [c, (cases[k + 1] ?? end + 1) - 1]);
      for (const [from, to] of segments as [number, number][]) {
        const block = lines.slice(from, to + 1);
        const jestCase = JEST_CASE.exec(lines[from]!.text)?.[1];
        const errorLine = block
          .map((l) => l.text.trim())
          .find((t) => JS_ERROR.test(t) || /^expect\(/.test(t));
        let at: ReturnType<typeof pos> | null = null;
        for (const l of block) {
          const hit = VITEST_AT.exec(l.text) ?? JEST_AT.exec(l.text);
          if (hit && !hit[1]!.startsWith('node:')) {
            at = pos(hit[1]!, hit[2]!, hit[3]!);
            break;
          }
        }
        const name = jestCase ? `${subject} > ${jestCase}` : subject;
        found.push(make('test', `${name}${errorLine ? `: ${errorLine}` : ''}`, from, to, at));
      }
      i = end + 1;
      continue;
    }
    if ((m = JS_ERROR.exec(text)) && !STACK_ANY.test(text)) {
      // Node prints "file:line", the source line and a caret before an uncaught error.
      let from = i;
      for (let back = 1; back <= 4 && i - back >= 0; back++) {
        if (/^\S+:\d+$/.test(lines[i - back]!.text)) {
          from = i - back;
          break;
        }
      }
      const end = extend(
        i,
        (t) => STACK_ANY.test(t) || /^\s+\w+: .*,?$|^\s*[{}]$|^Node\.js v/.test(t),
        40,
      );
      let at: ReturnType<typeof pos> | null = null;
      for (const l of lines.slice(i + 1, end + 1)) {
        const frame = STACK_FRAME.exec(l.text);
        if (frame && !frame[1]!.startsWith('node:')) {
          at = pos(frame[1]!.replace(/^file:\/\//, ''), frame[2]!, frame[3]!);
          break;
        }
      }
      if (!at && from < i) {
        const head = /^(\S+):(\d+)$/.exec(lines[from]!.text);
        if (head && !head[1]!.startsWith('node:')) at = pos(head[1]!, head[2]!, '0');
        if (at) at.column = 0;
      }
      const diag = make('node', `${m[1]}: ${m[2]}`, from, end, at);
      if (at && at.column === 0) diag.column = null;
      found.push(diag);
      i = end + 1;
      continue;
    }

    // ESLint stylish: remember the file header, report each error row under it.
    if (ESLINT_FILE.test(text) && lines[i + 1] && ESLINT_ROW.test(lines[i + 1]!.text)) {
      eslintFile = text.trim();
      i++;
      continue;
    }
    if (eslintFile && (m = ESLINT_ROW.exec(text))) {
      const rule = m[4] ? ` (${m[4]})` : '';
      found.push(make('eslint', `${m[3]}${rule}`, i, i, pos(eslintFile, m[1]!, m[2]!)));
      i++;
      continue;
    }
    if (text.trim() === '') eslintFile = null;
    i++;
  }
  return found;
}

/** The first `file:line:col` in lines `from..to` that `pattern` recognises. */
function locate(
  lines: readonly SourceLine[],
  from: number,
  to: number,
  pattern: RegExp,
): { file: string; line: number; column: number } | null {
  for (let j = from; j <= to; j++) {
    const m = pattern.exec(lines[j]!.text);
    if (m) return { file: m[1]!.trim(), line: Number(m[2]), column: Number(m[3]) };
  }
  return null;
}
