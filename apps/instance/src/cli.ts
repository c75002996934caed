#!/usr/bin/env node
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { ensurePaths, PathsError, resolvePaths } from '@mcp-beacon/paths';
import { createLogger, isLogLevel, type Logger, onShutdown } from '@mcp-beacon/registry';
import { announce } from './announce.js';
import { InstanceError } from './errors.js';
import { startInstance, VERSION } from './instance.js';

const HELP = `beacon-instance ${VERSION}
Serves this project's scripts and logs as an MCP server on 127.0.0.1 and announces it
to the Beacon hub.

Usage:
  beacon-instance [options]
  beacon-instance announce --url http://127.0.0.1:PORT/mcp [options] [-- command [args...]]

Options:
  --port N            port to listen on (default 0: any free port)
  --name NAME         instance name (default: package.json name, else the folder name)
  --cwd DIR           project directory (default: the current directory)
  --no-register       do not write the discovery record
  --no-auth           do not require the per-start bearer token (trusted setups only)
  --exit-with-stdin   exit when stdin closes (for supervisors that hold a pipe)
  --max-runs N        script runs kept, newest first (default 20)
  --log-budget-mb N   log memory kept across runs, in MiB (default 64)
  --grace-ms N        SIGTERM -> SIGKILL grace period of a stopped script (default 3000)
  --session-idle-ms N end an MCP session after N ms without a request (default 600000)
  --max-sessions N    concurrent MCP sessions; more get HTTP 503 (default 100)
  --log-level LEVEL   silent, error, warn, info (default) or debug; logs go to stderr
  -h, --help          show this help
  -v, --version       show the version

Run beacon-instance announce --help for the options of announce.

Data lives in $MCP_BEACON_HOME, else the OS's per-user data folder (mcp-beacon).
`;

const ANNOUNCE_HELP = `beacon-instance announce ${VERSION}
Announces an MCP server that is not a beacon-instance to the Beacon hub, and withdraws it
when it stops answering (or, with --, when the server it started exits).

Usage:
  beacon-instance announce --url http://127.0.0.1:PORT/mcp [options] [-- command [args...]]

Options:
  --url URL           the MCP server (streamable HTTP on a loopback address); required
  --name NAME         name shown by the hub (default: the --path folder's name)
  --path DIR          project path to record (default: the current directory)
  --token-file FILE   file holding the bearer token the server requires (also: the
                      MCP_BEACON_TOKEN environment variable)
  --token T           the same on the command line (visible to other users: avoid)
  --interval MS       ping period over the kept MCP session (default 5000)
  --exit-with-stdin   exit when stdin closes (for supervisors that hold a pipe)
  --log-level LEVEL   silent, error, warn, info (default) or debug; logs go to stderr
  -h, --help          show this help
  -- command [args]   start the server first, announce it once it answers MCP, and withdraw
                      the record when it exits (its pid goes in the record)

The record is written only after an MCP initialize succeeds, and withdrawn as soon as a ping
fails or the session is lost.
`;

/** Flags that only one of the two modes takes; the other refuses them by name. */
const INSTANCE_ONLY = [
  'port',
  'cwd',
  'no-register',
  'no-auth',
  'max-runs',
  'log-budget-mb',
  'grace-ms',
  'session-idle-ms',
  'max-sessions',
] as const;
const ANNOUNCE_ONLY = ['url', 'path', 'token', 'token-file', 'interval'] as const;

function refuseOthers(
  values: Record<string, unknown>,
  flags: readonly string[],
  mode: string,
  help: string,
): void {
  const wrong = flags.filter((flag) => values[flag] !== undefined);
  if (wrong.length > 0)
    throw new InstanceError(
      'USAGE',
      `${wrong.map((f) => `--${f}`).join(', ')} ${wrong.length === 1 ? 'is' : 'are'} not ${mode} option${wrong.length === 1 ? '' : 's'}; see ${help}`,
    );
}

/** Logs the reason in one line; a setup error (usage, a bad data folder) exits 2, others 1. */
function fail(logger: Logger, error: unknown): never {
  const message = error instanceof Error ? error.message : String(error);
  logger.error(message);
  const setup =
    (error instanceof InstanceError && error.code === 'USAGE') || error instanceof PathsError;
  process.exit(setup ? 2 : 1);
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      port: { type: 'string' },
      name: { type: 'string' },
      cwd: { type: 'string' },
      'no-register': { type: 'boolean' },
      'no-auth': { type: 'boolean' },
      'exit-with-stdin': { type: 'boolean' },
      'log-level': { type: 'string' },
      'max-runs': { type: 'string' },
      'log-budget-mb': { type: 'string' },
      'grace-ms': { type: 'string' },
      'session-idle-ms': { type: 'string' },
      'max-sessions': { type: 'string' },
      url: { type: 'string' },
      path: { type: 'string' },
      token: { type: 'string' },
      'token-file': { type: 'string' },
      interval: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'v' },
    },
  });
}

function toInt(
  value: string | undefined,
  flag: string,
  min: number,
  max: number,
): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new InstanceError(
      'USAGE',
      `${flag} must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`,
    );
  }
  return n;
}

