// One table per program drives both the parsing of its command line and the options part of
// its help, so a flag cannot be parsed without being documented, or the other way round.
import { parseArgs } from 'node:util';
import { RuntimeError } from './errors.js';

/** One command-line option. */
export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly multiple?: boolean;
  /** A one-letter alias (`-h`). */
  readonly short?: string;
  /** The argument as the help names it (`MS`, `N`, `LEVEL`). */
  readonly arg?: string;
  /** Its help; a line break starts a line indented under the first. Empty: not listed. */
  readonly help: string;
  /** A whole number from `min` to `max` (both included), parsed as a number. */
  readonly int?: { readonly min: number; readonly max?: number; readonly unit?: string };
}

/** A program's options by flag name (without the dashes). */
export type OptionTable = Readonly<Record<string, OptionSpec>>;

type ValueOf<S extends OptionSpec> = S['type'] extends 'boolean'
  ? boolean
  : S['int'] extends object
    ? number
    : S['multiple'] extends true
      ? string[]
      : string;

/** The values of a table's options, each undefined when not given. */
export type OptionValues<T extends OptionTable> = { -readonly [K in keyof T]?: ValueOf<T[K]> };

/** Column at which an option's help starts. */
const HELP_COLUMN = 24;

/** The `Options:` lines of a help text: `  --flag ARG   help`, continuation lines aligned. */
export function optionsHelp(table: OptionTable): string {
  const lines: string[] = [];
  for (const [flag, spec] of Object.entries(table)) {
    if (spec.help === '') continue;
    const names = `${spec.short ? `-${spec.short}, ` : ''}--${flag}${spec.arg ? ` ${spec.arg}` : ''}`;
    const [first = '', ...rest] = spec.help.split('\n');
    const head = `  ${names}`;
    if (head.length >= HELP_COLUMN) lines.push(head, `${' '.repeat(HELP_COLUMN)}${first}`);
    else lines.push(`${head.padEnd(HELP_COLUMN)}${first}`);
    for (const line of rest) lines.push(`${' '.repeat(HELP_COLUMN)}${line}`);
  }
  return `${lines.join('\n')}\n`;
}

function toInt(value: string, flag: string, int: NonNullable<OptionSpec['int']>): number {
  const n = Number(value);
  const { min, max, unit } = int;
  if (value.trim() === '' || !Number.isInteger(n) || n < min || (max !== undefined && n > max)) {
    const range = max === undefined ? `of at least ${min}` : `from ${min} to ${max}`;
    throw new RuntimeError(
      'USAGE',
      `--${flag} must be an integer ${range}${unit ? ` (${unit})` : ''}, got ${JSON.stringify(value)}`,
    );
  }
  return n;
}

/**
 * Parses `args` against `table`: options, then the positionals. Whole-number options come out
 * as numbers.
 * @throws {RuntimeError} `USAGE` for an unknown option, a missing argument, or a number out of
 *   its range.
 */
export function parseCommandLine<T extends OptionTable>(
  table: T,
  args: readonly string[],
): { values: OptionValues<T>; positionals: string[] } {
  const options = Object.fromEntries(
    Object.entries(table).map(([flag, spec]) => [
      flag,
      {
        type: spec.type,
        ...(spec.multiple ? { multiple: true } : {}),
        ...(spec.short ? { short: spec.short } : {}),
      },
    ]),
  );
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({ args: [...args], allowPositionals: true, options, strict: true });
  } catch (error) {
    throw new RuntimeError('USAGE', (error as Error).message);
  }
  const values: Record<string, unknown> = { ...parsed.values };
  for (const [flag, spec] of Object.entries(table))
    if (spec.int && typeof values[flag] === 'string')
      values[flag] = toInt(values[flag] as string, flag, spec.int);
  return { values: values as OptionValues<T>, positionals: parsed.positionals };
}
