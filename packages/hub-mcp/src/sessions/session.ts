// One client session of the hub: a client's connection (stdio, or a bridge's socket) with its
// own SDK server, roots, working folder, list notifications, subscriptions, log level, pending
// input requests, progress and cancellations. The hub's instances, views and connections are
// shared by every session; nothing one session is sent comes from another's requests.

import type { ConnectionManager } from '@mcp-beacon/connection-manager';
import type { Clock } from '@mcp-beacon/runtime';
import { Server, type Tool, type Transport } from '@modelcontextprotocol/server';
import { type StdioServerHandle, serveStdio } from '@modelcontextprotocol/server/stdio';
import type { HubContext, SessionState } from '../_context.js';
import { isRecord } from '../_values.js';
import { withFastToolCalls } from '../calls/fast-calls.js';
import type { Forwarder } from '../calls/forward.js';
import { InputRelay } from '../calls/input-relay.js';
import type { CacheHints } from '../catalog/cache-hints.js';
import { createListNotifier } from '../catalog/list-changed.js';
import type { HubView } from '../catalog/view.js';
import type { HubToolContext } from '../handlers/hub-tools.js';
import { registerPromptHandlers } from '../handlers/prompts.js';
import { changeSubscription, registerResourceHandlers } from '../handlers/resources.js';
import { callInstanceTool, registerToolHandlers, routeToolCall } from '../handlers/tools.js';
import { createClientRoots } from '../routing/client-roots.js';
import type { FolderResolver } from '../routing/folders.js';
import { createRootStarter, type RootStarter } from '../routing/root-starter.js';
import { ENVELOPE, type ProtocolEra, runInstanceCall } from './era.js';
import { type HubGate, sessionGate } from './first-contact.js';
import { createClientPeer } from './peer.js';
import { watchListens } from './resource-listen.js';
import { type CallCounter, scopedForwarder } from './scope.js';
import type { SubscriptionBook } from './subscriptions.js';
import { wrapTransport } from './wrap.js';

/** What a session is, as `beacon-hub status` shows it. */
export interface HubSessionInfo {
  /** Numbered from 1 in the order sessions connected. */
  id: number;
  /** The protocol era the client opened with; undefined before its first message. */
  era: ProtocolEra | undefined;
  /** The client's name and version as it sent them (cleaned of nothing: shown as data). */
  client: { name: string; version: string } | undefined;
  workingFolder: string | undefined;
  /** When the session connected (ISO 8601). */
  since: string;
  /** A label its host gave it (the bridge's pid, for instance). */
  label: string | undefined;
}

/** Per-session settings: what one client asked for on its own command line. */
export interface HubSessionOptions {
  /** The folder the client works in; a call without `instance` prefers the project holding it. */
  workingFolder?: string;
  /** How instance tools are listed to this client (default: the hub's). */
  tools?: 'grouped' | 'namespaced';
  /** Longest tool or prompt name listed to this client (default: the hub's). */
  maxNameLength?: number;
  /** Most tools listed to this client (default: the hub's). */
  maxTools?: number;
  /** Start an instance in each of this client's roots that holds a package.json and has none. */
  startRoots?: boolean;
  /** Where warnings concerning this session go (default: the hub's log). */
  log?: (message: string) => void;
  /** Shown by {@link HubSessionInfo.label}. */
  label?: string;
}

/** A session as the hub and the instances' handlers see it. */
export interface ClientSession extends CallCounter {
  readonly id: number;
  readonly ctx: HubContext;
  /** False once the client's connection has closed. */
  readonly open: boolean;
  /** When (clock ms) this session last sent a request to `instance`. */
  lastCalled(instance: string): number | undefined;
  /** How many of this session's requests to `instance` are running now. */
  running(instance: string): number;
  info(): HubSessionInfo;
  /** Resolves once the session has ended (its client went away, or {@link close}). */
  readonly ended: Promise<void>;
  close(): Promise<void>;
}

