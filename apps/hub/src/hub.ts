import {
  type ConnectionManager,
  createConnectionManager,
  type PingOptions,
} from '@mcp-beacon/connection-manager';
import {
  createHubServer,
  HUB_CLIENT_CAPABILITIES,
  type HubServer,
  type HubServerOptions,
  type ProtocolEra,
} from '@mcp-beacon/hub-mcp';
import { type BeaconPaths, resolvePaths } from '@mcp-beacon/paths';
import { removeInstance } from '@mcp-beacon/registry';
import type { Logger } from '@mcp-beacon/runtime';
import { type InstanceWatcher, watchInstances } from '@mcp-beacon/watcher';
import type { Server, Transport } from '@modelcontextprotocol/server';
import { followRecords } from './follow.js';
import { createLauncher, type LauncherOptions } from './launcher.js';
import { REMOTE_CAPABILITY } from './remote/protocol.js';
import { createRemotes, type Remotes, remoteSummary } from './remote/remotes.js';
import { serveRemoteProtocol } from './remote/serve.js';
import type { RemoteLinkOptions, RemoteSpec } from './remote/types.js';
import { createTransitionLog } from './transition-log.js';
import { VERSION } from './version.js';

export { VERSION } from './version.js';

/** Options of {@link startHub}. */
export interface StartHubOptions {
  /**
   * A client to serve at once (stdio for `beacon-hub --standalone`); more are served with
   * `hub.server.connect` (the shared hub serves each bridge so).
   */
  transport?: Transport;
  /** The folder that client works in: a call without `instance` prefers the project holding it. */
  workingFolder?: string;
  logger: Logger;
  paths?: BeaconPaths;
  /** Per-call timeout for proxied requests in ms (default 60 000). */
  callTimeoutMs?: number;
  ping?: PingOptions;
  /** Give up on an unreachable instance (state `dead`) after this many ms (default 60 000). */
  giveUpAfterMs?: number;
  /** Bound on the first list's wait for the instances present at start-up, in ms (default 2 000). */
  firstListTimeoutMs?: number;
  /** Period of the summary of instances that keep failing, in ms (default 60 000). */
  logSummaryMs?: number;
  /** Start an instance in each client root with a package.json and none running. */
  startRoots?: boolean;
  /** The beacon-instance program `instances_start` runs (see {@link LauncherOptions}). */
  instanceBin?: string;
  /** How long `instances_start` waits for the instance to be active, in ms (default 20 000). */
  startTimeoutMs?: number;
  /** How instance tools are listed (see {@link HubServerOptions.tools}; default `grouped`). */
  tools?: HubServerOptions['tools'];
  /** Longest tool or prompt name listed (default 48). */
  maxNameLength?: number;
  /** Most tools listed (default: no cap). */
  maxTools?: number;
  /**
   * Other machines' hubs, each reached through a command (`ssh devbox beacon-hub`); their
   * instances are listed as `<remote>/<name>`. They start once the MCP client has
   * initialized, unless that client is itself a hub (so two hubs that list each other as
   * remotes never start each other without end).
   */
  remotes?: readonly RemoteSpec[];
  /** Timing of the remotes' links (tests shorten it; see {@link RemoteLinkOptions}). */
  remoteTiming?: Pick<RemoteLinkOptions, 'backoff' | 'handshakeTimeoutMs' | 'ping'>;
}