/** The announce token: --token-file, else MCP_BEACON_TOKEN, else --token (with a warning). */
async function announceToken(
  values: { token?: string; 'token-file'?: string },
  logger: Logger,
): Promise<string | undefined> {
  if (values['token-file'] !== undefined) {
    try {
      const text = (await readFile(values['token-file'], 'utf8')).trim();
      if (text === '') throw new Error('the file is empty');
      return text;
    } catch (error) {
      throw new InstanceError(
        'USAGE',
        `--token-file ${values['token-file']}: ${(error as Error).message}`,
      );
    }
  }
  const fromEnv = process.env.MCP_BEACON_TOKEN;
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  if (values.token !== undefined)
    logger.warn(
      '--token is visible to every local user in the process list; use --token-file or MCP_BEACON_TOKEN',
    );
  return values.token;
}

const mib = (n: number | undefined) => (n === undefined ? undefined : n * 1024 * 1024);

/** `record` without its undefined fields (the options are exact optional properties). */
function definedOnly<T extends Record<string, number | undefined>>(
  record: T,
): { [K in keyof T]?: number } {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined)) as {
    [K in keyof T]?: number;
  };
}

/** How often one repeated log line is written, in ms. */
const REPEAT_LOG_MS = 60_000;

async function main(): Promise<void> {
  let logger = createLogger('info');
  let args: ReturnType<typeof parse>;
  try {
    args = parse(process.argv.slice(2));
  } catch (error) {
    fail(
      logger,
      new InstanceError(
        'USAGE',
        `${(error as Error).message}\nRun beacon-instance --help for usage.`,
      ),
    );
  }
  const { values, positionals } = args;
  if (values.help) {
    process.stdout.write(positionals[0] === 'announce' ? ANNOUNCE_HELP : HELP);
    return;
  }
  if (values.version) {
    process.stdout.write(`${VERSION}\n`);
    return;
  }
  const level = values['log-level'] ?? 'info';
  if (!isLogLevel(level))
    fail(
      logger,
      new InstanceError('USAGE', `--log-level must be silent, error, warn, info or debug`),
    );
  // An instance runs for days, its stderr often a file (instances_start): a line that keeps
  // repeating (a failing heartbeat, refused sessions) is written once a minute.
  logger = createLogger(level, { repeatMs: REPEAT_LOG_MS });

  try {
    if (positionals[0] === 'announce') {
      refuseOthers(values, INSTANCE_ONLY, 'an announce', 'beacon-instance announce --help');
      if (values.url === undefined) throw new InstanceError('USAGE', 'announce needs --url');
      const interval = toInt(values.interval, '--interval', 100, 3_600_000);
      const dashes = process.argv.indexOf('--');
      if (dashes < 0 && positionals.length > 1)
        throw new InstanceError(
          'USAGE',
          `unexpected ${JSON.stringify(positionals[1])}; put the server's command after --`,
        );
      const command = dashes < 0 ? [] : process.argv.slice(dashes + 1);
      const token = await announceToken(values, logger);
      // Signal handlers go in before anything is announced, so no record can outlive a SIGTERM.
      const announcePaths = resolvePaths();
      await ensurePaths(announcePaths);
      const announcing = announce({
        url: values.url,
        logger,
        paths: announcePaths,
        ...(values.name === undefined ? {} : { name: values.name }),
        ...(values.path === undefined ? {} : { path: values.path }),
        ...(token === undefined ? {} : { token }),
        ...(interval === undefined ? {} : { intervalMs: interval }),
        ...(command.length > 0 ? { command } : {}),
      });
      onShutdown(
        async () => {
          await (await announcing.catch(() => undefined))?.close();
        },
        { logger, stdinEnd: values['exit-with-stdin'] === true },
      );
      const result = await (await announcing).done;
      process.exit(result.how === 'exited' ? result.code : result.how === 'unreachable' ? 1 : 0);
    }
    if (positionals.length > 0)
      throw new InstanceError('USAGE', `unknown command ${JSON.stringify(positionals[0])}`);
    refuseOthers(values, ANNOUNCE_ONLY, 'an instance', 'beacon-instance --help');
    const port = toInt(values.port, '--port', 0, 65535);
    const limits = {
      maxRuns: toInt(values['max-runs'], '--max-runs', 1, 10_000),
      logBytes: mib(toInt(values['log-budget-mb'], '--log-budget-mb', 1, 65_536)),
      graceMs: toInt(values['grace-ms'], '--grace-ms', 0, 600_000),
      sessionIdleMs: toInt(values['session-idle-ms'], '--session-idle-ms', 100, 86_400_000),
      maxSessions: toInt(values['max-sessions'], '--max-sessions', 1, 100_000),
    };
    // The data folder is checked before anything starts: a bad one is a setup error.
    const paths = resolvePaths();
    if (values['no-register'] !== true) await ensurePaths(paths);
    const starting = startInstance({
      paths,
      cwd: values.cwd ?? process.cwd(),
      logger,
      ...definedOnly(limits),
      ...(port === undefined ? {} : { port }),
      ...(values.name === undefined ? {} : { name: values.name }),
      register: values['no-register'] !== true,
      auth: values['no-auth'] !== true,
    });
    // Installed before the record is written: a signal during start-up waits for it, then
    // removes the record like any other shutdown.
    onShutdown(
      async () => {
        await (await starting.catch(() => undefined))?.close();
      },
      {
        logger,
        stdinEnd: values['exit-with-stdin'] === true,
        // Stopping scripts may take their grace period; the bound leaves room for it.
        forceAfterMs: (limits.graceMs ?? 3_000) + 5_000,
      },
    );
    await starting;
  } catch (error) {
    fail(logger, error);
  }
}

void main();
