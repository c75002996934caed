import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { HubError } from '@mcp-beacon/hub-mcp';
import { type BeaconPaths, ensureTrustedDir } from '@mcp-beacon/paths';
import { readPrivateFile } from '@mcp-beacon/registry';
import * as v from 'valibot';
import type { RemoteSpec } from './types.js';

/** Where the remotes are kept: `<config>/remotes.json`. */
export const remotesFile = (paths: BeaconPaths) => path.join(paths.config, 'remotes.json');

/** A remote's name: what its instances are prefixed with (`devbox/web`). */
export const REMOTE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{1,31}$/;

const CommandSchema = v.pipe(
  v.array(v.pipe(v.string(), v.minLength(1), v.maxLength(4_096))),
  v.minLength(1, 'a command needs at least a program'),
  v.maxLength(256),
);
const FileSchema = v.object({
  version: v.optional(v.literal(1)),
  remotes: v.record(
    v.pipe(v.string(), v.regex(REMOTE_NAME, 'remote names are 2-32 letters, digits, . _ or -')),
    v.object({ command: CommandSchema }),
  ),
});

/** Checks a remote's name and command; throws {@link HubError} `BAD_REMOTE` with what is wrong. */
export function checkRemote(spec: RemoteSpec): RemoteSpec {
  if (!REMOTE_NAME.test(spec.name))
    throw new HubError(
      'BAD_REMOTE',
      `remote name ${JSON.stringify(spec.name)} must be 2-32 letters, digits, ".", "_" or "-", starting with a letter or digit`,
    );
  const command = v.safeParse(CommandSchema, spec.command);
  if (!command.success)
    throw new HubError('BAD_REMOTE', `remote ${spec.name}: ${command.issues[0].message}`);
  return { name: spec.name, command: command.output };
}

/** Largest remotes.json read. */
export const MAX_REMOTES_BYTES = 256 * 1024;

/**
 * The configured remotes, in name order; none when the file does not exist.
 * @throws {HubError} `BAD_REMOTE` for a file refused (a symlink, another user's, writable by
 * others, in a folder others can write, too large) or not valid.
 */
export async function readRemotes(
  paths: BeaconPaths,
  options: { uid?: number | null } = {},
): Promise<RemoteSpec[]> {
  const file = remotesFile(paths);
  // It lists commands the hub runs at every start: read with the record file's rules (no
  // symlink, the user's own, writable by nobody else, bounded) in a folder nobody else can write.
  const read = readPrivateFile(file, { ...options, maxBytes: MAX_REMOTES_BYTES });
  if (!read.ok) {
    if (read.reason === 'NOT_FOUND') return [];
    throw new HubError('BAD_REMOTE', `refusing ${file}: ${read.message}`);
  }
  const { text } = read;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new HubError('BAD_REMOTE', `${file} is not JSON: ${(error as Error).message}`);
  }
  const parsed = v.safeParse(FileSchema, json);
  if (!parsed.success) {
    const issue = parsed.issues[0];
    const where = issue.path?.map((p) => String(p.key)).join('.') ?? '';
    throw new HubError('BAD_REMOTE', `${file}: ${where ? `${where}: ` : ''}${issue.message}`);
  }
  return Object.entries(parsed.output.remotes)
    .map(([name, { command }]) => ({ name, command }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * Writes the remotes atomically (a 0600 temp file beside it, fsynced, renamed over), so a
 * reader never sees half a file and a crash loses nothing; the folder is made 0700.
 */
export async function writeRemotes(
  paths: BeaconPaths,
  remotes: readonly RemoteSpec[],
): Promise<void> {
  await ensureTrustedDir(paths.config);
  const file = remotesFile(paths);
  const body: v.InferOutput<typeof FileSchema> = { version: 1, remotes: {} };
  for (const spec of [...remotes].sort((a, b) => a.name.localeCompare(b.name)))
    body.remotes[spec.name] = { command: [...spec.command] };
  const temp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    const handle = await open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(`${JSON.stringify(body, null, 2)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);
  } catch (error) {
    await rm(temp, { force: true });
    throw new HubError('BAD_REMOTE', `cannot write ${file}: ${(error as Error).message}`);
  }
}

/** Options of {@link splitCommand} and {@link parseRemoteFlag}. */
export interface SplitCommandOptions {
  /** Whose rules split the command (default `process.platform`): Windows', or a POSIX shell's. */
  platform?: NodeJS.Platform;
}

/**
 * Splits `--remote NAME=CMD`'s command into its words, as the system the hub runs on would:
 * on Windows by the rules of its C runtime (so `C:\Windows\System32\wsl.exe` keeps its
 * backslashes), elsewhere as a POSIX shell splits plain words. Nothing is expanded (no
 * variables, no globs).
 * @throws {HubError} `BAD_REMOTE` for an unclosed quote (POSIX rules; Windows closes it at the end).
 */
export function splitCommand(text: string, options: SplitCommandOptions = {}): string[] {
  return (options.platform ?? process.platform) === 'win32'
    ? splitWindowsCommand(text)
    : splitPosixCommand(text);
}

/**
 * Splits on spaces, with '…' and "…" quoting and backslash escapes.
 * Written here rather than taken from shell-quote, the kept library for this: its `parse`
 * accepts an unclosed quote without a word, rewrites `${X}` as `$X`, and turns `*`, `|` and
 * `#…` into objects, where a remote's command must stay exactly the words the user typed.
 */
function splitPosixCommand(text: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && i + 1 < text.length) word += text[++i];
      else word += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < text.length) {
      word += text[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote) throw new HubError('BAD_REMOTE', `unclosed ${quote} in ${JSON.stringify(text)}`);
  if (inWord) words.push(word);
  return words;
}

/**
 * Splits by the rules of the Microsoft C runtime ("Parsing C++ command-line arguments"), the
 * ones Node's own `process.argv` follows on Windows: words end at spaces and tabs outside
 * "…"; backslashes are literal unless they precede a `"`, where each pair gives one and an odd
 * one makes the `"` literal; `""` inside quotes is a literal `"`; single quotes are plain
 * characters; a quote still open at the end closes there. shell-quote, the kept splitter,
 * follows POSIX rules (a backslash escapes), hence this loop, tested on Microsoft's examples.
 */
function splitWindowsCommand(text: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\\') {
      let end = i;
      while (text[end] === '\\') end++;
      const slashes = end - i;
      if (text[end] === '"') {
        word += '\\'.repeat(slashes >> 1);
        if (slashes % 2 === 1) {
          word += '"';
          i = end;
        } else i = end - 1; // the quote is read next, as a quote
      } else {
        word += '\\'.repeat(slashes);
        i = end - 1;
      }
      inWord = true;
    } else if (c === '"') {
      inWord = true;
      if (quoted && text[i + 1] === '"') {
        word += '"';
        i++;
      } else quoted = !quoted;
    } else if ((c === ' ' || c === '\t') && !quoted) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}

/** `NAME=CMD` of `--remote`, its command split by {@link splitCommand}'s rules for the platform. */
export function parseRemoteFlag(value: string, options: SplitCommandOptions = {}): RemoteSpec {
  const eq = value.indexOf('=');
  if (eq <= 0)
    throw new HubError('BAD_REMOTE', `--remote takes NAME=COMMAND, got ${JSON.stringify(value)}`);
  return checkRemote({
    name: value.slice(0, eq),
    command: splitCommand(value.slice(eq + 1), options),
  });
}
