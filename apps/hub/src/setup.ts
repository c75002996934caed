import { randomBytes } from 'node:crypto';
import { realpathSync } from 'node:fs';
import {
  chmod,
  chown,
  copyFile,
  mkdir,
  readFile,
  realpath,
  rename,
  stat,
  writeFile,
} from 'node:fs/promises';
import path from 'node:path';
import { cleanText } from '@mcp-beacon/runtime';

/** The MCP clients `beacon-hub setup` knows. */
export const SETUP_CLIENTS = [
  'claude-code',
  'claude-desktop',
  'codex',
  'cursor',
  'gemini',
  'vscode',
] as const;
/** One of {@link SETUP_CLIENTS}. */
export type SetupClient = (typeof SETUP_CLIENTS)[number];

/** Where and how the hub is launched: absolute paths only. */
export interface HubLaunch {
  /**
   * The Node binary (`process.execPath`). {@link setupText} and {@link writeSetup} name it as
   * {@link setupNode} says: on macOS a Homebrew link to it rather than its versioned path.
   */
  node: string;
  /** The hub's CLI script. */
  cli: string;
  /**
   * The data folder to pass on as `MCP_BEACON_HOME`, when it is not the default one. Left out
   * otherwise: a hub given `MCP_BEACON_HOME` also keeps its settings (`remotes.json`) there, so
   * pinning the default folder would hide the remotes kept from a shell.
   */
  dataDir?: string | undefined;
  /** Hub flags to launch it with, e.g. `--start-roots` (default none). */
  flags?: readonly string[];
}

/** The folders a client's config path depends on (injectable for tests). */
export interface SetupEnvironment {
  home: string;
  platform: NodeJS.Platform;
  /** `%APPDATA%` on Windows. */
  appData?: string | undefined;
  /** `$CODEX_HOME`: Codex CLI's own folder (default `~/.codex`). */
  codexHome?: string | undefined;
  /** `$GEMINI_CLI_HOME`: the folder Gemini CLI keeps `.gemini` in (default the home folder). */
  geminiHome?: string | undefined;
  /**
   * The fs edge {@link setupNode} follows links with: `file` with every link resolved, or
   * undefined when it does not exist (default the real file system).
   */
  realpath?: ((file: string) => string | undefined) | undefined;
}

const realpathOrNothing = (file: string) => {
  try {
    return realpathSync.native(file);
  } catch {
    return undefined;
  }
};

/** A folder of a path named by a version (`v20.11.1`, `22.1.0`, Homebrew's `20.11.1_1`). */
const VERSIONED = /[\\/](v?\d+\.\d+\.\d+(?:_\d+)?)[\\/]/;

/** Who installed a Node kept under a versioned path, by where it is. */
const INSTALLERS: [RegExp, string][] = [
  [/[\\/]\.?nvm[\\/]/, 'nvm'],
  [/[\\/]\.volta[\\/]/, 'Volta'],
  [/[\\/]Cellar[\\/]/, 'Homebrew'],
  [/[\\/]\.?fnm[\\/]/, 'fnm'],
  [/[\\/]\.asdf[\\/]/, 'asdf'],
  [/[\\/]mise[\\/]/, 'mise'],
];

/**
 * The Node path that setup writes for `execPath`, and a note when that path changes with an
 * upgrade. On macOS a Homebrew Node runs from `<prefix>/Cellar/node/<version>/bin/node`, which
 * `brew upgrade` deletes: the stable link that resolves to the same binary is named instead,
 * `<prefix>/bin/node` (`/opt/homebrew/bin/node`, `/usr/local/bin/node`) or the formula's opt link
 * (`<prefix>/opt/node@20/bin/node`, for a keg-only Node). A path still named by a version (nvm,
 * Volta, fnm, asdf, mise, a Cellar no link resolves to) is kept, on every OS, with a note saying
 * that an upgrade changes it. Every other path is written as it is.
 */