/** What sessions share: the hub's instances, views and connections. */
export interface HubShared {
  manager: ConnectionManager;
  clock: Clock;
  log: (message: string) => void;
  serverInfo: { name: string; version: string };
  instructions: string;
  hubTools: readonly Tool[];
  /** What the hub tools reach beyond the session (the launcher, the remotes). */
  reach: Pick<HubToolContext, 'launchInstance' | 'remotes'>;
  folders: FolderResolver;
  forwarder: Forwarder;
  gate: HubGate;
  hints: CacheHints;
  book: SubscriptionBook<ClientSession>;
  /** The view for a session's listing settings (shared by sessions with equal ones). */
  viewFor(settings: Pick<HubSessionOptions, 'tools' | 'maxNameLength' | 'maxTools'>): HubView;
  /** Names of the hub's remotes now. */
  remoteNames(): ReadonlySet<string>;
  debounceMs: number;
  maxListChangedWaitMs: number | undefined;
  firstListTimeoutMs: number;
  /** A session set its log level: the instances' level follows the least severe. */
  levelSet(session: ClientSession, level: Parameters<SessionState['levelSet']>[0]): Promise<void>;
  /** The roots of a session changed: instances are told. */
  rootsChanged(): Promise<void>;
  /** Called with each SDK server a session builds, before it serves. */
  onServer: ((server: Server, era: ProtocolEra) => void) | undefined;
  /** The session ended: its subscriptions and level are released. */
  ended(session: ClientSession): void;
}

const CAPABILITIES = {
  tools: { listChanged: true },
  resources: { listChanged: true, subscribe: true },
  prompts: { listChanged: true },
  completions: {},
  logging: {},
} as const;

/** The client's name and version in an `initialize` or a 2026-07-28 request's envelope. */
function clientInfoIn(message: unknown): { name: string; version: string } | undefined {
  if (!isRecord(message) || !isRecord(message.params)) return undefined;
  const { params } = message;
  const meta = isRecord(params._meta) ? params._meta[ENVELOPE.clientInfo] : undefined;
  const info = message.method === 'initialize' ? params.clientInfo : meta;
  if (!isRecord(info) || typeof info.name !== 'string') return undefined;
  return {
    name: info.name.slice(0, 200),
    version: typeof info.version === 'string' ? info.version.slice(0, 100) : '',
  };
}

/**
 * Serves one client on `transport` as its own session of the hub: its own SDK server, of the
 * era its first message chose, over the hub's shared instances. Instance tool calls take the
 * fast path once first contact has passed.
 */
