// The beacon-hub command line; src/cli.ts loads it once the V8 flags are set. Over 300 lines
// on purpose: the help text and the dispatch of every subcommand and flag, in one place; the
// work of each is in its own module (hub.ts, list.ts, list-watch.ts, setup.ts, remote/).

import { realpathSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type BeaconPaths, ensurePaths, PathsError, resolvePaths } from '@mcp-beacon/paths';
import { cleanText, createLogger, isLogLevel, onShutdown } from '@mcp-beacon/registry';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { startHub, VERSION } from './hub.js';
import { formatTable, listInstances } from './list.js';
import { watchList } from './list-watch.js';
import { REMOTE_USAGE, remoteCommand, remotesOfRun } from './remote/cli.js';
import { listRemoteInstances } from './remote/list.js';
import { remoteSummary } from './remote/remotes.js';
import type { RemoteSpec } from './remote/types.js';
import { SETUP_CLIENTS, type SetupClient, setupText, writeSetup } from './setup.js';

// stdout belongs to JSON-RPC: anything that calls console.log goes to stderr instead.
console.log = console.error;
console.info = console.error;

const HELP = `beacon-hub ${VERSION}
One MCP server (stdio) for every running Beacon instance: discovers them, health-checks
them, and offers instances_list plus every instance tool, listed once per definition with an
\`instance\` argument naming the project.

Usage:
  beacon-hub [options]          serve MCP on stdin/stdout (what MCP clients launch)
  beacon-hub list [--json]      print the instances found and exit
  beacon-hub list --watch       connect to them and show every change as it happens (a table
                                redrawn in place on a terminal, one line per change
                                otherwise); Ctrl-C exits
  beacon-hub remote add NAME -- COMMAND [ARGS...] | remote list | remote remove NAME
                                keep the other machines (dev boxes, containers, WSL) whose
                                hubs this one shows, each reached by COMMAND (ssh devbox
                                beacon-hub); see beacon-hub remote --help
  beacon-hub setup CLIENT [--write] [--start-roots]
                                print how to add this hub to CLIENT (claude-code,
                                claude-desktop, cursor or vscode): the command, or the JSON
                                for its config file; --write edits that file (backup kept);
                                --start-roots launches the hub with that flag

Options:
  --log-level LEVEL     silent, error, warn (default), info or debug; logs go to stderr
  --call-timeout MS     per-call timeout for proxied requests (default 60000)
  --ping-interval MS    health-check period (default 5000)
  --ping-timeout MS     a ping unanswered this long is a miss (default 2000)
  --first-list-timeout MS
                        how long the first tools/list may wait for the instances
                        present at start-up to connect (default 2000; 0 = no wait)
  --tools MODE          grouped (default): each instance tool definition listed once,
                        with an \`instance\` argument; namespaced: every instance's tools
                        as <instance>__<tool>
  --max-name-length N   longest tool and prompt name listed (default 48, at least 24)
  --max-tools N         list at most N tools (hub tools first); the rest stay callable
                        through instances_call and are found with instances_tools
  --start-roots         start beacon-instance in every root the client reports (at start
                        and when its roots change) that holds a package.json and has no
                        live instance; started instances keep running after the hub exits
  --instance-bin PATH   the beacon-instance that instances_start and --start-roots run
                        (default: the one installed next to this hub, else PATH)
  --start-timeout MS    how long a start may take to become active (default 20000)
  --remote NAME=COMMAND also show the hub COMMAND runs (e.g. devbox='ssh devbox beacon-hub'),
                        for this run only; repeatable; kept remotes are added to it
  --no-remotes          do not start the kept remotes
  --remote-timeout MS   how long a remote's command may take to answer as a hub (default
                        20000), and each of its health pings (at most 10000, every MS
                        up to 15000); one that does not is unreachable, and retried
  --json                with list: print JSON
  -h, --help            show this help
  -v, --version         show the version

Data lives in $MCP_BEACON_HOME, else the OS's per-user data folder (mcp-beacon).
`;

/** A whole-number option of at least `min` (default 1); a bad one ends the hub with code 2. */
function intOption(
  value: string | undefined,
  flag: string,
  { min = 1, unit = 'ms' }: { min?: number; unit?: string } = {},
): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) {
    const kind =
      min === 0 ? 'a whole number' : min === 1 ? 'a positive integer' : `an integer >= ${min}`;
    process.stderr.write(
      `beacon-hub: ${flag} must be ${kind}${unit ? ` (${unit})` : ''}, got ${JSON.stringify(value)}\n`,
    );
    process.exit(2);
  }
  return n;
}

/**
 * The remotes of this run (see `remotesOfRun`); a bad `--remote` ends the hub with code 2,
 * and, when serving MCP, is said to the client too, as the answer to its first request.
 */