export function setupNode(
  execPath: string,
  env: SetupEnvironment,
): { node: string; note?: string } {
  let node = execPath;
  const cellar = /^(\/.+)\/Cellar\/(node(?:@\d+)?)\/[^/]+\/bin\/node$/.exec(execPath);
  if (env.platform === 'darwin' && cellar) {
    const realpath = env.realpath ?? realpathOrNothing;
    const real = realpath(execPath);
    const [, prefix, formula] = cellar;
    const stable = [`${prefix}/bin/node`, `${prefix}/opt/${formula}/bin/node`].find(
      (link) => real !== undefined && realpath(link) === real,
    );
    if (stable) node = stable;
  }
  const version = VERSIONED.exec(node)?.[1];
  if (version === undefined) return { node };
  const installer = INSTALLERS.find(([where]) => where.test(node))?.[1];
  return {
    node,
    note: `${node} is Node ${version}${installer ? ` from ${installer}` : ''}: upgrading Node changes this path (and may remove it)`,
  };
}

/** `launch` with its node as {@link setupNode} names it, and what to do when it changes. */
function withSetupNode(client: SetupClient, launch: HubLaunch, env: SetupEnvironment) {
  const { node, note } = setupNode(launch.node, env);
  return {
    launch: { ...launch, node },
    note: note && `${note}; run beacon-hub setup ${client} again after an upgrade.`,
  };
}

/** A client's user-level config file: JSON with its servers under `key`, or Codex's TOML. */
export type ClientConfig =
  | { format: 'json'; file: string; key: 'mcpServers' | 'servers' }
  | { format: 'toml'; file: string; key: 'mcp_servers' };

/**
 * The user-level config file of a client and the key its servers live under; `undefined` for a
 * client configured only by a command (Claude Code).
 */
export function configFile(client: SetupClient, env: SetupEnvironment): ClientConfig | undefined {
  const p = env.platform === 'win32' ? path.win32 : path.posix;
  const appData = env.appData ?? p.join(env.home, 'AppData', 'Roaming');
  const userConfig =
    env.platform === 'darwin'
      ? p.join(env.home, 'Library', 'Application Support')
      : env.platform === 'win32'
        ? appData
        : p.join(env.home, '.config');
  switch (client) {
    case 'claude-code':
      return undefined;
    case 'claude-desktop':
      return {
        format: 'json',
        file: p.join(userConfig, 'Claude', 'claude_desktop_config.json'),
        key: 'mcpServers',
      };
    case 'codex':
      // Codex reads CODEX_HOME when it is set and not empty, as Gemini CLI does GEMINI_CLI_HOME.
      return {
        format: 'toml',
        file: p.join(env.codexHome || p.join(env.home, '.codex'), 'config.toml'),
        key: 'mcp_servers',
      };
    case 'cursor':
      return { format: 'json', file: p.join(env.home, '.cursor', 'mcp.json'), key: 'mcpServers' };
    case 'gemini':
      return {
        format: 'json',
        file: p.join(env.geminiHome || env.home, '.gemini', 'settings.json'),
        key: 'mcpServers',
      };
    case 'vscode':
      return {
        format: 'json',
        file: p.join(userConfig, 'Code', 'User', 'mcp.json'),
        key: 'servers',
      };
  }
}

/** The server entry for a JSON config (VS Code also wants `type`). */
export function serverEntry(client: SetupClient, launch: HubLaunch): Record<string, unknown> {
  return {
    ...(client === 'vscode' ? { type: 'stdio' } : {}),
    command: launch.node,
    args: [launch.cli, ...(launch.flags ?? [])],
    ...(launch.dataDir === undefined ? {} : { env: { MCP_BEACON_HOME: launch.dataDir } }),
  };
}

const quote = (value: string) =>
  /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;

