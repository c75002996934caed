import {
  type ConnectionInfo,
  type ConnectionManager,
  isLocal,
  remoteOf,
} from '@mcp-beacon/connection-manager';
import { type Clock, systemClock } from '@mcp-beacon/runtime';
import type {
  ClientCapabilities,
  LoggingLevel,
  Server,
  Transport,
} from '@modelcontextprotocol/server';
import { createForwarder } from './calls/forward.js';
import { createCacheHints } from './catalog/cache-hints.js';
import { DEFAULT_MAX_NAME_LENGTH, MIN_NAME_LENGTH, proxiedUri } from './catalog/names.js';
import type { HubView } from './catalog/view.js';
import { createView } from './catalog/view.js';
import { HubError } from './errors.js';
import { HUB_TOOLS, type LaunchInstance, type RemoteSummary } from './handlers/hub-tools.js';
import { createFolderResolver, type FolderResolverOptions } from './routing/folders.js';
import type { ProtocolEra } from './sessions/era.js';
import { createFirstContact } from './sessions/first-contact.js';
import { handleInstanceRequests } from './sessions/instance-requests.js';
import {
  type ClientSession,
  type HubSessionInfo,
  type HubSessionOptions,
  type HubShared,
  openSession,
} from './sessions/session.js';
import { createSubscriptionBook } from './sessions/subscriptions.js';
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
   * With {@link launchInstance}: once a client is initialized, and on each
   * `roots/list_changed`, start an instance in every root that holds a package.json and has
   * none. That client's first list also waits for that first pass (same bound as the start-up
   * wait). A default for every session; {@link HubSessionOptions.startRoots} sets it per session.
   */
  startRoots?: boolean;
  /**
   * The folder clients work in, for a call without `instance` (a standalone hub's own working
   * folder); a default for every session, {@link HubSessionOptions.workingFolder} sets it per
   * session.
   */
  workingFolder?: string;
  /** The hub's remotes now, shown by `instances_list` (see `beacon-hub remote`). */
  remotes?: () => readonly RemoteSummary[];
  /**
   * Called with each SDK server built for a client's connection, before it serves: one per
   * connection, of the era the client opened with (a `server/discover` probe followed by
   * `initialize` builds a modern one, then a legacy one). For handlers of the host's own.
   */
  onServer?: (server: Server, era: ProtocolEra) => void;
}

