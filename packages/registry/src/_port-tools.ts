// Who listens on which TCP port, where there is no /proc: macOS's lsof and Windows' netstat,
// each run by absolute path, bounded in time and output, its table shared by a burst of checks.
// The parsers are pure, so Linux tests read the tools' documented output formats.
import { execFile } from 'node:child_process';
import { isIPv4, isIPv6 } from 'node:net';
import path from 'node:path';
import { RegistryError } from './errors.js';

/** One TCP socket in the listening state: the process that holds it and its local address. */
export interface Listener {
  pid: number;
  /** The local address: dotted IPv4, compressed lowercase IPv6 (`::`, `::1`), or a name as given. */
  address: string;
  port: number;
}

/** What a program run by a {@link CommandRunner} printed, and its exit status. */
export interface CommandOutput {
  status: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `file` (an absolute path) with `args`, no shell, and resolves with its output whatever
 * its exit status. Rejects when it cannot be started (an error whose `code` is `ENOENT`,
 * `EACCES`, ...), outlives `timeoutMs` (ms) or prints more than `maxBytes` bytes.
 */
export type CommandRunner = (
  file: string,
  args: readonly string[],
  limits: { timeoutMs: number; maxBytes: number },
) => Promise<CommandOutput>;

/** The default {@link CommandRunner}: `execFile`, hidden window, killed at its bounds. */
export const runCommand: CommandRunner = (file, args, { timeoutMs, maxBytes }) =>
  new Promise((resolve, reject) => {
    execFile(
      file,
      [...args],
      // latin1 maps each byte to one character: only ASCII fields are read, whatever the
      // code page (netstat writes the console's OEM one).
      {
        encoding: 'latin1',
        timeout: timeoutMs,
        maxBuffer: maxBytes,
        killSignal: 'SIGKILL',
        windowsHide: true,
      },
      (error, stdout, stderr) => {
        if (!error) return resolve({ status: 0, stdout, stderr });
        if (typeof error.code === 'number') return resolve({ status: error.code, stdout, stderr });
        if (error.killed && error.code !== 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER')
          return reject(new Error(`no answer within ${timeoutMs} ms`));
        reject(error);
      },
    );
  });

/** How one OS's tool is asked, and how its answer is read. */
export interface PortTool {
  file: string;
  args: readonly string[];
  /** Whether it lists every user's sockets (else only the current user's processes'). */
  seesAllUsers: boolean;
  /** The listening sockets in its output; throws when the output is not what it prints. */
  parse: (output: CommandOutput) => Listener[];
}

/** Longest run of a tool, in ms. */
const TOOL_TIMEOUT_MS = 5_000;
/** Most output read from a tool, in bytes (netstat lists every connection, not only listeners). */
const TOOL_MAX_BYTES = 16 * 1024 * 1024;

/**
 * The tool that tells who listens on a port on `platform`, or undefined where there is none
 * (Linux reads /proc instead). macOS: `lsof`, by its absolute path (a project's `bin` folder on
 * PATH must not answer this). Windows: `netstat.exe -a -n -o` from `%SystemRoot%\System32`,
 * which starts in tens of ms where PowerShell's Get-NetTCPConnection takes a second or more,
 * and is on every Windows; its listening lines are told by their unspecified remote end as well
 * as by `LISTENING`, whose word is translated on other display languages.
 */
export function portTool(
  platform: NodeJS.Platform,
  env: Readonly<Record<string, string | undefined>>,
): PortTool | undefined {
  if (platform === 'darwin')
    return {
      file: '/usr/sbin/lsof',
      // -n -P: no name lookups; -w: no warnings; listening TCP sockets only, as fields.
      args: ['-nP', '-w', '-iTCP', '-sTCP:LISTEN', '-Fptn'],
      seesAllUsers: false,
      parse: parseLsofOutput,
    };
  if (platform === 'win32') {
    const root = [env.SystemRoot, env.windir].find((dir) => dir && path.win32.isAbsolute(dir));
    return {
      file: path.win32.join(root ?? 'C:\\Windows', 'System32', 'netstat.exe'),
      args: ['-a', '-n', '-o'],
      seesAllUsers: true,
      parse: parseNetstatOutput,
    };
  }
  return undefined;
}

/**
 * An address as the tools print it, made comparable with /proc's: brackets and an IPv6 zone
 * (`%12`, `%lo0`) dropped, IPv6 compressed and lowercase, IPv4-mapped IPv6 as IPv4.
 */
export function normalizeAddress(text: string): string {
  const bare = text.replace(/^\[(.*)\]$/, '$1').replace(/%.*$/, '');
  if (isIPv4(bare) || !isIPv6(bare)) return bare;
  const compressed = new URL(`http://[${bare}]/`).hostname.slice(1, -1);
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(compressed);
  if (!mapped) return compressed;
  const high = Number.parseInt(mapped[1]!, 16);
  const low = Number.parseInt(mapped[2]!, 16);
  return [high >> 8, high & 255, low >> 8, low & 255].join('.');
}

/** `ADDRESS:PORT` (IPv6 in brackets) as an address and a port; undefined when it is not one. */
function splitEndpoint(text: string): { address: string; port: number } | undefined {
  const colon = text.lastIndexOf(':');
  const port = Number(text.slice(colon + 1));
  if (colon <= 0 || !/^\d{1,5}$/.test(text.slice(colon + 1)) || port > 65_535) return undefined;
  return { address: text.slice(0, colon), port };
}

/**
 * The listening sockets in the output of `lsof -F ptn` (lsof(8), "OUTPUT FOR OTHER PROGRAMS"):
 * one field per line, its letter first; `p` starts a process, `f` one of its files, `t` is the
 * file's type (`IPv4`, `IPv6`) and `n` its name (`127.0.0.1:8080`, `[::1]:8080`, `*:8080`).
 * A wildcard is `0.0.0.0` or `::` by the file's type. lsof exits 1 when nothing matched.
 */
export function parseLsofOutput({ status, stdout, stderr }: CommandOutput): Listener[] {
  if (status !== 0 && !(status === 1 && stdout.trim() === '' && stderr.trim() === ''))
    throw new Error(`exit status ${status}${stderr.trim() ? `: ${stderr.trim()}` : ''}`);
  const listeners: Listener[] = [];
  let pid: number | undefined;
  let type = '';
  for (const line of stdout.split(/\r?\n/)) {
    const field = line[0];
    const value = line.slice(1);
    if (field === 'p') {
      pid = /^\d+$/.test(value) ? Number(value) : undefined;
      type = '';
    } else if (field === 'f') type = '';
    else if (field === 't') type = value;
    else if (field === 'n' && pid !== undefined) {
      // A connected socket's name is `local->remote`; a state may follow after a space.
      const endpoint = splitEndpoint(value.split(/->| /)[0]!);
      if (!endpoint) continue;
      const address =
        endpoint.address === '*'
          ? type === 'IPv6'
            ? '::'
            : '0.0.0.0'
          : normalizeAddress(endpoint.address);
      listeners.push({ pid, address, port: endpoint.port });
    } else if (field !== undefined && (pid === undefined || !/^[a-zA-Z]$/.test(field)))
      // Field output starts each process with its `p` line; anything else is not lsof -F's.
      throw new Error(`unexpected output: ${JSON.stringify(line.slice(0, 80))}`);
  }
  return listeners;
}

/** netstat's TCP states in English; a listening line is recognised by its remote end elsewhere. */
const NETSTAT_STATES = new Set([
  'CLOSED',
  'LISTENING',
  'SYN_SENT',
  'SYN_RECEIVED',
  'ESTABLISHED',
  'FIN_WAIT_1',
  'FIN_WAIT_2',
  'CLOSE_WAIT',
  'CLOSING',
  'LAST_ACK',
  'TIME_WAIT',
  'DELETE_TCB',
  'BOUND',
]);

/**
 * The listening TCP sockets in the output of Windows' `netstat -a -n -o`: lines of protocol,
 * local address, remote address, state and owning PID (`TCP 127.0.0.1:8080 0.0.0.0:0 LISTENING
 * 4321`, IPv6 as `[::1]:8080`). A socket listens when its state says so or, where the state is
 * in another language, when its remote end is unspecified (`0.0.0.0:0`, `[::]:0`), as only a
 * listening socket's is. Output with no TCP line at all is not netstat's, and throws.
 */
export function parseNetstatOutput({ status, stdout, stderr }: CommandOutput): Listener[] {
  if (status !== 0)
    throw new Error(`exit status ${status}${stderr.trim() ? `: ${stderr.trim()}` : ''}`);
  const listeners: Listener[] = [];
  let tcpLines = 0;
  for (const line of stdout.split(/\r?\n/)) {
    const fields = line.trim().split(/\s+/);
    if (fields[0]?.toUpperCase() !== 'TCP' || fields.length < 5) continue;
    tcpLines++;
    const local = splitEndpoint(fields[1]!);
    const remote = fields[2]!;
    const pid = fields.at(-1)!;
    const state = fields.slice(3, -1).join(' ');
    const listening =
      state === 'LISTENING' ||
      (!NETSTAT_STATES.has(state) && (remote === '0.0.0.0:0' || remote === '[::]:0'));
    if (!local || !listening || !/^\d+$/.test(pid)) continue;
    listeners.push({
      pid: Number(pid),
      address: normalizeAddress(local.address),
      port: local.port,
    });
  }
  if (tcpLines === 0) throw new Error('no TCP lines in its output');
  return listeners;
}

/** A read of a tool's table: its listeners, or why there are none to tell. */
export type ToolTable =
  | { ok: true; listeners: Listener[] }
  | { ok: false; reason: string; missing: boolean };

/** Error codes of a program that is not there or cannot be run at all. */
const NOT_RUNNABLE = new Set(['ENOENT', 'EACCES', 'EPERM', 'ENOTDIR', 'ENOEXEC', 'UNKNOWN']);

/** Runs `tool` once and reads its table; never rejects. */
export async function readToolTable(tool: PortTool, run: CommandRunner): Promise<ToolTable> {
  let output: CommandOutput;
  try {
    output = await run(tool.file, tool.args, {
      timeoutMs: TOOL_TIMEOUT_MS,
      maxBytes: TOOL_MAX_BYTES,
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return {
      ok: false,
      reason: (error as Error).message,
      missing: typeof code === 'string' && NOT_RUNNABLE.has(code),
    };
  }
  try {
    return { ok: true, listeners: tool.parse(output) };
  } catch (error) {
    return { ok: false, reason: (error as Error).message, missing: false };
  }
}

/** One tool's reads and whether it can be relied on, per runner (one in production). */
interface ToolState {
  tool: PortTool | undefined;
  generation: number;
  read: { generation: number; at: number; table: Promise<ToolTable> } | undefined;
  /** A read has succeeded: a later failure is a passing fault, not a missing tool. */
  worked: boolean;
  /** Why the check is off, once it is (said once). */
  off: string | undefined;
}

// Keyed by runner, then platform and tool path: tests inject a runner each and get a state each.
const states = new WeakMap<CommandRunner, Map<string, ToolState>>();

function stateFor(
  run: CommandRunner,
  platform: NodeJS.Platform,
  env: Readonly<Record<string, string | undefined>>,
): ToolState {
  const tool = portTool(platform, env);
  const key = `${platform} ${tool?.file ?? ''}`;
  let byTool = states.get(run);
  if (!byTool) {
    byTool = new Map();
    states.set(run, byTool);
  }
  let state = byTool.get(key);
  if (!state) {
    state = { tool, generation: 0, read: undefined, worked: false, off: undefined };
    byTool.set(key, state);
  }
  return state;
}

/** Options of {@link toolListeners}. */
export interface ToolOptions {
  platform: NodeJS.Platform;
  run: CommandRunner;
  env: Readonly<Record<string, string | undefined>>;
  /** Where the line saying the check is off goes. */
  log: (message: string) => void;
  /** Reuse a table read this recently, in ms. */
  maxAgeMs: number;
}

/** What the tool says of one port. */
export interface ToolListeners {
  /** The sockets listening on the port, each with its process. */
  listeners: Listener[];
  /** Whether every user's sockets are in `listeners` (else only the current user's). */
  seesAllUsers: boolean;
}

function turnOff(state: ToolState, reason: string, log: (message: string) => void): undefined {
  if (state.off === undefined) {
    state.off = reason;
    log(
      `the port-owner check is off (${reason}): instance tokens are sent to whichever process listens on a record's port`,
    );
  }
  return undefined;
}

/**
 * The sockets listening on `port` as the OS's tool lists them (macOS lsof, Windows netstat),
 * from a table read at most `maxAgeMs` ago, or read afresh when `settled` does not accept
 * what an older table says (a socket opened since). Concurrent asks share one run.
 * @returns undefined when the check is off: no tool on this OS, the tool missing, or failing
 * on its first run; that is said once through `log`.
 * @throws {RegistryError} `READ_FAILED` when a tool that answered before fails now: no answer
 * is not "anyone may have the token".
 */
export async function toolListeners(
  port: number,
  options: ToolOptions,
  settled: (listeners: Listener[]) => boolean = () => true,
): Promise<ToolListeners | undefined> {
  const state = stateFor(options.run, options.platform, options.env);
  const { tool } = state;
  if (!tool)
    return turnOff(
      state,
      `nothing tells which process listens on a port on ${options.platform}`,
      options.log,
    );
  if (state.off !== undefined) return undefined;
  const asked = performance.now();
  let read = state.read;
  if (!read || asked - read.at >= options.maxAgeMs) read = startRead(state, tool, options.run);
  let listeners = await listenersIn(state, tool, read, port, options.log);
  if (listeners !== undefined && !settled(listeners) && read.at < asked) {
    // A newer read than this one, shared by every caller that missed on it.
    const newer =
      state.read && state.read.generation > read.generation
        ? state.read
        : startRead(state, tool, options.run);
    listeners = await listenersIn(state, tool, newer, port, options.log);
  }
  return listeners === undefined ? undefined : { listeners, seesAllUsers: tool.seesAllUsers };
}

function startRead(
  state: ToolState,
  tool: PortTool,
  run: CommandRunner,
): NonNullable<ToolState['read']> {
  const read = {
    generation: ++state.generation,
    at: performance.now(),
    table: readToolTable(tool, run),
  };
  state.read = read;
  return read;
}

async function listenersIn(
  state: ToolState,
  tool: PortTool,
  read: NonNullable<ToolState['read']>,
  port: number,
  log: (message: string) => void,
): Promise<Listener[] | undefined> {
  if (state.off !== undefined) return undefined;
  const table = await read.table;
  if (table.ok) {
    state.worked = true;
    return table.listeners.filter((listener) => listener.port === port);
  }
  // A failed read is not reused: the next ask runs the tool again.
  if (state.read === read) state.read = undefined;
  if (table.missing || !state.worked) return turnOff(state, `${tool.file}: ${table.reason}`, log);
  throw new RegistryError('READ_FAILED', `${tool.file} failed: ${table.reason}`);
}