/** The shell command that adds the hub to a client with an `mcp add` command of its own. */
function addCommand(client: 'claude-code' | 'codex' | 'gemini', launch: HubLaunch): string {
  const env =
    launch.dataDir === undefined ? [] : ['--env', `MCP_BEACON_HOME=${quote(launch.dataDir)}`];
  const program = [launch.node, launch.cli].map(quote);
  const flags = (launch.flags ?? []).map(quote);
  // Gemini CLI's default scope is the project, and it takes the command right after the name:
  // `--` only keeps the hub's flags from being read as its own.
  const words =
    client === 'gemini'
      ? ['gemini mcp add --scope user', ...env, 'beacon', ...program]
      : [
          client === 'codex' ? 'codex mcp add beacon' : 'claude mcp add --scope user beacon',
          ...env,
          '--',
          ...program,
        ];
  return [...words, ...(client === 'gemini' && flags.length > 0 ? ['--'] : []), ...flags].join(' ');
}

/**
 * What `beacon-hub setup <client>` prints: a command to run, the entry to add, or both; then
 * {@link setupNode}'s note, if any, as a `#` line.
 */
export function setupText(client: SetupClient, hub: HubLaunch, env: SetupEnvironment): string {
  const { launch, note } = withSetupNode(client, hub, env);
  // A shell comment (on one line, whatever the path holds): the output for Claude Code and
  // Codex still runs as a script.
  return printedText(client, launch, env) + (note ? `# ${cleanText(note)}\n` : '');
}

function printedText(client: SetupClient, launch: HubLaunch, env: SetupEnvironment): string {
  if (client === 'claude-code') return `${addCommand(client, launch)}\n`;
  const target = configFile(client, env)!;
  if (target.format === 'toml') {
    // Comments, so that the whole output still runs as a shell script.
    const table = tomlEntry(launch).map((line) => (line === '' ? '#' : `# ${line}`));
    return `${[
      addCommand('codex', launch),
      `# or run: beacon-hub setup ${client} --write, which adds to ${target.file}:`,
      ...table,
    ].join('\n')}\n`;
  }
  const json = JSON.stringify({ [target.key]: { beacon: serverEntry(client, launch) } }, null, 2);
  const command = client === 'gemini' ? `or run: ${addCommand(client, launch)}\n` : '';
  return `Add to ${target.file} (or run: beacon-hub setup ${client} --write):\n${json}\n${command}`;
}

/**
 * Adds (or replaces) the `beacon` entry in the client's config file, keeping every other
 * entry. An existing file is first copied to `<file>.<time>.bak`; the new content is written
 * to a temp file and renamed over, so the file is never half-written. A config that is a
 * symlink (a dotfile manager's) is written through to its target, the link kept; the file keeps
 * its mode and owner (a new one is 0600: configs hold other servers' keys), the backup too.
 * Codex's TOML is edited in place: only the `[mcp_servers.beacon]` table and its `.env`
 * sub-table are replaced (or appended), every other byte kept.
 * The node is named as {@link setupNode} says.
 * @returns the config file, the backup (undefined when the file did not exist), and
 * {@link setupNode}'s note when the node's path changes with an upgrade.
 * @throws {Error} when the client has no config file, or the file is not a JSON object, or is
 * TOML that cannot be edited safely (the file is then left untouched).
 */
export async function writeSetup(
  client: SetupClient,
  hub: HubLaunch,
  env: SetupEnvironment,
  now: Date = new Date(),
): Promise<{ file: string; backup: string | undefined; note?: string }> {
  const { launch, note } = withSetupNode(client, hub, env);
  const target = configFile(client, env);
  if (!target)
    throw new Error(`${client} is set up with a command, not a file: run the command it prints`);
  let backup: string | undefined;
  let text: string | undefined;
  try {
    text = await readFile(target.file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const content =
    target.format === 'toml'
      ? withTomlEntry(text ?? '', launch, target.file)
      : withJsonEntry(text, client, launch, target);
  // The file the config really is: a symlink is followed, so the link survives the rename.
  const file = text === undefined ? target.file : await realpath(target.file);
  const kept = text === undefined ? undefined : await stat(file);
  const mode = kept ? kept.mode & 0o7777 : 0o600;
  const keepOwner = async (written: string) => {
    await chmod(written, mode);
    if (kept && (kept.uid !== process.getuid?.() || kept.gid !== process.getgid?.()))
      await chown(written, kept.uid, kept.gid).catch(() => undefined);
  };
  if (text !== undefined) {
    backup = `${target.file}.${now.toISOString().replace(/[:.]/g, '-')}.bak`;
    await copyFile(file, backup);
    await keepOwner(backup);
  }
  await mkdir(path.dirname(file), { recursive: true });
  const temp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(temp, content, { mode });
  await keepOwner(temp);
  await rename(temp, file);
  return { file: target.file, backup, ...(note === undefined ? {} : { note }) };
}

/** `text` (a JSON config, or undefined for none) with the `beacon` entry added or replaced. */
function withJsonEntry(
  text: string | undefined,
  client: SetupClient,
  launch: HubLaunch,
  target: ClientConfig & { format: 'json' },
): string {
  let config: Record<string, unknown> = {};
  // Gemini CLI's own `mcp add` edits a file holding comments, which JSON.parse refuses.
  const instead =
    client === 'gemini' ? `run the \`gemini mcp add\` command that setup prints` : 'add the entry';
  if (text !== undefined && text.trim() !== '') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new Error(
        `${target.file} is not valid JSON (${(error as Error).message}); fix it or ${instead} by hand`,
      );
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw new Error(`${target.file} does not hold a JSON object; ${instead} by hand`);
    config = parsed as Record<string, unknown>;
  }
  const servers = config[target.key];
  config[target.key] = {
    ...(typeof servers === 'object' && servers !== null && !Array.isArray(servers) ? servers : {}),
    beacon: serverEntry(client, launch),
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}