async function remoteSpecs(
  values: { remote?: string[]; 'no-remotes'?: boolean },
  paths: BeaconPaths,
  warn: (message: string) => void,
  { serving = false }: { serving?: boolean } = {},
): Promise<RemoteSpec[]> {
  try {
    return await remotesOfRun(values, paths, warn);
  } catch (error) {
    const line = `beacon-hub: ${(error as Error).message}`;
    process.stderr.write(`${line}\n`);
    if (serving) await answerFirstRequest(line, 1_000);
    process.exit(2);
  }
}

async function main(): Promise<void> {
  // `remote add NAME -- COMMAND ARGS` takes the command's own options verbatim.
  if (process.argv[2] === 'remote') {
    const words = process.argv.slice(3);
    if (words.length === 0 || words[0] === '--help' || words[0] === '-h')
      return void process.stdout.write(REMOTE_USAGE);
    let paths: BeaconPaths;
    try {
      paths = resolvePaths();
    } catch (error) {
      process.stderr.write(`beacon-hub: ${(error as Error).message}\n`);
      process.exit(2);
    }
    process.exitCode = await remoteCommand(
      words,
      paths,
      (text) => process.stdout.write(text),
      (text) => process.stderr.write(text),
    );
    return;
  }
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse();
  } catch (error) {
    process.stderr.write(
      `beacon-hub: ${(error as Error).message}\nRun beacon-hub --help for usage.\n`,
    );
    process.exit(2);
  }
  const { values, positionals } = parsed;
  if (values.help) return void process.stdout.write(HELP);
  if (values.version) return void process.stdout.write(`${VERSION}\n`);

  // A bad data folder is a setup error: one line saying what to fix, exit code 2.
  let paths: BeaconPaths;
  try {
    paths = resolvePaths();
    if (positionals[0] !== 'list' && positionals[0] !== 'setup') await ensurePaths(paths);
  } catch (error) {
    if (!(error instanceof PathsError)) throw error;
    const line = `beacon-hub: ${error.message}`;
    process.stderr.write(`${line}\n`);
    // Serving MCP: say it to the client too, as the answer to its first request.
    if (positionals.length === 0) await answerFirstRequest(line, 1_000);
    process.exit(2);
  }

  const warn = (message: string) => process.stderr.write(`beacon-hub: ${message}\n`);
  const remoteTimeoutMs = intOption(values['remote-timeout'], '--remote-timeout');
  if (positionals[0] === 'list' && values.watch) {
    const view = await watchList({
      paths,
      remotes: await remoteSpecs(values, paths, warn),
      write: (text) => process.stdout.write(text),
      tty: process.stdout.isTTY === true,
    });
    onShutdown(() => view.close(), { logger: createLogger('warn') });
    return;
  }
  if (positionals[0] === 'list') {
    const remote = await listRemoteInstances(await remoteSpecs(values, paths, warn), {
      version: VERSION,
      ...(remoteTimeoutMs === undefined ? {} : { handshakeTimeoutMs: remoteTimeoutMs }),
    });
    const { instances, invalid } = await listInstances(paths, remote.instances);
    const remotes = remote.remotes.map(remoteSummary);
    if (values.json)
      process.stdout.write(
        `${JSON.stringify({ instances, invalid, ...(remotes.length > 0 ? { remotes } : {}) }, null, 2)}\n`,
      );
    else {
      process.stdout.write(formatTable(instances));
      for (const r of remotes)
        process.stdout.write(
          `${cleanText(
            `remote ${r.name}: ${r.state === 'connected' ? `${r.instances} instance(s)` : `${r.state}: ${r.reason ?? ''}`}`,
          )}\n`,
        );
      for (const bad of invalid)
        process.stderr.write(`ignored ${cleanText(bad.file)}: ${cleanText(bad.reason)}\n`);
    }
    return;
  }
  if (positionals[0] === 'setup') {
    const client = positionals[1];
    if (!SETUP_CLIENTS.includes(client as SetupClient) || positionals.length > 2) {
      process.stderr.write(
        `beacon-hub: setup needs one client: ${SETUP_CLIENTS.join(', ')}; got ${JSON.stringify(positionals.slice(1).join(' '))}\n`,
      );
      process.exit(2);
    }
    const launch = {
      node: process.execPath,
      cli: realpathSync(fileURLToPath(new URL('./cli.js', import.meta.url))),
      dataDir: paths.root,
      flags: values['start-roots'] ? ['--start-roots'] : [],
    };
    const env = { home: homedir(), platform: process.platform, appData: process.env.APPDATA };
    if (!values.write)
      return void process.stdout.write(setupText(client as SetupClient, launch, env));
    try {
      const { file, backup } = await writeSetup(client as SetupClient, launch, env);
      process.stdout.write(
        `Added beacon to ${file}${backup ? ` (previous version kept in ${backup})` : ''}; restart ${client} to load it.\n`,
      );
    } catch (error) {
      process.stderr.write(`beacon-hub: ${(error as Error).message}\n`);
      process.exit(1);
    }
    return;
  }
  if (positionals.length > 0) {
    process.stderr.write(
      `beacon-hub: unknown command ${JSON.stringify(positionals[0])}\nRun beacon-hub --help for usage.\n`,
    );
    process.exit(2);
  }

  const level = values['log-level'] ?? 'warn';
  if (!isLogLevel(level)) {
    process.stderr.write('beacon-hub: --log-level must be silent, error, warn, info or debug\n');
    process.exit(2);
  }
  const logger = createLogger(level);
  const callTimeoutMs = intOption(values['call-timeout'], '--call-timeout');
  const intervalMs = intOption(values['ping-interval'], '--ping-interval');
  const timeoutMs = intOption(values['ping-timeout'], '--ping-timeout');
  const firstListTimeoutMs = intOption(values['first-list-timeout'], '--first-list-timeout', {
    min: 0,
  });
  const startTimeoutMs = intOption(values['start-timeout'], '--start-timeout');
  const instanceBin = values['instance-bin'];
  const tools = values.tools ?? 'grouped';
  if (tools !== 'grouped' && tools !== 'namespaced') {
    process.stderr.write('beacon-hub: --tools must be grouped or namespaced\n');
    process.exit(2);
  }
  const maxNameLength = intOption(values['max-name-length'], '--max-name-length', {
    min: 24,
    unit: 'characters',
  });
  // Accepted so that configurations written for older hubs keep starting.
  if (values['http-client'] !== undefined)
    logger.warn('--http-client is ignored: instances are always reached with undici');
  const maxTools = intOption(values['max-tools'], '--max-tools', { min: 10, unit: '' });
  const remotes = await remoteSpecs(values, paths, (message) => logger.warn(message), {
    serving: true,
  });
  const transport = new StdioServerTransport();
  const hub = await startHub({
    paths,
    remotes,
    ...(remoteTimeoutMs === undefined
      ? {}
      : {
          // The same bound for each health ping (at most 10 s), sent at most every 15 s.
          remoteTiming: {
            handshakeTimeoutMs: remoteTimeoutMs,
            ping: {
              intervalMs: Math.min(15_000, Math.max(1_000, remoteTimeoutMs)),
              timeoutMs: Math.min(10_000, remoteTimeoutMs),
            },
          },
        }),
    transport,
    logger,
    tools,
    ...(maxNameLength === undefined ? {} : { maxNameLength }),
    ...(maxTools === undefined ? {} : { maxTools }),
    ...(callTimeoutMs === undefined ? {} : { callTimeoutMs }),
    ...(firstListTimeoutMs === undefined ? {} : { firstListTimeoutMs }),
    ...(startTimeoutMs === undefined ? {} : { startTimeoutMs }),
    // A path is taken from where the hub was started; a bare name is looked up on PATH (by
    // absolute entries only) when an instance is first started.
    ...(instanceBin === undefined
      ? {}
      : { instanceBin: instanceBin.includes(path.sep) ? path.resolve(instanceBin) : instanceBin }),
    startRoots: values['start-roots'] === true,
    ping: {
      ...(intervalMs === undefined ? {} : { intervalMs }),
      ...(timeoutMs === undefined ? {} : { timeoutMs }),
    },
  });

  const stop = onShutdown(() => hub.close(), { logger });
  process.stdin.on('end', () => stop('stdin closed'));
  process.stdin.on('close', () => stop('stdin closed'));
  transport.onclose = () => stop('transport closed');
}

