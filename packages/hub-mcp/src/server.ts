import type { ConnectionInfo, ConnectionManager } from '@mcp-beacon/connection-manager';
import { type Clock, systemClock } from '@mcp-beacon/registry';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { Protocol } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  CallToolRequestSchema,
  type ClientCapabilities,
  CompleteRequestSchema,
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ErrorCode,
  GetPromptRequestSchema,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListRootsRequestSchema,
  ListToolsRequestSchema,
  LoggingMessageNotificationSchema,
  McpError,
  ReadResourceRequestSchema,
  type ReadResourceResult,
  ResourceUpdatedNotificationSchema,
  RootsListChangedNotificationSchema,
  SetLevelRequestSchema,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { attributeElicitation, attributeSampling } from './_attribution.js';
import { installFastToolCalls } from './_fast-calls.js';
import { createForwarder, upstreamError, wireError } from './_forward.js';
import { HUB_TOOLS, type HubToolContext, handleHubTool, type StartInstance } from './_hub-tools.js';
import { parseProxiedUri, proxiedUri } from './_names.js';
import { createRootStarter } from './_roots.js';
import { createView, type ViewSignature } from './_view.js';

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
  /** Bursts of instance changes within this many ms yield one list_changed (default 50). */
  debounceMs?: number;
  /**
   * Resolves once the records present at start-up have been handed to the manager (the
   * watcher's `ready`). The first tools/resources/prompts list waits for it and for each of
   * those connections to settle, at most {@link firstListTimeoutMs}.
   */
  startup?: PromiseLike<unknown>;
  /** Bound on the first list's wait, in ms from creation (default 2 000; 0 = no wait). */
  firstListTimeoutMs?: number;
  /** Diagnostics (default: none). Never stdout. */
  log?: (message: string) => void;
  /** Timers of the debounce and the first-list bound (default: the real clock). */
  clock?: Clock;
  /** Starts beacon-instance in a folder; offers the `instances_start` tool when given. */
  startInstance?: StartInstance;
  /**
   * With {@link startInstance}: once the client is initialized, and on each
   * `roots/list_changed`, start an instance in every root that holds a package.json and has
   * none. The first list also waits for that first pass (same bound as the start-up wait).
   */
  startRoots?: boolean;
}

/** The hub's MCP server. */
export interface HubServer {
  readonly server: Server;
  /**
   * Connects the server to its client's transport, with the fast path for instance tool
   * calls (use this rather than `server.connect`).
   */
  connect(transport: Transport): Promise<void>;
  /** Resolves once the first list would be answered (start-up settled, or the bound passed). */
  readonly firstContact: Promise<void>;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Creates the hub's MCP server (the SDK's low-level `Server`, so instance JSON Schemas pass
 * through untouched): `instances_*` tools, plus every active instance's tools and prompts as
 * `<slug>__<name>` and resources as `beacon://<slug>/<uri>`. Calls, progress, cancellation,
 * completions, subscriptions, logging and server->client requests are forwarded both ways;
 * it installs its handlers on each instance client through `manager.onClient`.
 */