// Codex's config.toml. No TOML library is in the workspace, and a parse-and-serialise round
// trip would drop the user's comments and layout anyway: the file is scanned statement by
// statement instead (strings, multi-line arrays and inline tables included), and only the
// lines of the beacon tables are replaced. Anything the scanner does not understand stops the
// edit, so a file Codex would reject is never made worse.

const BEACON = ['mcp_servers', 'beacon'];
const BEACON_ENV = [...BEACON, 'env'];

/** The `[mcp_servers.beacon]` table (and its env sub-table) as `codex mcp add` writes them. */
function tomlEntry(launch: HubLaunch): string[] {
  const lines = [
    '[mcp_servers.beacon]',
    `command = ${tomlString(launch.node)}`,
    `args = [${[launch.cli, ...(launch.flags ?? [])].map(tomlString).join(', ')}]`,
  ];
  if (launch.dataDir !== undefined)
    lines.push('', '[mcp_servers.beacon.env]', `MCP_BEACON_HOME = ${tomlString(launch.dataDir)}`);
  return lines;
}

/** A TOML basic string: JSON's escapes are TOML's, but TOML also wants DEL escaped. */
const tomlString = (value: string) => JSON.stringify(value).replace(/\x7f/g, '\\u007F');

/** One top-level line (or run of lines) of a TOML file. */
interface TomlStatement {
  kind: 'table' | 'array-table' | 'pair';
  /** A header's table; for a pair, the table it is in. */
  table: string[];
  /** A pair's key, dotted parts split (empty for a header). */
  key: string[];
  /** Offsets: the start of its first line, and past the line break of its last. */
  start: number;
  end: number;
}

class TomlScanError extends Error {}

/** The 1-based line of `text` that offset `at` is on. */
const lineOf = (text: string, at: number) => text.slice(0, at).split('\n').length;

const samePath = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && a.every((part, i) => part === b[i]);
const startsWith = (a: readonly string[], prefix: readonly string[]) =>
  prefix.length <= a.length && prefix.every((part, i) => part === a[i]);

