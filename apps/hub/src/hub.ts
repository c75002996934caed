import { createRequire } from 'node:module';
import {
  type ConnectionManager,
  createConnectionManager,
  type PingOptions,
} from '@mcp-beacon/connection-manager';
import { createHubServer, HUB_CLIENT_CAPABILITIES, type HubServer } from '@mcp-beacon/hub-mcp';
import { type BeaconPaths, resolvePaths } from '@mcp-beacon/paths';
import { removeInstance } from '@mcp-beacon/registry';
import { type InstanceWatcher, watchInstances } from '@mcp-beacon/watcher';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { Logger } from './logger.js';

/** This package's version, shown by `--version` and in the MCP server info. */
export const VERSION: string = createRequire(import.meta.url)('../package.json').version;

/** Options of {@link startHub}. */
export interface StartHubOptions {
  /** Where the hub talks MCP (stdio for `beacon-hub`). */
  transport: Transport;
  logger: Logger;
  paths?: BeaconPaths;
  /** Per-call timeout for proxied requests in ms (default 60 000). */
  callTimeoutMs?: number;
  ping?: PingOptions;
  /** Give up on an unreachable instance (state `dead`) after this many ms (default 60 000). */
  giveUpAfterMs?: number;
}

/** A running hub. */
export interface Hub {
  readonly manager: ConnectionManager;
  readonly server: HubServer;
  readonly watcher: InstanceWatcher;
  /** Closes the watcher, every instance connection and the MCP server; idempotent. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Composes watcher -> connection manager -> hub MCP server. The MCP server is connected first,
 * so `initialize` is answered before discovery finishes; instances then arrive with list_changed.
 */
export async function startHub(options: StartHubOptions): Promise<Hub> {
  const { logger } = options;
  const paths = options.paths ?? resolvePaths();
  let hub: HubServer | undefined;
  const manager = createConnectionManager({
    clientInfo: { name: 'beacon-hub', version: VERSION },
    clientCapabilities: HUB_CLIENT_CAPABILITIES,
    configureClient: (client, info) => hub?.configureClient(client, info),
    removeRecord: (record) => removeInstance(paths, record.id),
    ...(options.ping === undefined ? {} : { ping: options.ping }),
    ...(options.giveUpAfterMs === undefined
      ? {}
      : { backoff: { giveUpAfterMs: options.giveUpAfterMs } }),
  });
  hub = createHubServer({
    manager,
    serverInfo: { name: 'beacon-hub', version: VERSION },
    ...(options.callTimeoutMs === undefined ? {} : { callTimeoutMs: options.callTimeoutMs }),
    log: (message) => logger.warn(message),
  });
  manager.onTransition((event) => {
    const line = `${event.info.record.name} (${event.id.slice(0, 8)}): ${event.from} -> ${event.to}${event.reason ? ` (${event.reason})` : ''}`;
    if (event.to === 'retrying' || event.to === 'dead') logger.warn(line);
    else logger.info(line);
  });
  await hub.server.connect(options.transport);

  const watcher = watchInstances({
    dir: paths.instances,
    onError: (error) => logger.warn(error.message),
  });
  watcher.on((event) => {
    switch (event.type) {
      case 'added':
      case 'updated':
        manager.upsert(event.record);
        break;
      case 'removed':
        void manager.remove(event.id);
        break;
      case 'invalid':
        logger.warn(`ignoring ${event.file}: ${event.reason}: ${event.message}`);
        break;
    }
  });
  watcher.ready.then(
    () => logger.info(`watching ${paths.instances}`),
    (error: Error) => logger.error(`cannot watch ${paths.instances}: ${error.message}`),
  );

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      await watcher.close();
      await manager.close();
      await hub?.close();
    })();
    return closing;
  };
  return { manager, server: hub, watcher, close, [Symbol.asyncDispose]: close };
}