/** A running hub. */
export interface Hub {
  readonly manager: ConnectionManager;
  readonly server: HubServer;
  readonly watcher: InstanceWatcher;
  readonly remotes: Remotes;
  /** Closes the watcher, every instance connection and the MCP server; idempotent. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Composes watcher -> connection manager -> hub MCP server. `initialize` is answered at once;
 * the first tools/resources/prompts list waits (bounded) until the records present at start-up
 * are connected or have failed, so clients that list once see every instance.
 */
export async function startHub(options: StartHubOptions): Promise<Hub> {
  const { logger } = options;
  const paths = options.paths ?? resolvePaths();
  const manager = createConnectionManager({
    clientInfo: { name: 'beacon-hub', version: VERSION },
    clientCapabilities: HUB_CLIENT_CAPABILITIES,
    removeRecord: (record) => removeInstance(paths, record.id),
    log: (message) => logger.warn(message),
    ...(options.ping === undefined ? {} : { ping: options.ping }),
    ...(options.giveUpAfterMs === undefined
      ? {}
      : { backoff: { giveUpAfterMs: options.giveUpAfterMs } }),
  });
  const transitions = createTransitionLog(logger, {
    ...(options.logSummaryMs === undefined ? {} : { summaryMs: options.logSummaryMs }),
  });
  manager.onTransition(transitions.record);

  const watcher = watchInstances({
    dir: paths.instances,
    onError: (error) => logger.warn(error.message),
    // Said once per change: a refused back-end leaves discovery slower, never blind.
    onDegraded: (failures) => {
      if (failures.length === 0)
        logger.info(`discovery whole again: every back-end watches ${paths.instances}`);
      else
        logger.warn(
          `discovery degraded: ${failures.map((f) => `${f.backend} cannot watch ${paths.instances}: ${f.reason}`).join('; ')}; instances are still found, at worst by a listing of the folder every second`,
        );
    },
  });
  followRecords(watcher, manager, (event) =>
    logger.warn(`ignoring ${event.file}: ${event.reason}: ${event.message}`),
  );
  watcher.ready.then(
    () => logger.info(`watching ${paths.instances}`),
    (error: Error) => logger.error(`cannot watch ${paths.instances}: ${error.message}`),
  );

  const launcher = createLauncher({
    paths,
    manager,
    ...(options.instanceBin === undefined ? {} : { instanceBin: options.instanceBin }),
    ...(options.startTimeoutMs === undefined ? {} : { timeoutMs: options.startTimeoutMs }),
  });
  const remotes = createRemotes({
    specs: options.remotes ?? [],
    manager,
    clientInfo: { name: 'beacon-hub', version: VERSION },
    log: (message) => logger.warn(message),
    ...options.remoteTiming,
  });
  // Each remote's state change is logged once (its retries are not).
  const remoteStates = new Map<string, string>();
  remotes.onChange(() => {
    for (const r of remotes.list()) {
      const said = `${r.state} ${r.reason ?? ''}`;
      if (remoteStates.get(r.name) === said || r.state === 'connecting') continue;
      remoteStates.set(r.name, said);
      if (r.state === 'connected')
        logger.info(`remote ${r.name} connected (${r.hub?.version ?? '?'})`);
      else logger.warn(`remote ${r.name} ${r.state}: ${r.reason ?? ''}`);
    }
  });
  // A client that opens with 2025's `initialize` may be another hub using this one as its
  // remote: its server answers the remote protocol, and the remotes start unless it is one.
  // A 2026-07-28 client is never a hub; the remotes start at once.
  const remoteEndpoints = new Set<{ close(): Promise<void> }>();
  const onServer = (server: Server, era: ProtocolEra) => {
    if (era === 'modern') {
      remotes.start();
      return;
    }
    const endpoint = serveRemoteProtocol({
      server,
      manager,
      launch: launcher.start,
      ready: hub.firstContact,
    });
    remoteEndpoints.add(endpoint);
    // Each session's server serves the remote protocol while that session lasts.
    const closed = server.onclose;
    server.onclose = () => {
      closed?.();
      remoteEndpoints.delete(endpoint);
      void endpoint.close();
    };
    const initialized = server.oninitialized;
    server.oninitialized = () => {
      initialized?.();
      if (server.getClientCapabilities()?.experimental?.[REMOTE_CAPABILITY] === undefined)
        remotes.start();
      else remotes.skip();
    };
  };
  const hub = createHubServer({
    onServer,
    manager,
    launchInstance: remotes.launcher(launcher.start),
    remotes: () => remotes.list().map(remoteSummary),
    startRoots: options.startRoots === true,
    serverInfo: { name: 'beacon-hub', version: VERSION },
    // The remotes start at the client's initialize; the first list waits for them too.
    startup: watcher.ready.then(() => remotes.whenFirstAttemptsDone()),
    ...(options.tools === undefined ? {} : { tools: options.tools }),
    ...(options.maxNameLength === undefined ? {} : { maxNameLength: options.maxNameLength }),
    ...(options.maxTools === undefined ? {} : { maxTools: options.maxTools }),
    ...(options.callTimeoutMs === undefined ? {} : { callTimeoutMs: options.callTimeoutMs }),
    ...(options.firstListTimeoutMs === undefined
      ? {}
      : { firstListTimeoutMs: options.firstListTimeoutMs }),
    log: (message) => logger.warn(message),
  });
  if (options.transport)
    await hub.connect(
      options.transport,
      options.workingFolder === undefined ? {} : { workingFolder: options.workingFolder },
    );

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      transitions.close();
      await Promise.all([...remoteEndpoints].map((endpoint) => endpoint.close()));
      await remotes.close();
      await launcher.close();
      await watcher.close();
      await manager.close();
      await hub.close();
    })();
    return closing;
  };
  return { manager, server: hub, watcher, remotes, close, [Symbol.asyncDispose]: close };
}
