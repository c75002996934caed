// The beacon-instance command line: parses it, then starts an instance or an announce.
import { readFile } from 'node:fs/promises';
import { ensurePaths, PathsError, resolvePaths } from '@mcp-beacon/paths';
import {
  createLogger,
  isLogLevel,
  type Logger,
  onShutdown,
  parseCommandLine,
  RuntimeError,
} from '@mcp-beacon/runtime';
import { InstanceError } from './errors.js';
import { startInstance, VERSION } from './instance.js';
import { ANNOUNCE_HELP, ANNOUNCE_ONLY, HELP, INSTANCE_ONLY, OPTIONS } from './options.js';

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
    ((error instanceof InstanceError || error instanceof RuntimeError) && error.code === 'USAGE') ||
    error instanceof PathsError;
  process.exit(setup ? 2 : 1);
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
  let args: ReturnType<typeof parseCommandLine<typeof OPTIONS>>;
  try {
    args = parseCommandLine(OPTIONS, process.argv.slice(2));
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
      const interval = values.interval;
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
      // The MCP client is loaded only for an announce: an instance does not need it.
      const { announce } = await import('./announce.js');
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
    const port = values.port;
    const limits = {
      maxRuns: values['max-runs'],
      logBytes: mib(values['log-budget-mb']),
      graceMs: values['grace-ms'],
      sessionIdleMs: values['session-idle-ms'],
      maxSessions: values['max-sessions'],
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
