// The beacon-hub command line; src/cli.ts loads it once the V8 flags are set. It reads the
// options (options.ts) and hands over to a command: serve, list or setup (commands/), or
// remote (remote/cli.ts).
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type BeaconPaths, ensurePaths, PathsError, resolvePaths } from '@mcp-beacon/paths';
import { parseCommandLine } from '@mcp-beacon/runtime';
import { answerFirstRequest } from './commands/first-request.js';
import { runList } from './commands/list.js';
import { runServe } from './commands/serve.js';
import { runSetup } from './commands/setup.js';
import { runStatus } from './commands/status.js';
import { VERSION } from './hub.js';
import { HELP, HUB_OPTIONS } from './options.js';
import { REMOTE_USAGE, remoteCommand } from './remote/cli.js';

/** `remote add NAME -- COMMAND ARGS` takes the command's own options verbatim. */
async function runRemote(words: string[]): Promise<void> {
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
}

async function main(): Promise<void> {
  if (process.argv[2] === 'remote') return runRemote(process.argv.slice(3));
  let parsed: ReturnType<typeof parseCommandLine<typeof HUB_OPTIONS>>;
  try {
    parsed = parseCommandLine(HUB_OPTIONS, process.argv.slice(2));
  } catch (error) {
    process.stderr.write(
      `beacon-hub: ${(error as Error).message}\nRun beacon-hub --help for usage.\n`,
    );
    process.exit(2);
  }
  const { values, positionals } = parsed;
  if (values.help) return void process.stdout.write(HELP);
  if (values.version) return void process.stdout.write(`${VERSION}\n`);
  const [command, ...words] = positionals;
  if (command !== undefined && command !== 'list' && command !== 'setup' && command !== 'status') {
    process.stderr.write(
      `beacon-hub: unknown command ${JSON.stringify(command)}\nRun beacon-hub --help for usage.\n`,
    );
    process.exit(2);
  }

  // A bad data folder is a setup error: one line saying what to fix, exit code 2.
  let paths: BeaconPaths;
  try {
    paths = resolvePaths();
    if (command === undefined) await ensurePaths(paths);
  } catch (error) {
    if (!(error instanceof PathsError)) throw error;
    const line = `beacon-hub: ${error.message}`;
    process.stderr.write(`${line}\n`);
    // Serving MCP: say it to the client too, as the answer to its first request.
    if (command === undefined) await answerFirstRequest(line, 1_000);
    process.exit(2);
  }

  const warn = (message: string) => process.stderr.write(`beacon-hub: ${message}\n`);
  if (command === 'list') return runList(values, paths, warn);
  if (command === 'status') return runStatus(values, paths);
  if (command === 'setup') {
    const cli = realpathSync(fileURLToPath(new URL('./cli.js', import.meta.url)));
    return runSetup(words, values, paths, cli);
  }
  return runServe(values, paths);
}

void main();