/** The hub's MCP server: any number of client sessions over one set of instance connections. */
export interface HubServer {
  /** The SDK server of the newest session; undefined before its client's first message. */
  readonly server: Server | undefined;
  /**
   * Serves a client on its transport (stdio, a bridge's socket, or any transport of JSON-RPC
   * messages) as a session of its own: a client that opens with `initialize` gets MCP
   * 2025-11-25 and earlier, one that opens with `server/discover` or a 2026-07-28 request gets
   * 2026-07-28. Instance tool calls take the fast path. The session ends when the transport
   * closes.
   * @throws {HubError} `BAD_OPTION` for a session option out of range, `TOO_MANY_SESSIONS`
   *   beyond {@link MAX_SESSIONS}, `CLOSED` after {@link close}.
   */
  connect(transport: Transport, session?: HubSessionOptions): Promise<HubSession>;
  /** The sessions being served now, oldest first. */
  sessions(): HubSessionInfo[];
  /** Called when a session ends (its client went away), with the sessions left. */
  onSessionEnd(listener: (left: number) => void): () => void;
  /** Resolves once the first list would be answered (start-up settled, or the bound passed). */
  readonly firstContact: Promise<void>;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** One client's session, as {@link HubServer.connect} returns it. */
export interface HubSession {
  info(): HubSessionInfo;
  /** Resolves when the session ends. */
  readonly ended: Promise<void>;
  /** Ends the session and closes its transport. */
  close(): Promise<void>;
}

/** Most client sessions one hub serves at once. */
export const MAX_SESSIONS = 64;

/** How long the hub waits for an instance to take its own requests (log level, subscriptions). */
const OWN_REQUEST_TIMEOUT_MS = 60_000;

const INSTRUCTIONS =
  'Beacon hub: every running project that announces itself appears here (instances_list). ' +
  'Project tools are listed once, with an `instance` argument naming the project (name, id or folder). ' +
  'Without it, the call goes to the project holding your workspace root, else the one holding the folder your client was started in, else the only project offering the tool; otherwise the answer lists the candidates. ' +
  'Every result says which project answered. instances_tools finds tools that are not listed; instances_call calls any of them.';

function checkOptions(
  options: Pick<HubServerOptions, 'maxNameLength' | 'maxTools'>,
  hubToolCount: number,
): void {
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
  const folders = createFolderResolver(options.folders);

  // One view per listing setting in use; sessions with equal settings share theirs.
  const views = new Map<string, HubView>();
  const viewFor = (settings: Pick<HubSessionOptions, 'tools' | 'maxNameLength' | 'maxTools'>) => {
    const surface = settings.tools ?? options.tools ?? 'grouped';
    const maxNameLength =
      settings.maxNameLength ?? options.maxNameLength ?? DEFAULT_MAX_NAME_LENGTH;
    const maxTools = settings.maxTools ?? options.maxTools;
    const key = `${surface}/${maxNameLength}/${maxTools ?? ''}`;
    let view = views.get(key);
    if (!view) {
      view = createView({
        hubTools,
        surface,
        maxNameLength,
        ...(maxTools === undefined ? {} : { maxTools }),
      });
      for (const connection of manager.list()) view.update(connection);
      views.set(key, view);
    }
    return view;
  };
  viewFor({});
  const remoteNames = () => {
    const names = new Set((options.remotes?.() ?? []).map((r) => r.name));
    for (const c of manager.list()) {
      const remote = remoteOf(c.location);
      if (remote !== undefined) names.add(remote);
    }
    return names;
  };

  const sessions = new Map<number, ClientSession>();
  const endListeners = new Set<(left: number) => void>();
  const book = createSubscriptionBook<ClientSession>();
  const active = () => manager.list().filter((c) => c.state === 'active');
  /** One of the hub's own requests to an instance (a log level, a subscription). */
  const tell = (id: string, method: string, params: Record<string, unknown>) =>
    manager.call(id, { method, params }, { timeoutMs: OWN_REQUEST_TIMEOUT_MS });
  const applyLevel = async (level: LoggingLevel) => {
    await Promise.allSettled(
      active().map((c) =>
        c.capabilities?.logging ? tell(c.id, 'logging/setLevel', { level }) : undefined,
      ),
    );
  };
  const hub: HubShared = {
    manager,
    clock,
    log,
    serverInfo,
    instructions: INSTRUCTIONS,
    hubTools,
    reach: {
      ...(options.launchInstance ? { launchInstance: options.launchInstance } : {}),
      ...(options.remotes ? { remotes: options.remotes } : {}),
    },
    folders,
    forwarder: createForwarder(manager, options.callTimeoutMs ?? 60_000),
    gate: createFirstContact({
      manager,
      startup: options.startup,
      boundMs: options.firstListTimeoutMs ?? 2_000,
      clock,
    }),
    hints: createCacheHints(manager, clock),
    book,
    viewFor,
    remoteNames,
    debounceMs: options.debounceMs ?? 50,
    maxListChangedWaitMs: options.maxListChangedWaitMs,
    firstListTimeoutMs: options.firstListTimeoutMs ?? 2_000,
    async levelSet(session, level) {
      const changed = book.setLevel(session, level);
      if (changed !== undefined) await applyLevel(changed);
    },
    async rootsChanged() {
      await Promise.allSettled(active().map((c) => manager.client(c.id).sendRootsListChanged()));
    },
    onServer: options.onServer,
    ended(session) {
      if (!sessions.delete(session.id)) return;
      // What only this session followed ends on its instances.
      for (const { id, uri } of book.dropSession(session))
        void hub.forwarder
          .request(id, 'resources/unsubscribe', { uri }, detached)
          .catch(() => undefined);
      for (const listener of endListeners) listener(sessions.size);
    },
  };

  let closed = false;
  const changed = (info: ViewSource) => {
    if (closed) return;
    // Routing sees the change at once; lists are assembled when asked for or at the flush.
    // A transition that changes no list schedules nothing.
    const moved = new Set<HubView>();
    for (const view of views.values())
      if (info.state === 'removed' ? view.remove(info.id) : view.update(info)) moved.add(view);
    // A local folder's realpath is started now, so routing by roots rarely waits for it.
    if (info.state !== 'removed' && isLocal(info.location)) folders.keyOf(info.record.path);
    if (moved.size === 0) return;
    hub.hints.changed();
    for (const session of sessions.values())
      if (moved.has(session.ctx.view)) session.ctx.notifier.changed();
  };
  /**
   * A new session on an instance (first contact, reconnect, relink) knows nothing of the
   * sessions' subscriptions and log level until told again.
   */
  const restore = async (info: ConnectionInfo) => {
    const uris = book.urisOf(info.id);
    const level = book.instanceLevel();
    if (uris.length === 0 && level === undefined) return;
    // Gone again already: the next session restores.
    if (manager.get(info.id)?.state !== 'active') return;
    if (level !== undefined && info.capabilities?.logging)
      await tell(info.id, 'logging/setLevel', { level }).catch((error: Error) => {
        log(`${info.record.name}: log level not restored: ${error.message}`);
      });
    if (!info.capabilities?.resources?.subscribe) return;
    for (const uri of uris) {
      const ok = await tell(info.id, 'resources/subscribe', { uri }).then(
        () => true,
        (error: Error) => {
          log(`${info.record.name}: subscription to ${uri} not restored: ${error.message}`);
          return false;
        },
      );
      if (!ok) continue;
      // It may have changed meanwhile: each session that follows it is told.
      for (const session of book.holders(info.id, uri)) {
        const slug = session.ctx.view.slugs.slugOf(info.id) ?? info.record.name;
        if (session.ctx.peer.connected())
          await session.ctx.peer.server
            ?.sendResourceUpdated({ uri: proxiedUri(slug, uri) })
            .catch(() => undefined);
      }
    }
  };
  const offTransition = manager.onTransition((event) => {
    changed(event.info);
    if (closed) return;
    if (event.to === 'removed') book.forget(event.id);
    else if (event.to === 'active' && event.from !== 'active') void restore(event.info);
  });
  const offCatalog = manager.onCatalog(changed);
  const directory = { list: () => [...sessions.values()], book, clock };
  const offClient = manager.onClient((client, info) =>
    handleInstanceRequests(directory, client, info),
  );

  /** The request context of what the hub does on its own account: never cancelled, no progress. */
  const detached = {
    signal: new AbortController().signal,
    sendNotification: async () => undefined,
  };

  let next = 1;
  const connect = async (transport: Transport, settings: HubSessionOptions = {}) => {
    if (closed) throw new HubError('CLOSED', 'the hub server is closed');
    checkOptions(settings, hubTools.length);
    if (sessions.size >= MAX_SESSIONS)
      throw new HubError(
        'TOO_MANY_SESSIONS',
        `the hub serves at most ${MAX_SESSIONS} client sessions at once`,
      );
    const session = openSession(hub, next++, transport, {
      ...(options.startRoots ? { startRoots: true } : {}),
      ...(options.workingFolder === undefined ? {} : { workingFolder: options.workingFolder }),
      ...settings,
    });
    sessions.set(session.id, session);
    newest = session;
    return { info: session.info, ended: session.ended, close: session.close };
  };
  let newest: ClientSession | undefined;

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      closed = true;
      hub.gate.close();
      offTransition();
      offCatalog();
      offClient();
      await Promise.all([...sessions.values()].map((session) => session.close()));
    })();
    return closing;
  };

  return {
    get server() {
      return newest?.ctx.peer.server;
    },
    connect,
    sessions: () => [...sessions.values()].map((session) => session.info()),
    onSessionEnd(listener) {
      endListeners.add(listener);
      return () => endListeners.delete(listener);
    },
    firstContact: hub.gate.passed,
    close,
    [Symbol.asyncDispose]: close,
  };
}
