// Over 300 lines on purpose: the error formats `errors_get` knows (TypeScript, ESLint, Vite,
// Jest/Vitest, Node stacks, ...) are a table of linear patterns with their parsers; the scan
// that runs them under a time budget is at the end.
import { createTimeBudget, type TimeBudget } from './grep.js';
import { type LinearPattern, linear } from './linear.js';

/** Which tool's output an error was recognised in. */
export type DiagnosticKind =
  | 'typescript'
  | 'eslint'
  | 'npm'
  | 'node'
  | 'vite'
  | 'webpack'
  | 'sveltekit'
  | 'next'
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
const TS_PAREN = linear(/^(.+?)\((\d+),(\d+)\): error (TS\d+): (.*)$/, 'error TS');
const TS_PRETTY = linear(/^(.+?):(\d+):(\d+) - error (TS\d+): (.*)$/, 'error TS');
const TS_GLOBAL = linear(/^error (TS\d+): (.*)$/, 'error TS');
// ESLint stylish: a file header line, then "  12:5  error  message  rule".
const ESLINT_ROW = linear(/^\s+(\d+):(\d+)\s+error\s+(.+?)(?:\s{2,}(\S+))?\s*$/, 'error');
const ESLINT_FILE = linear(/^(\/|[A-Za-z]:[\\/]|\.{0,2}[\w@-][\w./@-]*\.\w+$)\S*$/);
const NPM = linear(/^npm (?:ERR!|error) (.*)$/, 'npm ');
// Node: "TypeError: message", "Error [ERR_X]: message", "Uncaught Error: message".
const JS_ERROR = linear(
  /^(?:Uncaught )?((?:[A-Z]\w*)?(?:Error|Exception))(?: \[[\w.-]+\])?: (.+)$/,
);
const STACK_FRAME = linear(/^\s+at (?:.*? \()?(.+?):(\d+):(\d+)\)?$/, 'at ');
const STACK_ANY = linear(/^\s+at /, 'at ');
const VITE = linear(
  /^(?:[\d:]+\s*(?:AM|PM)?\s*)?\[vite\] (?:Internal server error|error|Pre-transform error): (.*)$/i,
  '[vite]',
);
const VITE_BUILD = linear(/^error during build:/, 'error during build:');
const BUNDLER_AT = linear(/^\s*(?:[╭┌]─+\[\s*|File: )(.+?):(\d+):(\d+)(?:\s*\])?$/);
const WEBPACK = linear(/^ERROR in (.+?)(?: (\d+):(\d+)(?:-\d+)?)?$/, 'ERROR in');
// SvelteKit's dev server: "[500] GET /path", then the error a server-side load threw and its stack.
const SVELTEKIT_REQUEST = linear(/^\[(5\d\d)\] ([A-Z]+) (\S+)$/, '] ');
const OUTSIDE_PROJECT = linear(/node_modules[\\/]|^node:/);
// Next.js dev (Turbopack and webpack): "⨯ Error: message", its stack, a code frame, a digest.
const NEXT_ERROR = linear(
  /^\s*⨯ (?:(?:unhandledRejection|uncaughtException):? )?((?:[A-Z]\w*)?(?:Error|Exception))(?: \[[\w.-]+\])?: (.+)$/,
  '⨯',
);
const NEXT_MORE = linear(/^\s+at |^\s*>?\s*\d* \||^\s+digest: |^\s*[{}]\s*$/);
const TEST_FAIL = linear(/^\s*FAIL\s+(.+)$/, 'FAIL');
const JEST_CASE = linear(/^\s+● (.+)$/, '●');
const VITEST_AT = linear(/^\s*❯ (.+?):(\d+):(\d+)$/, '❯');
const JEST_AT = linear(/^\s+at .*?\(?([^\s()]+):(\d+):(\d+)\)?$/, 'at ');

/** Where a source position was found. */
interface Position {
  file: string;
  line: number | null;
  column: number | null;
}

