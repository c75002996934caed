// `beacon-hub --standalone`: a hub of its own serving MCP on stdin and stdout; and
// `beacon-hub daemon`: the user's shared hub, serving every bridge on its private endpoint.
import path from 'node:path';
import type { BeaconPaths } from '@mcp-beacon/paths';
import {
  createLogger,
  isLogLevel,
  type Logger,
  type OptionValues,
  onShutdown,
} from '@mcp-beacon/runtime';
import { StdioServerTransport } from '@modelcontextprotocol/server/stdio';
import { type StartHubOptions, startHub } from '../hub.js';
import type { HUB_OPTIONS } from '../options.js';
import { DEFAULT_IDLE_EXIT_MS, serveShared } from '../shared/daemon.js';
import type { HubEndpoint } from '../shared/endpoint.js';
import { remoteSpecs } from './remotes-of-run.js';

type Values = OptionValues<typeof HUB_OPTIONS>;

const usage = (message: string): never => {
  process.stderr.write(`beacon-hub: ${message}\n`);
  process.exit(2);
};

/** The hub's options from its command line (a bad value ends the process with code 2). */
async function hubOptions(
  values: Values,
  paths: BeaconPaths,
  logger: Logger,
): Promise<Omit<StartHubOptions, 'logger'>> {
  const tools = values.tools ?? 'grouped';
  if (tools !== 'grouped' && tools !== 'namespaced')
    return usage('--tools must be grouped or namespaced');
  if (values['http-client'] !== undefined)
    logger.warn('--http-client is ignored: instances are always reached with undici');
  const remotes = await remoteSpecs(values, paths, (message) => logger.warn(message), {
    serving: true,
  });
  const remoteTimeoutMs = values['remote-timeout'];
  const instanceBin = values['instance-bin'];
  const only = <T>(value: T | undefined, make: (v: T) => object) =>
    value === undefined ? {} : make(value);
  return {
    paths,
    remotes,
    // The same bound for each health ping (at most 10 s), sent at most every 15 s.
    ...only(remoteTimeoutMs, (ms) => ({
      remoteTiming: {
        handshakeTimeoutMs: ms,
        ping: {
          intervalMs: Math.min(15_000, Math.max(1_000, ms)),
          timeoutMs: Math.min(10_000, ms),
        },
      },
    })),
    tools,
    ...only(values['max-name-length'], (maxNameLength) => ({ maxNameLength })),
    ...only(values['max-tools'], (maxTools) => ({ maxTools })),
    ...only(values['call-timeout'], (callTimeoutMs) => ({ callTimeoutMs })),
    ...only(values['first-list-timeout'], (firstListTimeoutMs) => ({ firstListTimeoutMs })),
    ...only(values['start-timeout'], (startTimeoutMs) => ({ startTimeoutMs })),
    // A path is taken from where the hub was started; a bare name is looked up on PATH (by
    // absolute entries only) when an instance is first started.
    ...only(instanceBin, (bin) => ({
      instanceBin: bin.includes(path.sep) ? path.resolve(bin) : bin,
    })),
    startRoots: values['start-roots'] === true,
    ping: {
      ...only(values['ping-interval'], (intervalMs) => ({ intervalMs })),
      ...only(values['ping-timeout'], (timeoutMs) => ({ timeoutMs })),
    },
  };
}

/** Starts a hub of its own on stdio; it stops when stdin ends or a signal arrives. */
export async function runServe(values: Values, paths: BeaconPaths): Promise<void> {
  const level = values['log-level'] ?? 'warn';
  if (!isLogLevel(level)) return usage('--log-level must be silent, error, warn, info or debug');
  const logger = createLogger(level);
  const transport = new StdioServerTransport();
  const hub = await startHub({
    ...(await hubOptions(values, paths, logger)),
    transport,
    workingFolder: process.cwd(),
    logger,
  });
  const stop = onShutdown(() => hub.close(), { logger });
  process.stdin.on('end', () => stop('stdin closed'));
  process.stdin.on('close', () => stop('stdin closed'));
  transport.onclose = () => stop('transport closed');
}

/**
 * Runs the shared hub of `endpoint` (whose lock this process holds) until it has been idle for
 * `--idle-exit`. Each bridge's own flags (`--tools`, `--max-tools`, `--max-name-length`,
 * `--start-roots`) apply to its session.
 */
export async function runDaemon(
  values: Values,
  paths: BeaconPaths,
  endpoint: HubEndpoint,
  args: readonly string[],
): Promise<void> {
  await serveShared({
    endpoint,
    args,
    idleExitMs: values['idle-exit'] ?? DEFAULT_IDLE_EXIT_MS,
    start: async (logger) => {
      // Session settings come from each bridge; the shared hub starts with none of its own.
      const { maxNameLength, maxTools, ...options } = await hubOptions(values, paths, logger);
      return startHub({ ...options, tools: 'grouped', startRoots: false, logger });
    },
  });
}