export function openSession(
  hub: HubShared,
  id: number,
  transport: Transport,
  options: HubSessionOptions,
): ClientSession {
  const { manager, clock } = hub;
  const log = options.log ?? hub.log;
  const peer = createClientPeer();
  const view = hub.viewFor(options);
  const since = new Date(clock.now()).toISOString();
  let client: { name: string; version: string } | undefined;
  let open = true;
  const calls = new Map<string, { running: number; last: number }>();

  let endSession!: () => void;
  const ended = new Promise<void>((resolve) => {
    endSession = resolve;
  });

  const state: SessionState = {
    subscribed: (instance, uri) => hub.book.add(session, instance, uri),
    unsubscribed: (instance, uri) => void hub.book.remove(session, instance, uri),
    heldByOthers: (instance, uri) => hub.book.heldByOthers(session, instance, uri),
    levelSet: (level) => void hub.levelSet(session, level),
  };
  const gate = sessionGate(hub.gate);
  const ctx: HubContext = {
    peer,
    manager,
    view,
    log,
    clock,
    forwarder: hub.forwarder,
    gate,
    notifier: createListNotifier({
      peer,
      view,
      clock,
      debounceMs: hub.debounceMs,
      ...(hub.maxListChangedWaitMs === undefined ? {} : { maxWaitMs: hub.maxListChangedWaitMs }),
      log,
    }),
    roots: createClientRoots(peer, hub.folders, log),
    session: state,
    workingFolder: options.workingFolder,
    folders: hub.folders,
    hints: hub.hints,
    relay: new InputRelay(clock),
    match: () => ({
      slugs: view.slugs.all(),
      folderKey: hub.folders.keyOf,
      remotes: hub.remoteNames,
    }),
  };
  // Its realpath is started now, so the first call without `instance` rarely waits for it.
  if (options.workingFolder !== undefined) void hub.folders.resolve(options.workingFolder);

  const session: ClientSession = {
    id,
    ctx,
    get open() {
      return open;
    },
    calling(instance, delta) {
      const entry = calls.get(instance) ?? { running: 0, last: 0 };
      entry.running += delta;
      entry.last = clock.now();
      calls.set(instance, entry);
    },
    lastCalled: (instance) => calls.get(instance)?.last,
    running: (instance) => calls.get(instance)?.running ?? 0,
    info: () => ({
      id,
      era: peer.era,
      client: client ?? clientOfServer(),
      workingFolder: options.workingFolder,
      since,
      label: options.label,
    }),
    ended,
    close: () => close(),
  };
  // Every request this session sends an instance runs in its scope: what the instance asks
  // during it comes back here.
  ctx.forwarder = scopedForwarder(hub.forwarder, session);
  const clientOfServer = () => {
    const version = peer.era === 'legacy' ? peer.server?.getClientVersion() : undefined;
    return version ? { name: version.name, version: version.version } : undefined;
  };

  const hubContext: HubToolContext = {
    manager,
    view,
    callTool: (instance, name, args, extra) => callInstanceTool(ctx, instance, name, args, extra),
    match: ctx.match,
    resolveFolder: hub.folders.resolve,
    ...hub.reach,
  };
  const starter: RootStarter | undefined =
    options.startRoots && hub.reach.launchInstance
      ? createRootStarter(ctx.roots, hub.reach.launchInstance, log)
      : undefined;

  /** One SDK server for the client's connection, of the era it opened with. */
  const build = (era: ProtocolEra): Server => {
    const server = new Server(hub.serverInfo, {
      capabilities: CAPABILITIES,
      instructions: hub.instructions,
    });
    registerToolHandlers(server, ctx, hub.hubTools, hubContext);
    registerResourceHandlers(server, ctx);
    registerPromptHandlers(server, ctx);
    server.setRequestHandler('logging/setLevel', async (request) => {
      state.levelSet(request.params.level);
      return {};
    });
    server.oninitialized = () => {
      if (!server.getClientCapabilities()?.roots) {
        if (starter) log('--start-roots: the client does not report roots; nothing to start');
        return;
      }
      if (starter) gate.include(starter.firstPass(clock, hub.firstListTimeoutMs));
      else void ctx.roots.folders();
    };
    server.setNotificationHandler('notifications/roots/list_changed', async () => {
      ctx.roots.invalidate();
      if (starter) void starter.sync();
      await hub.rootsChanged();
    });
    hub.onServer?.(server, era);
    peer.serve(server, era);
    return server;
  };

  /** The request context of what the hub does on the session's account: never cancelled. */
  const detached = {
    signal: new AbortController().signal,
    sendNotification: async () => undefined,
  };
  const fast = withFastToolCalls(transport, {
    route: (name, args, era) =>
      gate.isPassed() && open && era === peer.era ? routeToolCall(ctx, name, args) : undefined,
    call: (call, signal, era) =>
      runInstanceCall(
        era,
        ctx.relay,
        call.id,
        (callSignal) =>
          callInstanceTool(ctx, call.id, call.name, call.args, {
            signal: callSignal,
            sendNotification: async () => undefined,
          }),
        signal,
      ),
    serverInfo: hub.serverInfo,
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
  const observed = wrapTransport(watched, {
    receive(message, extra, deliver) {
      client ??= clientInfoIn(message);
      deliver(message, extra);
    },
    closed: () => void finish(),
  });

  let finishing: Promise<void> | undefined;
  /** Ends the session's own parts; the connection is closed already or by {@link close}. */
  const finish = () => {
    finishing ??= (async () => {
      open = false;
      ctx.notifier.close();
      ctx.relay.close();
      gate.close();
      starter?.close();
      hub.ended(session);
      endSession();
    })();
    return finishing;
  };
  let handle: StdioServerHandle | undefined;
  const close = async () => {
    await handle?.close();
    await finish();
  };
  handle = serveStdio(({ era }) => build(era), {
    transport: observed,
    onerror: (error) => log(`MCP connection: ${error.message}`),
  });
  return session;
}