// Inline shapes of the recognisers, on the same linear engine.
const CODE_FRAME = linear(/^\s|^\d+ /);
const NPM_CODE = linear(/^(?:\d{3})?$/);
const NPM_LOG_NOTE = linear(/^A complete log of this run/);
const VITE_FRAME = linear(/^[\s[─│╭╰┬]|^Plugin:|^File:/);
const VITE_DONE = linear(/^(?:✓|vite v|\S+ built in)/);
const VITE_FAILED_WITH = linear(/^Build failed with/);
const WEBPACK_NEXT = linear(/^(?:ERROR in |WARNING in |webpack \d|asset |\S+ compiled)/);
const TEST_SUMMARY = linear(/^\s*(?:Test Files|Tests|Test Suites|⎯)/);
const EXPECT_LINE = linear(/^expect\(/);
const NODE_HEAD = linear(/^\S+:\d+$/);
const NODE_TAIL = linear(/^\s+\w+: .*,?$|^\s*[{}]$|^Node\.js v/);
const NODE_HEAD_PARTS = linear(/^(\S+):(\d+)$/);

const pos = (file: string, line: string, column: string | null): Position => ({
  file,
  line: Number(line),
  column: column === null ? null : Number(column),
});

/** The state of one scan, shared by the recognisers. */
class Scan {
  readonly found: Diagnostic[] = [];
  /** The file header of the ESLint block being read. */
  eslintFile: string | null = null;

  constructor(
    readonly lines: readonly SourceLine[],
    private readonly budget: TimeBudget,
  ) {}

  text(i: number): string {
    return this.lines[i]?.text ?? '';
  }

  add(kind: DiagnosticKind, message: string, from: number, to: number, at: Position | null) {
    this.found.push({
      kind,
      message: message.trim(),
      file: at?.file ?? null,
      line: at?.line ?? null,
      column: at?.column ?? null,
      fromSeq: this.lines[from]!.seq,
      toSeq: this.lines[to]!.seq,
      text: this.lines
        .slice(from, Math.min(to + 1, from + MAX_DIAGNOSTIC_LINES))
        .map((l) => l.text),
    });
  }

  /** The last line of a block going on from `from` while `more` holds (blank lines may sit inside). */
  async extend(from: number, more: (text: string) => boolean, limit: number): Promise<number> {
    let end = from;
    for (let j = from + 1; j < this.lines.length && j - from <= limit; j++) {
      // A line of 4 096 characters can cost a pattern a fraction of a millisecond: the budget
      // is asked at every line, not only between recognisers.
      await this.budget.tick();
      const text = this.text(j);
      if (more(text)) end = j;
      else if (text.trim() !== '') break;
    }
    return end;
  }

  /** The first position `pattern` (file, line, column groups) finds in lines `from..to`. */
  async locate(from: number, to: number, pattern: LinearPattern): Promise<Position | null> {
    for (let j = from; j <= to; j++) {
      await this.budget.tick();
      const m = pattern.exec(this.text(j));
      if (m && !m[1]!.startsWith('node:'))
        return pos(m[1]!.trim().replace(/^file:\/\//, ''), m[2]!, m[3]!);
    }
    return null;
  }
}

/** Recognises an error starting at line `i`: records it and returns the next line to read. */
type Recogniser = (scan: Scan, i: number) => number | undefined | Promise<number | undefined>;

const typescript: Recogniser = async (scan, i) => {
  const text = scan.text(i);
  const m = TS_PAREN.exec(text) ?? TS_PRETTY.exec(text);
  if (m) {
    // The pretty form is followed by a code frame: indented lines and numbered source lines.
    const end = TS_PRETTY.test(text) ? await scan.extend(i, (t) => CODE_FRAME.test(t), 6) : i;
    scan.add('typescript', `${m[4]}: ${m[5]}`, i, end, pos(m[1]!, m[2]!, m[3]!));
    return end + 1;
  }
  const global = TS_GLOBAL.exec(text);
  if (!global) return undefined;
  scan.add('typescript', `${global[1]}: ${global[2]}`, i, i, null);
  return i + 1;
};

const npm: Recogniser = async (scan, i) => {
  if (!NPM.test(scan.text(i))) return undefined;
  const end = await scan.extend(i, (t) => NPM.test(t), 40);
  const parts = scan.lines
    .slice(i, end + 1)
    .map((l) => NPM.exec(l.text)?.[1]?.trim() ?? '')
    .filter((p) => !NPM_CODE.test(p) && !NPM_LOG_NOTE.test(p));
  scan.add('npm', parts.slice(0, 3).join(' | ') || 'npm failed', i, end, null);
  return end + 1;
};

const viteServer: Recogniser = async (scan, i) => {
  const m = VITE.exec(scan.text(i));
  if (!m) return undefined;
  const end = await scan.extend(i, (t) => VITE_FRAME.test(t), 40);
  // "Transform failed with 1 error:" says more on the next line.
  const detail = m[1]!.trim().endsWith(':')
    ? (scan.lines
        .slice(i + 1, end + 1)
        .map((l) => l.text.trim())
        .find((t) => t !== '') ?? '')
    : '';
  scan.add(
    'vite',
    detail ? `${m[1]!.trim()} ${detail}` : m[1]!,
    i,
    end,
    await scan.locate(i, end, BUNDLER_AT),
  );
  return end + 1;
};

const viteBuild: Recogniser = async (scan, i) => {
  if (!VITE_BUILD.test(scan.text(i))) return undefined;
  const end = await scan.extend(i, (t) => !VITE_DONE.test(t), 30);
  const detail =
    scan.lines
      .slice(i + 1, end + 1)
      .map((l) => l.text.trim())
      .find((t) => t !== '' && !VITE_FAILED_WITH.test(t)) ?? 'build failed';
  scan.add('vite', detail, i, end, await scan.locate(i, end, BUNDLER_AT));
  return end + 1;
};

const webpack: Recogniser = async (scan, i) => {
  const m = WEBPACK.exec(scan.text(i));
  if (!m) return undefined;
  const end = await scan.extend(i, (t) => !WEBPACK_NEXT.test(t), 40);
  const message = scan.text(i + 1).trim() || scan.text(i);
  const file = m[1]!.trim();
  scan.add(
    'webpack',
    message,
    i,
    end,
    m[2] ? pos(file, m[2], m[3]!) : { file, line: null, column: null },
  );
  return end + 1;
};

/** SvelteKit prints a failed request's status line, then the error and its stack. */
const sveltekit: Recogniser = async (scan, i) => {
  const m = SVELTEKIT_REQUEST.exec(scan.text(i));
  if (!m) return undefined;
  const error = JS_ERROR.exec(scan.text(i + 1).trim());
  if (!error) return undefined;
  const end = await scan.extend(i + 1, (t) => STACK_ANY.test(t), 40);
  // The first frame in the project's own code (a load, an endpoint, a component), else the first.
  let at: Position | null = null;
  for (let j = i + 2; j <= end && !at; j++) {
    const frame = STACK_FRAME.exec(scan.text(j));
    if (frame && !OUTSIDE_PROJECT.test(frame[1]!)) at = pos(frame[1]!, frame[2]!, frame[3]!);
  }
  at ??= await scan.locate(i + 2, end, STACK_FRAME);
  scan.add('sveltekit', `${error[1]}: ${error[2]} (${m[1]} ${m[2]} ${m[3]})`, i, end, at);
  return end + 1;
};

/** Next.js prints a server component's error with its stack, then a code frame at its top frame. */
const nextServer: Recogniser = async (scan, i) => {
  const m = NEXT_ERROR.exec(scan.text(i));
  if (!m) return undefined;
  const end = await scan.extend(i, (t) => NEXT_MORE.test(t), 40);
  scan.add('next', `${m[1]}: ${m[2]}`, i, end, await scan.locate(i + 1, end, STACK_FRAME));
  return end + 1;
};

/** Vitest names the test on its FAIL line; Jest names the file, then "● suite › test" per failure. */
const testFailure: Recogniser = async (scan, i) => {
  const m = TEST_FAIL.exec(scan.text(i));
  if (!m) return undefined;
  const end = await scan.extend(i, (t) => !TEST_FAIL.test(t) && !TEST_SUMMARY.test(t), 200);
  const subject = m[1]!.trim();
  const cases: number[] = [];
  for (let j = i + 1; j <= end; j++) if (JEST_CASE.test(scan.text(j))) cases.push(j);
  const segments: [number, number][] =
    cases.length === 0 ? [[i, end]] : cases.map((c, k) => [c, (cases[k + 1] ?? end + 1) - 1]);
  for (const [from, to] of segments) {
    const jestCase = JEST_CASE.exec(scan.text(from))?.[1];
    const errorLine = scan.lines
      .slice(from, to + 1)
      .map((l) => l.text.trim())
      .find((t) => JS_ERROR.test(t) || EXPECT_LINE.test(t));
    const at = (await scan.locate(from, to, VITEST_AT)) ?? (await scan.locate(from, to, JEST_AT));
    const name = jestCase ? `${subject} > ${jestCase}` : subject;
    scan.add('test', `${name}${errorLine ? `: ${errorLine}` : ''}`, from, to, at);
  }
  return end + 1;
};

/** Node prints "file:line", the source line and a caret before an uncaught error, then its stack. */
const nodeError: Recogniser = async (scan, i) => {
  const text = scan.text(i);
  const m = JS_ERROR.exec(text);
  if (!m || STACK_ANY.test(text)) return undefined;
  let from = i;
  for (let back = 1; back <= 4 && i - back >= 0; back++) {
    if (NODE_HEAD.test(scan.text(i - back))) {
      from = i - back;
      break;
    }
  }
  const end = await scan.extend(i, (t) => STACK_ANY.test(t) || NODE_TAIL.test(t), 40);
  let at = await scan.locate(i + 1, end, STACK_FRAME);
  const head = from < i ? NODE_HEAD_PARTS.exec(scan.text(from)) : null;
  if (!at && head && !head[1]!.startsWith('node:')) at = pos(head[1]!, head[2]!, null);
  scan.add('node', `${m[1]}: ${m[2]}`, from, end, at);
  return end + 1;
};

/** ESLint's stylish format: a file header line, then one row per problem; warnings are skipped. */
const eslint: Recogniser = (scan, i) => {
  const text = scan.text(i);
  if (ESLINT_FILE.test(text) && ESLINT_ROW.test(scan.text(i + 1))) {
    scan.eslintFile = text.trim();
    return i + 1;
  }
  if (text.trim() === '') scan.eslintFile = null;
  const m = scan.eslintFile === null ? null : ESLINT_ROW.exec(text);
  if (!m) return undefined;
  const rule = m[4] ? ` (${m[4]})` : '';
  scan.add('eslint', `${m[3]}${rule}`, i, i, pos(scan.eslintFile!, m[1]!, m[2]!));
  return i + 1;
};

const RECOGNISERS: Recogniser[] = [
  typescript,
  npm,
  viteServer,
  viteBuild,
  webpack,
  sveltekit,
  nextServer,
  testFailure,
  nodeError,
  eslint,
];

/**
 * Finds the errors in output lines (ANSI codes already removed): TypeScript (`error TS`),
 * ESLint (stylish), `npm ERR!` / `npm error`, Node errors with their stack frames,
 * Vite and webpack build errors, Next.js server errors, SvelteKit's failed requests (a
 * server-side `load` that threw), and Vitest / Jest failures. Each comes with the seqs of the
 * lines it spans and, when the text names one, its file, line and column. Oldest first. Every
 * pattern runs on the linear-time RE2 engine, and the scan yields to the event loop every
 * slice of `budget` (default: 1 s in 2 ms slices, as grep's), so other requests are served
 * meanwhile; several scans of one call share one budget.
 * @throws {InstanceError} `BUDGET_EXCEEDED` once the budget is used up.
 */
export async function findDiagnostics(
  lines: readonly SourceLine[],
  budget: TimeBudget = createTimeBudget('errors_get'),
): Promise<Diagnostic[]> {
  const scan = new Scan(lines, budget);
  let i = 0;
  while (i < lines.length) {
    // Every step: one recogniser may read 40 long lines at once.
    await budget.tick();
    // npm and pnpm echo the script's command as "> command": it is not output.
    if (scan.text(i).startsWith('> ')) {
      i++;
      continue;
    }
    let next: number | undefined;
    for (const recognise of RECOGNISERS) {
      const step = recognise(scan, i);
      next = step instanceof Promise ? await step : step;
      if (next !== undefined) break;
    }
    i = next ?? i + 1;
  }
  return scan.found;
}
