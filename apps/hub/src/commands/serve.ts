// `beacon-hub [options]`: serve MCP on stdin and stdout.
import path from 'node:path';
import type { BeaconPaths } from '@mcp-beacon/paths';
import { createLogger, isLogLevel, type OptionValues, onShutdown } from '@mcp-beacon/registry';
import { StdioServerTransport } from '@modelcontextprotocol/server/stdio';
import { startHub } from '../hub.js';
import type { HUB_OPTIONS } from '../options.js';
import { remoteSpecs } from './remotes-of-run.js';

const usage = (message: string): never => {
  process.stderr.write(`beacon-hub: ${message}\n`);
  process.exit(2);
};

/** Starts the hub on stdio; it stops when stdin ends or a signal arrives. */
export async function runServe(
  values: OptionValues<typeof HUB_OPTIONS>,
  paths: BeaconPaths,
): Promise<void> {
  const level = values['log-level'] ?? 'warn';
  if (!isLogLevel(level)) return usage('--log-level must be silent, error, warn, info or debug');
  const logger = createLogger(level);
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
  const transport = new StdioServerTransport();
  const hub = await startHub({
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
    transport,
    logger,
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
  });
  const stop = onShutdown(() => hub.close(), { logger });
  process.stdin.on('end', () => stop('stdin closed'));
  process.stdin.on('close', () => stop('stdin closed'));
  transport.onclose = () => stop('transport closed');
}