/**
 * Waits up to `waitMs` for the client's first JSON-RPC request on stdin and answers it with
 * an error carrying `message`, so the client's log shows why the server is gone.
 */
function answerFirstRequest(message: string, waitMs: number): Promise<void> {
  return new Promise((resolve) => {
    let buffer = '';
    const done = () => {
      clearTimeout(timer);
      process.stdin.off('data', onData);
      process.stdin.pause();
      resolve();
    };
    const onData = (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      const nl = buffer.indexOf('\n');
      if (nl < 0) return;
      let id: unknown;
      try {
        id = (JSON.parse(buffer.slice(0, nl)) as { id?: unknown }).id;
      } catch {
        return done();
      }
      if (id === undefined) return done();
      process.stdout.write(
        `${JSON.stringify({ jsonrpc: '2.0', id, error: { code: -32603, message } })}\n`,
        () => done(),
      );
    };
    const timer = setTimeout(done, waitMs);
    process.stdin.on('data', onData);
    process.stdin.once('end', done);
  });
}

function parse() {
  return parseArgs({
    allowPositionals: true,
    options: {
      'log-level': { type: 'string' },
      'call-timeout': { type: 'string' },
      'ping-interval': { type: 'string' },
      'ping-timeout': { type: 'string' },
      'first-list-timeout': { type: 'string' },
      'start-timeout': { type: 'string' },
      'instance-bin': { type: 'string' },
      tools: { type: 'string' },
      'http-client': { type: 'string' },
      'max-name-length': { type: 'string' },
      'max-tools': { type: 'string' },
      'start-roots': { type: 'boolean' },
      remote: { type: 'string', multiple: true },
      'no-remotes': { type: 'boolean' },
      'remote-timeout': { type: 'string' },
      json: { type: 'boolean' },
      write: { type: 'boolean' },
      watch: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'v' },
    },
  });
}

void main();