export function createHubServer(options: HubServerOptions): HubServer {
  const { manager } = options;
  const log = options.log ?? (() => undefined);
  const forwarder = createForwarder(manager, options.callTimeoutMs ?? 60_000);
  const server = new Server(options.serverInfo ?? { name: 'beacon-hub', version: '0.0.0' }, {
    capabilities: {
      tools: { listChanged: true },
      resources: { listChanged: true, subscribe: true },
      prompts: { listChanged: true },
      completions: {},
      logging: {},
    },
    instructions:
      'Beacon hub: every running project that announces itself appears here. Call instances_list to see them; their tools are named <instance>__<tool>.',
  });

  const hubTools = options.startInstance
    ? HUB_TOOLS
    : HUB_TOOLS.filter((t) => t.name !== 'instances_start');
  const view = createView(hubTools);
  for (const connection of manager.list()) view.update(connection);
  const clock = options.clock ?? systemClock;
  let debounce: unknown;
  let closed = false;

  // What the client has been shown, by a list or by a notification: list_changed is sent
  // whenever the current lists differ from it, so a burst that ends where it began sends
  // nothing, but a change the client already listed is never silently undone.
  const shown: ViewSignature = { ...view.signature() };
  const notify = (send: () => Promise<void>) => {
    if (server.transport === undefined) return;
    send().catch((error: Error) => log(`cannot send list_changed: ${error.message}`));
  };
  const flush = () => {
    debounce = undefined;
    const now = view.signature();
    if (now.tools !== shown.tools) {
      shown.tools = now.tools;
      notify(() => server.sendToolListChanged());
    }
    if (now.resources !== shown.resources) {
      shown.resources = now.resources;
      notify(() => server.sendResourceListChanged());
    }
    if (now.prompts !== shown.prompts) {
      shown.prompts = now.prompts;
      notify(() => server.sendPromptListChanged());
    }
  };
  const changed = (info: ConnectionInfo) => {
    if (closed) return;
    // Routing sees the change at once; lists are assembled when asked for or at the flush.
    if (info.state === 'removed') view.remove(info.id);
    else view.update(info);
    if (debounce !== undefined) clock.clearTimeout(debounce);
    debounce = clock.setTimeout(flush, options.debounceMs ?? 50);
  };
  const offTransition = manager.onTransition((event) => changed(event.info));
  const offCatalog = manager.onCatalog(changed);

  // First contact: many clients list once, right after initialize, and never again.
  let firstTimer: unknown;
  let firstDone = false;
  const firstContact = Promise.race([
    Promise.resolve(options.startup)
      .then(() => manager.whenSettled())
      .catch(() => undefined),
    new Promise<void>((resolve) => {
      firstTimer = clock.setTimeout(resolve, options.firstListTimeoutMs ?? 2_000);
    }),
  ]).then(() => {
    firstDone = true;
    if (firstTimer !== undefined) clock.clearTimeout(firstTimer);
  });
  // With --start-roots, the first list also waits (bounded) for the first pass over roots.
  let rootsFirst: Promise<void> | undefined;
  const settled = async () => {
    if (!firstDone) await firstContact;
    if (rootsFirst) await rootsFirst;
  };
  const lists = async () => {
    await settled();
    return view.lists();
  };
  /**
   * A route by name: one not known yet is looked up again after first contact, for a client
   * that names a tool, resource or prompt it remembers before it lists anything.
   */
  const known = async <T>(lookup: () => T | undefined): Promise<T | undefined> => {
    const found = lookup();
    if (found !== undefined || firstDone) return found;
    await settled();
    return lookup();
  };

  const hubContext: HubToolContext = {
    manager,
    slugs: () => view.slugs.all(),
    callTool: forwarder.callTool,
    ...(options.startInstance ? { startInstance: options.startInstance } : {}),
  };

  const roots =
    options.startRoots && options.startInstance
      ? createRootStarter(server, options.startInstance, log)
      : undefined;
  if (roots) {
    server.oninitialized = () => {
      if (!server.getClientCapabilities()?.roots) {
        log('--start-roots: the client does not report roots; nothing to start');
        return;
      }
      const first = roots.firstPass(clock, options.firstListTimeoutMs ?? 2_000).then(() => {
        if (rootsFirst === first) rootsFirst = undefined;
      });
      rootsFirst = first;
    };
  }

  server.setRequestHandler(ListToolsRequestSchema, async () => {
    const { tools } = await lists();
    shown.tools = view.signature().tools;
    return { tools };
  });

  // Registered on Protocol directly: the low-level Server would parse every result against
  // CallToolResultSchema again, though the instance's SDK built it and the client checks it.
  Protocol.prototype.setRequestHandler.call(
    server,
    CallToolRequestSchema,
    async (request, extra) => {
      const { name, arguments: args } = request.params;
      if (hubTools.some((t) => t.name === name)) {
        // A client may call instances_list first thing: it sees what a first list would.
        await settled();
        return handleHubTool(hubContext, name, args ?? {}, extra);
      }
      const route = await known(() => view.toolRoute(name));
      if (!route)
        throw wireError(
          ErrorCode.InvalidParams,
          `Unknown tool: ${name}. Call instances_list to see what is connected.`,
        );
      return forwarder.callTool(route.id, route.name, args, extra);
    },
  );

  const routeUri = async (uri: string): Promise<{ id: string; slug: string; uri: string }> => {
    const parsed = parseProxiedUri(uri);
    const id = parsed && (await known(() => view.slugs.idOf(parsed.slug)));
    if (!parsed || !id) throw wireError(ErrorCode.InvalidParams, `Unknown resource: ${uri}`);
    return { id, slug: parsed.slug, uri: parsed.uri };
  };

  server.setRequestHandler(ListResourcesRequestSchema, async () => {
    const { resources } = await lists();
    shown.resources = view.signature().resources;
    return { resources };
  });
  server.setRequestHandler(ListResourceTemplatesRequestSchema, async () => {
    const { resourceTemplates } = await lists();
    shown.resources = view.signature().resources;
    return { resourceTemplates };
  });
  server.setRequestHandler(ReadResourceRequestSchema, async (request, extra) => {
    const { id, slug, uri } = await routeUri(request.params.uri);
    const result = (await forwarder.request(
      id,
      'resources/read',
      { ...request.params, uri },
      extra,
    )) as ReadResourceResult;
    return {
      ...result,
      contents: (result.contents ?? []).map((c) => ({ ...c, uri: proxiedUri(slug, c.uri) })),
    };
  });

  const subscription = (method: 'resources/subscribe' | 'resources/unsubscribe') =>
    server.setRequestHandler(
      method === 'resources/subscribe' ? SubscribeRequestSchema : UnsubscribeRequestSchema,
      async (request, extra) => {
        const { id, uri } = await routeUri(request.params.uri);
        const info = manager.get(id);
        if (info?.state === 'active' && !info.capabilities?.resources?.subscribe)
          throw wireError(
            ErrorCode.InvalidRequest,
            `instance ${info.record.name} does not support resource subscriptions (its server does not declare resources.subscribe)`,
          );
        return forwarder.request(id, method, { ...request.params, uri }, extra);
      },
    );
  subscription('resources/subscribe');
  subscription('resources/unsubscribe');

  server.setRequestHandler(ListPromptsRequestSchema, async () => {
    const { prompts } = await lists();
    shown.prompts = view.signature().prompts;
    return { prompts };
  });
  const routePrompt = async (name: string) => {
    const route = await known(() => view.promptRoute(name));
    if (!route) throw wireError(ErrorCode.InvalidParams, `Unknown prompt: ${name}`);
    return route;
  };
  server.setRequestHandler(GetPromptRequestSchema, async (request, extra) => {
    const route = await routePrompt(request.params.name);
    return forwarder.request(
      route.id,
      'prompts/get',
      { ...request.params, name: route.name },
      extra,
    ) as never;
  });

  server.setRequestHandler(CompleteRequestSchema, async (request, extra) => {
    const { ref } = request.params;
    let target: { id: string; ref: typeof ref };
    if (ref.type === 'ref/prompt') {
      const route = await routePrompt(ref.name);
      target = { id: route.id, ref: { ...ref, name: route.name } };
    } else {
      const { id, uri } = await routeUri(ref.uri);
      target = { id, ref: { ...ref, uri } };
    }
    // An instance without completions has nothing to suggest; that is not an error.
    const info = manager.get(target.id);
    if (info?.state === 'active' && !info.capabilities?.completions)
      return { completion: { values: [], hasMore: false } };
    return forwarder.request(
      target.id,
      'completion/complete',
      { ...request.params, ref: target.ref },
      extra,
    ) as never;
  });

  const active = () => manager.list().filter((c) => c.state === 'active');
  server.setRequestHandler(SetLevelRequestSchema, async (request) => {
    await Promise.allSettled(
      active().map((c) =>
        c.capabilities?.logging
          ? manager.client(c.id).setLoggingLevel(request.params.level)
          : undefined,
      ),
    );
    return {};
  });

  server.setNotificationHandler(RootsListChangedNotificationSchema, async () => {
    if (roots) void roots.sync();
    await Promise.allSettled(active().map((c) => manager.client(c.id).sendRootsListChanged()));
  });

  const upstreamCan = (capability: keyof ClientCapabilities): boolean =>
    server.getClientCapabilities()?.[capability] !== undefined;
  const unsupported = (what: string) =>
    wireError(
      ErrorCode.InvalidRequest,
      `the MCP client connected to the Beacon hub does not support ${what}`,
    );
  /** The client's own errors go back to the instance as the client sent them. */
  const asUpstream = (error: unknown): never => {
    throw error instanceof McpError ? upstreamError(error) : error;
  };

  const configureClient = (client: Client, info: ConnectionInfo) => {
    const slug = () => view.slugs.slugOf(info.id) ?? info.record.name;
    client.setNotificationHandler(LoggingMessageNotificationSchema, async (notification) => {
      const { logger, ...rest } = notification.params;
      if (server.transport === undefined) return;
      await server
        .sendLoggingMessage({ ...rest, logger: logger ? `${slug()}/${logger}` : slug() })
        .catch(() => undefined);
    });
    client.setNotificationHandler(ResourceUpdatedNotificationSchema, async (notification) => {
      if (server.transport === undefined) return;
      await server
        .sendResourceUpdated({
          ...notification.params,
          uri: proxiedUri(slug(), notification.params.uri),
        })
        .catch(() => undefined);
    });
    client.setRequestHandler(CreateMessageRequestSchema, async (request, extra) => {
      if (!upstreamCan('sampling')) throw unsupported('sampling');
      return server
        .createMessage(attributeSampling(request.params, slug()), { signal: extra.signal })
        .catch(asUpstream);
    });
    client.setRequestHandler(ElicitRequestSchema, async (request, extra) => {
      if (!upstreamCan('elicitation')) throw unsupported('elicitation');
      return server
        .elicitInput(attributeElicitation(request.params, slug()), { signal: extra.signal })
        .catch(asUpstream);
    });
    client.setRequestHandler(ListRootsRequestSchema, async (_request, extra) => {
      if (!upstreamCan('roots')) throw unsupported('roots');
      return server.listRoots(undefined, { signal: extra.signal }).catch(asUpstream);
    });
  };
  const offClient = manager.onClient(configureClient);

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      closed = true;
      if (debounce !== undefined) clock.clearTimeout(debounce);
      if (firstTimer !== undefined) clock.clearTimeout(firstTimer);
      roots?.close();
      offTransition();
      offCatalog();
      offClient();
      await server.close();
    })();
    return closing;
  };

  const connect = async (transport: Transport) => {
    await server.connect(transport);
    installFastToolCalls(transport, {
      route: (name) => (firstDone && !closed ? view.toolRoute(name) : undefined),
      callDirect: (route, args, handle) =>
        forwarder.callToolDirect(route.id, route.name, args, handle),
      call: (route, args, signal) =>
        forwarder.callTool(route.id, route.name, args, {
          signal,
          sendNotification: async () => undefined,
        }),
      log,
    });
  };

  return { server, connect, firstContact, close, [Symbol.asyncDispose]: close };
}
