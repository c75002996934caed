import { type ConnectionManager, isLocal, remoteOf } from '@mcp-beacon/connection-manager';
import { type Clock, systemClock } from '@mcp-beacon/registry';
import type { ClientCapabilities } from '@modelcontextprotocol/server';
import { Server, type Transport } from '@modelcontextprotocol/server';
import { type StdioServerHandle, serveStdio } from '@modelcontextprotocol/server/stdio';
import { createCacheHints } from './_cache-hints.js';
import { createClientRoots } from './_client-roots.js';
import type { HubContext } from './_context.js';
import { withFastToolCalls } from './_fast-calls.js';
import { createFirstContact } from './_first-contact.js';
import { createFolderResolver, type FolderResolverOptions } from './_folders.js';
import { createForwarder } from './_forward.js';
import {
  HUB_TOOLS,
  type HubToolContext,
  type LaunchInstance,
  type RemoteSummary,
} from './_hub-tools.js';
import { InputRelay } from './_input-relay.js';
import { handleInstanceRequests } from './_instance-requests.js';
import { createListNotifier } from './_list-changed.js';
import { watchListens } from './_listen-watch.js';
import { DEFAULT_MAX_NAME_LENGTH, MIN_NAME_LENGTH } from './_names.js';
import { createClientPeer, type ProtocolEra } from './_peer.js';
import { registerPromptHandlers } from './_prompt-handlers.js';
import { changeSubscription, registerResourceHandlers } from './_resource-handlers.js';
import { createRootStarter } from './_roots.js';
import { createSessionState } from './_session-state.js';
import { callInstanceTool, registerToolHandlers, routeToolCall } from './_tool-handlers.js';
import { createView } from './_view.js';
import { HubError } from './errors.js';
import type { ToolSurface, ViewSource } from './types.js';

/** Capabilities the hub declares to instances, so their server->client requests reach it. */
export const HUB_CLIENT_CAPABILITIES: ClientCapabilities = {
  sampling: {},
  elicitation: {},
  roots: { listChanged: true },
};

/** Options of {@link createHubServer}. */
export interface HubServerOptions {
  manager: ConnectionManager;
  /** Server name and version reported to the MCP client. */
  serverInfo?: { name: string; version: string };
  /** Per-call timeout for proxied requests, in ms (default 60 000; progress resets it). */
  callTimeoutMs?: number;
  /**
   * Bursts of instance changes within this many ms yield one list_changed (default 50), sent at
   * most `maxListChangedWaitMs` (250) after the burst's first change however long it lasts.
   */
  debounceMs?: number;
  /** Longest a change waits for its list_changed, in ms (default 250). */
  maxListChangedWaitMs?: number;
  /** How local folders are resolved for comparisons (tests inject other platforms' rules). */
  folders?: FolderResolverOptions;
  /**
   * Resolves once the records present at start-up have been handed to the manager (the
   * watcher's `ready`). The first tools/resources/prompts list waits for it and for each of
   * those connections to settle, at most {@link firstListTimeoutMs}.
   */
  startup?: PromiseLike<unknown>;
  /** Bound on the first list's wait, in ms from creation (default 2 000; 0 = no wait). */
  firstListTimeoutMs?: number;
  /**
   * How instance tools are listed: `grouped` (default), each distinct definition once under its
   * own name with an `instance` argument; or `namespaced`, every instance's tools as
   * `<slug>__<tool>`.
   */
  tools?: ToolSurface;
  /** Longest tool or prompt name listed, at least 24 (default 48). */
  maxNameLength?: number;
  /** Most tools listed, the hub's own included (default: no cap); the rest stay callable. */
  maxTools?: number;
  /** Diagnostics (default: none). Never stdout. */
  log?: (message: string) => void;
  /** Timers of the debounce and the first-list bound (default: the real clock). */
  clock?: Clock;
  /** Starts beacon-instance in a folder; offers the `instances_start` tool when given. */
  launchInstance?: LaunchInstance;
  /**
   * With {@link launchInstance}: once the client is initialized, and on each
   * `roots/list_changed`, start an instance in every root that holds a package.json and has
   * none. The first list also waits for that first pass (same bound as the start-up wait).
   */
  startRoots?: boolean;
  /** The hub's remotes now, shown by `instances_list` (see `beacon-hub remote`). */
  remotes?: () => readonly RemoteSummary[];
  /**
   * Called with each SDK server built for the client's connection, before it serves: one per
   * connection, of the era the client opened with (a `server/discover` probe followed by
   * `initialize` builds a modern one, then a legacy one). For handlers of the host's own.
   */
  onServer?: (server: Server, era: ProtocolEra) => void;
}

