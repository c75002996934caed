// What `beacon-hub` runs, decided before anything heavy loads: as MCP clients launch it, the
// thin bridge to the user's shared hub (shared/bridge.ts); `daemon`, the shared hub, once it
// holds its endpoint's lock; anything else (--standalone, list, setup, status, remote), main.ts.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BeaconPaths, ensurePaths, PathsError, resolvePaths } from '@mcp-beacon/paths';
import { isLogLevel, parseCommandLine } from '@mcp-beacon/runtime';
import { answerFirstRequest } from './commands/first-request.js';
import { HUB_OPTIONS } from './options.js';
import { runBridge } from './shared/bridge.js';
import {
  EndpointError,
  ensureHubDir,
  type HubEndpoint,
  hubEndpoint,
  takeLock,
} from './shared/endpoint.js';
import { hubArgsOf, hubSettings, sessionOf } from './shared/settings.js';
import { VERSION } from './version.js';

// stdout belongs to JSON-RPC: anything that calls console.log goes to stderr instead.
console.log = console.error;
console.info = console.error;

const argv = process.argv.slice(2);
let parsed: ReturnType<typeof parseCommandLine<typeof HUB_OPTIONS>> | undefined;
try {
  parsed = argv[0] === 'remote' ? undefined : parseCommandLine(HUB_OPTIONS, argv);
} catch {
  parsed = undefined; // main.ts says what is wrong
}
const command = parsed?.positionals[0];
const values = parsed?.values;

/** Fails as a served hub does: one line on stderr, and as the answer to the first request. */
async function fail(message: string, serving: boolean): Promise<never> {
  const line = `beacon-hub: ${message}`;
  process.stderr.write(`${line}\n`);
  if (serving) await answerFirstRequest(line, 1_000);
  process.exit(2);
}

/** The data folder and the shared hub's endpoint for this command line's hub-wide settings. */
async function endpointOf(
  serving: boolean,
): Promise<{ paths: BeaconPaths; endpoint: HubEndpoint; hubArgs: string[] }> {
  try {
    const paths = await ensurePaths(resolvePaths());
    const hubArgs = hubArgsOf(values ?? {});
    const settings = await hubSettings(hubArgs, path.join(paths.config, 'remotes.json'));
    const endpoint = hubEndpoint(paths.root, VERSION, settings);
    await ensureHubDir(endpoint.dir);
    return { paths, endpoint, hubArgs };
  } catch (error) {
    if (!(error instanceof PathsError || error instanceof EndpointError)) throw error;
    return fail(error.message, serving);
  }
}

const plain =
  values !== undefined &&
  !values.standalone &&
  !values.help &&
  !values.version &&
  parsed?.positionals.length === 0;

if (plain && values) {
  const level = values['log-level'] ?? 'warn';
  if (!isLogLevel(level))
    await fail('--log-level must be silent, error, warn, info or debug', false);
  if (values.tools !== undefined && values.tools !== 'grouped' && values.tools !== 'namespaced')
    await fail('--tools must be grouped or namespaced', false);
  const { paths, endpoint, hubArgs } = await endpointOf(true);
  await runBridge({
    endpoint,
    hubArgs,
    session: sessionOf(values, process.cwd(), `bridge pid ${process.pid}`),
    cli: fileURLToPath(new URL('./cli.js', import.meta.url)),
    cwd: paths.root,
    logLevel: level,
  });
} else if (
  command === 'daemon' &&
  values &&
  !values.help &&
  !values.version &&
  parsed?.positionals.length === 1
) {
  const { paths, endpoint, hubArgs } = await endpointOf(false);
  const lock = await takeLock(endpoint);
  if (!lock.taken) {
    process.stderr.write(
      `beacon-hub: the hub (pid ${lock.holder}) already serves ${endpoint.address}\n`,
    );
    process.exit(0);
  }
  const { runDaemon } = await import('./daemon-entry.js');
  await runDaemon(values, paths, endpoint, hubArgs);
} else {
  await import('./main.js');
}