/** `text` with the beacon tables replaced, or appended when there are none. */
function withTomlEntry(text: string, launch: HubLaunch, file: string): string {
  let statements: TomlStatement[];
  try {
    statements = scanToml(text);
  } catch (error) {
    if (!(error instanceof TomlScanError)) throw error;
    throw new Error(
      `${file} could not be read as TOML (${error.message}); fix it or add the [mcp_servers.beacon] table by hand`,
    );
  }
  const refuse = (s: TomlStatement): never => {
    throw new Error(
      `${file} defines mcp_servers or mcp_servers.beacon in a form setup does not edit (line ${lineOf(text, s.start)}); add the [mcp_servers.beacon] table by hand`,
    );
  };
  // The lines each of our two tables spans: its header up to its last pair, so that the comments
  // and blank lines before the next table stay where they are.
  const ranges: { path: string[]; start: number; end: number }[] = [];
  let open: { path: string[]; start: number; end: number } | undefined;
  for (const s of statements) {
    if (s.kind === 'pair') {
      const full = [...s.table, ...s.key];
      if (open) open.end = s.end;
      // A pair in another table (or at the top) that sets mcp_servers as a value, or beacon's
      // keys from outside its own tables: replacing the table alone would leave a broken file.
      else if (
        !startsWith(s.table, BEACON) &&
        (samePath(full, ['mcp_servers']) || startsWith(full, BEACON))
      )
        refuse(s);
      continue;
    }
    open = undefined;
    if (s.kind === 'array-table') {
      if (startsWith(BEACON, s.table) || startsWith(s.table, BEACON)) refuse(s);
      continue;
    }
    if (!samePath(s.table, BEACON) && !samePath(s.table, BEACON_ENV)) continue;
    if (ranges.some((r) => samePath(r.path, s.table))) refuse(s);
    open = { path: s.table, start: s.start, end: s.end };
    ranges.push(open);
  }
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const entry = tomlEntry(launch).join(eol) + eol;
  let result: string;
  if (ranges.length === 0) {
    const body = text === '' || text.endsWith('\n') ? text : text + eol;
    const blankBefore = body.trim() === '' || /\n[ \t]*\r?\n$/.test(body);
    result = blankBefore ? body + entry : body + eol + entry;
  } else {
    // The entry goes where the first of the tables was; the other one's lines go, with the blank
    // lines before them, so that rewriting the entry does not pile blank lines up.
    result = text.slice(0, ranges[0]!.start) + entry;
    ranges.forEach((range, i) => {
      const next = ranges[i + 1];
      let end = next?.start ?? text.length;
      while (next && end > range.end) {
        const lineStart = text.lastIndexOf('\n', end - 2) + 1;
        if (lineStart < range.end || text.slice(lineStart, end).trim() !== '') break;
        end = lineStart;
      }
      result += text.slice(range.end, end);
    });
  }
  scanToml(result); // what was readable stays readable
  return result;
}

/**
 * Splits a TOML file into its top-level statements, following the TOML 1.0 grammar for keys,
 * strings, arrays and inline tables (values are skipped, not decoded).
 * @throws {TomlScanError} at the first thing that is not TOML, saying what and on which line.
 */