/** The hub's MCP server. */
export interface HubServer {
  /** The SDK server serving the client now; undefined before the client's first message. */
  readonly server: Server | undefined;
  /**
   * Serves the client on its transport (stdio, or any transport of JSON-RPC messages): a
   * client that opens with `initialize` gets MCP 2025-11-25 and earlier, one that opens with
   * `server/discover` or a 2026-07-28 request gets 2026-07-28. Instance tool calls take the
   * fast path.
   */
  connect(transport: Transport): Promise<void>;
  /** Resolves once the first list would be answered (start-up settled, or the bound passed). */
  readonly firstContact: Promise<void>;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

const INSTRUCTIONS =
  'Beacon hub: every running project that announces itself appears here (instances_list). ' +
  "Instance tools are listed once with an `instance` argument naming the project; without it, the project holding the client's root is used. " +
  'instances_tools finds tools that are not listed; instances_call calls any of them.';

function checkOptions(options: HubServerOptions, hubToolCount: number): void {
  const { maxNameLength, maxTools } = options;
  if (
    maxNameLength !== undefined &&
    !(Number.isInteger(maxNameLength) && maxNameLength >= MIN_NAME_LENGTH)
  )
    throw new HubError(
      'BAD_OPTION',
      `maxNameLength must be an integer >= ${MIN_NAME_LENGTH}, got ${maxNameLength}`,
    );
  if (maxTools !== undefined && !(Number.isInteger(maxTools) && maxTools >= hubToolCount))
    throw new HubError(
      'BAD_OPTION',
      `maxTools must be an integer >= ${hubToolCount} (the hub's own tools), got ${maxTools}`,
    );
}

/**
 * Creates the hub's MCP server (the SDK's low-level `Server`, so instance JSON Schemas pass
 * through untouched): `instances_*` tools, every instance tool definition once (grouped) or per
 * instance (namespaced), prompts as `<slug>__<name>` and resources as `beacon://<slug>/<uri>`.
 * Calls, progress, cancellation, completions, subscriptions, logging and server->client
 * requests are forwarded both ways; it installs its handlers on each instance client through
 * `manager.onClient`.
 * @throws {HubError} `BAD_OPTION` for a `maxNameLength` or `maxTools` out of range.
 */
export function createHubServer(options: HubServerOptions): HubServer {
  const { manager } = options;
  const log = options.log ?? (() => undefined);
  const clock = options.clock ?? systemClock;
  const hubTools = options.launchInstance
    ? HUB_TOOLS
    : HUB_TOOLS.filter((t) => t.name !== 'instances_start');
  checkOptions(options, hubTools.length);
  const serverInfo = options.serverInfo ?? { name: 'beacon-hub', version: '0.0.0' };
  const peer = createClientPeer();
  const view = createView({
    hubTools,
    surface: options.tools ?? 'grouped',
    maxNameLength: options.maxNameLength ?? DEFAULT_MAX_NAME_LENGTH,
    ...(options.maxTools === undefined ? {} : { maxTools: options.maxTools }),
  });
  const folders = createFolderResolver(options.folders);
  for (const connection of manager.list()) view.update(connection);
  const remoteNames = () => {
    const names = new Set((options.remotes?.() ?? []).map((r) => r.name));
    for (const c of manager.list()) {
      const remote = remoteOf(c.location);
      if (remote !== undefined) names.add(remote);
    }
    return names;
  };
  const ctx: HubContext = {
    peer,
    manager,
    view,
    log,
    clock,
    forwarder: createForwarder(manager, options.callTimeoutMs ?? 60_000),
    gate: createFirstContact({
      manager,
      startup: options.startup,
      boundMs: options.firstListTimeoutMs ?? 2_000,
      clock,
    }),
    notifier: createListNotifier({
      peer,
      view,
      clock,
      debounceMs: options.debounceMs ?? 50,
      ...(options.maxListChangedWaitMs === undefined
        ? {}
        : { maxWaitMs: options.maxListChangedWaitMs }),
      log,
    }),
    roots: createClientRoots(peer, folders, log),
    session: createSessionState(peer, manager, log),
    folders,
    hints: createCacheHints(manager, clock),
    relay: new InputRelay(clock),
    match: () => ({
      slugs: view.slugs.all(),
      folderKey: folders.keyOf,
      remotes: remoteNames,
    }),
  };

  let closed = false;
  const changed = (info: ViewSource) => {
    if (closed) return;
    // Routing sees the change at once; lists are assembled when asked for or at the flush.
    // A transition that changes no list schedules nothing.
    const listsChanged = info.state === 'removed' ? view.remove(info.id) : view.update(info);
    // A local folder's realpath is started now, so routing by roots rarely waits for it.
    if (info.state !== 'removed' && isLocal(info.location)) folders.keyOf(info.record.path);
    if (!listsChanged) return;
    ctx.hints.changed();
    ctx.notifier.changed();
  };
  const offTransition = manager.onTransition((event) => {
    changed(event.info);
    if (closed) return;
    if (event.to === 'removed') ctx.session.forget(event.id);
    // A new session on the instance (first contact, reconnect, relink) knows nothing of the
    // client's subscriptions and log level until told again.
    else if (event.to === 'active' && event.from !== 'active')
      void ctx.session.restore(event.info, view.slugs.slugOf(event.id) ?? event.info.record.name);
  });
  const offCatalog = manager.onCatalog(changed);
  const offClient = manager.onClient((client, info) => handleInstanceRequests(ctx, client, info));

  const hubContext: HubToolContext = {
    manager,
    view,
    callTool: (id, name, args, extra) => callInstanceTool(ctx, id, name, args, extra),
    match: ctx.match,
    resolveFolder: folders.resolve,
    ...(options.launchInstance ? { launchInstance: options.launchInstance } : {}),
    ...(options.remotes ? { remotes: options.remotes } : {}),
  };
  const active = () => manager.list().filter((c) => c.state === 'active');
  const starter =
    options.startRoots && options.launchInstance
      ? createRootStarter(ctx.roots, options.launchInstance, log)
      : undefined;

  /** One SDK server for the client's connection, of the era it opened with. */
  const build = (era: ProtocolEra): Server => {
    const server = new Server(serverInfo, {
      capabilities: {
        tools: { listChanged: true },
        resources: { listChanged: true, subscribe: true },
        prompts: { listChanged: true },
        completions: {},
        logging: {},
      },
      instructions: INSTRUCTIONS,
    });
    registerToolHandlers(server, ctx, hubTools, hubContext);
    registerResourceHandlers(server, ctx);
    registerPromptHandlers(server, ctx);
    server.setRequestHandler('logging/setLevel', async (request) => {
      ctx.session.levelSet(request.params.level);
      await Promise.allSettled(
        active().map((c) =>
          c.capabilities?.logging
            ? manager.client(c.id).setLoggingLevel(request.params.level)
            : undefined,
        ),
      );
      return {};
    });
    server.oninitialized = () => {
      if (!server.getClientCapabilities()?.roots) {
        if (starter) log('--start-roots: the client does not report roots; nothing to start');
        return;
      }
      if (starter) ctx.gate.include(starter.firstPass(clock, options.firstListTimeoutMs ?? 2_000));
      else void ctx.roots.folders();
    };
    server.setNotificationHandler('notifications/roots/list_changed', async () => {
      ctx.roots.invalidate();
      if (starter) void starter.sync();
      await Promise.allSettled(active().map((c) => manager.client(c.id).sendRootsListChanged()));
    });
    options.onServer?.(server, era);
    peer.serve(server, era);
    return server;
  };

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      closed = true;
      ctx.notifier.close();
      ctx.relay.close();
      ctx.gate.close();
      starter?.close();
      offTransition();
      offCatalog();
      offClient();
      await handle?.close();
    })();
    return closing;
  };

  let handle: StdioServerHandle | undefined;
  /** The request context of what the hub does on its own account: never cancelled, no progress. */
  const detached = {
    signal: new AbortController().signal,
    sendNotification: async () => undefined,
  };
  const connect = async (transport: Transport) => {
    if (handle) throw new HubError('BAD_OPTION', 'the hub server is already connected');
    const fast = withFastToolCalls(transport, {
      route: (name, args, era) =>
        ctx.gate.isPassed() && !closed && era === peer.era
          ? routeToolCall(ctx, name, args)
          : undefined,
      call: (call, signal, modern) => {
        const start = (callSignal: AbortSignal) =>
          callInstanceTool(ctx, call.id, call.name, call.args, {
            signal: callSignal,
            sendNotification: async () => undefined,
          });
        return modern ? ctx.relay.run(call.id, start, signal, modern.capabilities) : start(signal);
      },
      serverInfo,
      log,
    });
    // A 2026-07-28 client follows resources with `subscriptions/listen`: while one does, the
    // resource is subscribed on its instance, as a 2025 client's resources/subscribe does.
    const follow = (method: 'resources/subscribe' | 'resources/unsubscribe') => (uri: string) =>
      void changeSubscription(ctx, method, { uri }, detached).catch((error: Error) =>
        log(`${method} ${uri} for a listen: ${error.message}`),
      );
    const watched = watchListens(fast, {
      follow: follow('resources/subscribe'),
      unfollow: follow('resources/unsubscribe'),
    });
    handle = serveStdio(({ era }) => build(era), {
      transport: watched,
      onerror: (error) => log(`MCP connection: ${error.message}`),
    });
  };

  return {
    get server() {
      return peer.server;
    },
    connect,
    firstContact: ctx.gate.passed,
    close,
    [Symbol.asyncDispose]: close,
  };
}