function scanToml(text: string): TomlStatement[] {
  const statements: TomlStatement[] = [];
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let table: string[] = [];
  const fail = (why: string): never => {
    throw new TomlScanError(`${why} on line ${lineOf(text, i)}`);
  };
  const spaces = () => {
    while (text[i] === ' ' || text[i] === '\t') i++;
  };
  const newline = () => {
    if (text[i] === '\n') i += 1;
    else if (text[i] === '\r' && text[i + 1] === '\n') i += 2;
    else return false;
    return true;
  };
  const comment = () => {
    if (text[i] === '#') while (i < text.length && text[i] !== '\n' && text[i] !== '\r') i++;
  };
  /** Spaces, comments and line breaks, as allowed between an array's values. */
  const gaps = () => {
    do {
      spaces();
      comment();
    } while (newline());
  };
  const endOfLine = () => {
    spaces();
    comment();
    if (i < text.length && !newline()) fail('unexpected text after a value');
  };
  const bare = /[A-Za-z0-9_-]+/y;
  const scalar = /[A-Za-z0-9_+.:-]+/y;
  const hex = { u: 4, U: 8, x: 2 } as const;
  const simple: Record<string, string> = {
    b: '\b',
    t: '\t',
    n: '\n',
    f: '\f',
    r: '\r',
    e: '\x1b',
    '"': '"',
    '\\': '\\',
  };
  const basicString = () => {
    let value = '';
    for (i++; text[i] !== '"'; i++) {
      const c = text[i];
      if (c === undefined || c === '\n' || c === '\r') fail('unterminated string');
      if (c !== '\\') {
        value += c;
        continue;
      }
      const e = text[++i] ?? '';
      if (e in simple) value += simple[e];
      else if (e in hex) {
        const digits = text.slice(i + 1, i + 1 + hex[e as keyof typeof hex]);
        const code = /^[0-9A-Fa-f]+$/.test(digits) ? Number.parseInt(digits, 16) : Number.NaN;
        if (digits.length !== hex[e as keyof typeof hex] || !(code <= 0x10ffff))
          fail('bad escape in a string');
        value += String.fromCodePoint(code);
        i += digits.length;
      } else fail('bad escape in a string');
    }
    i++;
    return value;
  };
  const literal = /'([^'\r\n]*)'/y;
  const literalString = () => {
    literal.lastIndex = i;
    const m = literal.exec(text);
    if (!m) fail('unterminated string');
    i = literal.lastIndex;
    return m![1]!;
  };
  /** Past a `"""` or `'''` string; its closing quotes may be followed by one or two more. */
  const multiline = (quote: '"' | "'") => {
    const delimiter = quote.repeat(3);
    for (i += 3; !text.startsWith(delimiter, i); i++) {
      if (i >= text.length) fail('unterminated multi-line string');
      if (quote === '"' && text[i] === '\\') i++;
    }
    i += 3;
    for (let extra = 0; extra < 2 && text[i] === quote; extra++) i++;
  };
  const key = (): string[] => {
    const parts: string[] = [];
    for (;;) {
      spaces();
      const c = text[i];
      if (c === '"' && !text.startsWith('"""', i)) parts.push(basicString());
      else if (c === "'" && !text.startsWith("'''", i)) parts.push(literalString());
      else {
        bare.lastIndex = i;
        const m = bare.exec(text);
        if (!m) fail('expected a key');
        parts.push(m![0]);
        i += m![0].length;
      }
      spaces();
      if (text[i] !== '.') return parts;
      i++;
    }
  };
  const value = (): void => {
    const c = text[i];
    if (c === '"' || c === "'") {
      if (text.startsWith(c.repeat(3), i)) multiline(c);
      else if (c === '"') basicString();
      else literalString();
    } else if (c === '[' || c === '{') {
      const close = c === '[' ? ']' : '}';
      i++;
      gaps();
      while (text[i] !== close) {
        if (c === '{') {
          key();
          if (text[i] !== '=') fail('expected = in an inline table');
          i++;
          spaces();
        }
        value();
        gaps();
        if (text[i] === ',') {
          i++;
          gaps();
        } else if (text[i] !== close) fail(`expected , or ${close}`);
      }
      i++;
    } else {
      scalar.lastIndex = i;
      const m = scalar.exec(text);
      if (!m) fail('expected a value');
      i += m![0].length;
      // A date and a time may be separated by a space.
      if (/^\d{4}-\d{2}-\d{2}$/.test(m![0]) && /^ \d{2}:/.test(text.slice(i, i + 4))) {
        i++;
        value();
      }
    }
  };
  while (i < text.length) {
    const start = i;
    spaces();
    comment();
    if (i >= text.length || newline()) continue;
    if (text[i] === '[') {
      const array = text[i + 1] === '[';
      i += array ? 2 : 1;
      table = key();
      if (text[i] !== ']' || (array && text[i + 1] !== ']')) fail('expected ] after a table name');
      i += array ? 2 : 1;
      endOfLine();
      statements.push({ kind: array ? 'array-table' : 'table', table, key: [], start, end: i });
    } else {
      const path = key();
      if (text[i] !== '=') fail('expected = after a key');
      i++;
      spaces();
      value();
      endOfLine();
      statements.push({ kind: 'pair', table, key: path, start, end: i });
    }
  }
  return statements;
}
