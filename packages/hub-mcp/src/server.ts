import type { ConnectionInfo, ConnectionManager } from '@mcp-beacon/connection-manager';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { RequestOptions } from '@modelcontextprotocol/sdk/shared/protocol.js';
import {
  CallToolRequestSchema,
  type CallToolResult,
  CallToolResultSchema,
  type ClientCapabilities,
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  EmptyResultSchema,
  ErrorCode,
  GetPromptRequestSchema,
  GetPromptResultSchema,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListRootsRequestSchema,
  ListToolsRequestSchema,
  LoggingMessageNotificationSchema,
  McpError,
  type Progress,
  type Prompt,
  ReadResourceRequestSchema,
  ReadResourceResultSchema,
  type Resource,
  type ResourceTemplate,
  ResourceUpdatedNotificationSchema,
  RootsListChangedNotificationSchema,
  SetLevelRequestSchema,
  SubscribeRequestSchema,
  type Tool,
  UnsubscribeRequestSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { HUB_TOOLS, type HubToolContext, handleHubTool, type ToolExtra } from './hub-tools.js';
import { assignSlugs, parseProxiedUri, proxiedUri, qualifiedName } from './names.js';

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
  /** Diagnostics (default: none). Never stdout. */
  log?: (message: string) => void;
}

/** The hub's MCP server and the hook the connection manager calls for each new client. */
export interface HubServer {
  readonly server: Server;
  /** Pass as `configureClient` to the connection manager: forwards notifications and requests. */
  configureClient(client: Client, info: ConnectionInfo): void;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

interface Route {
  id: string;
  name: string;
}

/** Everything the hub exposes right now, recomputed when instances or their lists change. */
interface View {
  slugs: Map<string, string>; // id -> slug
  ids: Map<string, string>; // slug -> id
  tools: Tool[];
  resources: Resource[];
  resourceTemplates: ResourceTemplate[];
  prompts: Prompt[];
  toolRoutes: Map<string, Route>;
  promptRoutes: Map<string, Route>;
  signature: { tools: string; resources: string; prompts: string };
}

/**
 * Creates the hub's MCP server (the SDK's low-level `Server`, so instance JSON Schemas pass
 * through untouched): `instances_*` tools, plus every active instance's tools and prompts as
 * `<slug>__<name>` and resources as `beacon://<slug>/<uri>`. Calls, progress, cancellation,
 * logging and server->client requests are forwarded both ways.
 */
export function createHubServer(options: HubServerOptions): HubServer {
  const { manager } = options;
  const callTimeoutMs = options.callTimeoutMs ?? 60_000;
  const log = options.log ?? (() => undefined);
  const server = new Server(options.serverInfo ?? { name: 'beacon-hub', version: '0.0.0' }, {
    capabilities: {
      tools: { listChanged: true },
      resources: { listChanged: true, subscribe: true },
      prompts: { listChanged: true },
      logging: {},
    },
    instructions:
      'Beacon hub: every running project that announces itself appears here. Call instances_list to see them; their tools are named <instance>__<tool>.',
  });

  const active = () => manager.list().filter((c) => c.state === 'active');

  const computeView = (): View => {
    const all = manager.list();
    const slugs = assignSlugs(all.map((c) => ({ id: c.id, name: c.record.name })));
    const ids = new Map([...slugs].map(([id, slug]) => [slug, id]));
    const tools: Tool[] = HUB_TOOLS.map((t) => ({ ...t }));
    const resources: Resource[] = [];
    const resourceTemplates: ResourceTemplate[] = [];
    const prompts: Prompt[] = [];
    const toolRoutes = new Map<string, Route>();
    const promptRoutes = new Map<string, Route>();
    for (const connection of active()) {
      const slug = slugs.get(connection.id)!;
      const describe = (text: string | undefined) =>
        `[${connection.record.name}] ${text ?? ''}`.trimEnd();
      for (const tool of connection.catalog.tools) {
        const name = qualifiedName(slug, tool.name);
        toolRoutes.set(name, { id: connection.id, name: tool.name });
        tools.push({ ...tool, name, description: describe(tool.description) });
      }
      for (const prompt of connection.catalog.prompts) {
        const name = qualifiedName(slug, prompt.name);
        promptRoutes.set(name, { id: connection.id, name: prompt.name });
        prompts.push({ ...prompt, name, description: describe(prompt.description) });
      }
      for (const r of connection.catalog.resources) {
        resources.push({
          ...r,
          uri: proxiedUri(slug, r.uri),
          description: describe(r.description),
        });
      }
      for (const t of connection.catalog.resourceTemplates) {
        resourceTemplates.push({
          ...t,
          uriTemplate: proxiedUri(slug, t.uriTemplate),
          description: describe(t.description),
        });
      }
    }
    return {
      slugs,
      ids,
      tools,
      resources,
      resourceTemplates,
      prompts,
      toolRoutes,
      promptRoutes,
      signature: {
        tools: JSON.stringify(tools),
        resources: JSON.stringify([resources, resourceTemplates]),
        prompts: JSON.stringify(prompts),
      },
    };
  };

  let view = computeView();
  let debounce: NodeJS.Timeout | undefined;
  let closed = false;

  const notify = (send: () => Promise<void>) => {
    if (server.transport === undefined) return;
    send().catch((error: Error) => log(`cannot send list_changed: ${error.message}`));
  };

  // What the client has been shown, by tools/list or by a notification: list_changed is sent
  // whenever the current lists differ from it, so a burst that ends where it began sends
  // nothing, but a change the client already listed is never silently undone.
  const shown = { ...view.signature };
  const flush = () => {
    debounce = undefined;
    if (view.signature.tools !== shown.tools) {
      shown.tools = view.signature.tools;
      notify(() => server.sendToolListChanged());
    }
    if (view.signature.resources !== shown.resources) {
      shown.resources = view.signature.resources;
      notify(() => server.sendResourceListChanged());
    }
    if (view.signature.prompts !== shown.prompts) {
      shown.prompts = view.signature.prompts;
      notify(() => server.sendPromptListChanged());
    }
  };
  const scheduleRefresh = () => {
    if (closed) return;
    // Routing sees new instances at once; only the notifications wait for the burst to end.
    view = computeView();
    if (debounce) clearTimeout(debounce);
    debounce = setTimeout(flush, options.debounceMs ?? 50);
    debounce.unref?.();
  };
  const offTransition = manager.onTransition(scheduleRefresh);
  const offCatalog = manager.onCatalog(scheduleRefresh);

  /** Client of an instance by id, as a tool-level failure when it is not reachable. */
  const clientFor = (id: string): Client => manager.client(id);

  /**
   * Options for a forwarded request, and `drain()`, which resolves once every progress
   * notification forwarded so far is written: awaited before the result is returned, so the
   * client sees the instance's notifications and result in the order the instance sent them.
   */
  const requestOptions = (
    extra: ToolExtra,
  ): { options: RequestOptions; drain: () => Promise<void> } => {
    const token = extra._meta?.progressToken;
    let sent = Promise.resolve();
    const options: RequestOptions = {
      signal: extra.signal,
      timeout: callTimeoutMs,
      resetTimeoutOnProgress: true,
      ...(token === undefined
        ? {}
        : {
            onprogress: (progress: Progress) => {
              sent = sent
                .then(() =>
                  extra.sendNotification({
                    method: 'notifications/progress',
                    params: { ...progress, progressToken: token },
                  }),
                )
                .catch(() => undefined);
            },
          }),
    };
    return { options, drain: () => sent };
  };

  const describeFailure = (id: string, error: unknown, known?: string): string => {
    const name = known ?? manager.get(id)?.record.name ?? id;
    if (error instanceof McpError && error.code === ErrorCode.RequestTimeout) {
      return `instance ${name} did not answer within ${callTimeoutMs} ms`;
    }
    return `instance ${name} failed: ${(error as Error).message}`;
  };

  const callTool = async (
    id: string,
    name: string,
    args: Record<string, unknown> | undefined,
    extra: ToolExtra,
  ): Promise<CallToolResult> => {
    let client: Client;
    try {
      client = clientFor(id);
    } catch (error) {
      return { isError: true, content: [{ type: 'text', text: (error as Error).message }] };
    }
    // Taken now: the instance may be gone by the time the call fails.
    const instanceName = manager.get(id)?.record.name;
    const { options, drain } = requestOptions(extra);
    try {
      const result = await client.request(
        {
          method: 'tools/call',
          params: { name, ...(args === undefined ? {} : { arguments: args }) },
        },
        CallToolResultSchema,
        options,
      );
      await drain();
      return result as CallToolResult;
    } catch (error) {
      if (extra.signal.aborted) throw error;
      // Protocol errors from the instance itself (unknown tool, bad params) pass through as they are.
      if (
        error instanceof McpError &&
        error.code !== ErrorCode.RequestTimeout &&
        error.code !== ErrorCode.ConnectionClosed
      )
        throw error;
      return {
        isError: true,
        content: [{ type: 'text', text: describeFailure(id, error, instanceName) }],
      };
    }
  };

  const hubContext: HubToolContext = {
    manager,
    slugs: () => view.slugs,
    callTool: (id, name, args, extra) => callTool(id, name, args, extra),
  };

  server.setRequestHandler(ListToolsRequestSchema, async () => {
    shown.tools = view.signature.tools;
    return { tools: view.tools };
  });

  server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    const { name, arguments: args } = request.params;
    if (HUB_TOOLS.some((t) => t.name === name))
      return handleHubTool(hubContext, name, args ?? {}, extra);
    const route = view.toolRoutes.get(name);
    if (!route)
      throw new McpError(
        ErrorCode.InvalidParams,
        `Unknown tool: ${name}. Call instances_list to see what is connected.`,
      );
    return callTool(route.id, route.name, args, extra);
  });

  const routeUri = (uri: string): { id: string; uri: string } => {
    const parsed = parseProxiedUri(uri);
    const id = parsed && view.ids.get(parsed.slug);
    if (!parsed || !id) throw new McpError(ErrorCode.InvalidParams, `Unknown resource: ${uri}`);
    return { id, uri: parsed.uri };
  };

  server.setRequestHandler(ListResourcesRequestSchema, async () => {
    shown.resources = view.signature.resources;
    return { resources: view.resources };
  });
  server.setRequestHandler(ListResourceTemplatesRequestSchema, async () => {
    shown.resources = view.signature.resources;
    return { resourceTemplates: view.resourceTemplates };
  });
  server.setRequestHandler(ReadResourceRequestSchema, async (request, extra) => {
    const { id, uri } = routeUri(request.params.uri);
    const slug = view.slugs.get(id)!;
    const result = await forward(
      id,
      { method: 'resources/read', params: { uri } },
      ReadResourceResultSchema,
      extra,
    );
    return {
      ...result,
      contents: result.contents.map((c) => ({ ...c, uri: proxiedUri(slug, c.uri) })),
    };
  });
  server.setRequestHandler(SubscribeRequestSchema, async (request, extra) => {
    const { id, uri } = routeUri(request.params.uri);
    return forward(
      id,
      { method: 'resources/subscribe', params: { uri } },
      EmptyResultSchema,
      extra,
    );
  });
  server.setRequestHandler(UnsubscribeRequestSchema, async (request, extra) => {
    const { id, uri } = routeUri(request.params.uri);
    return forward(
      id,
      { method: 'resources/unsubscribe', params: { uri } },
      EmptyResultSchema,
      extra,
    );
  });

  server.setRequestHandler(ListPromptsRequestSchema, async () => {
    shown.prompts = view.signature.prompts;
    return { prompts: view.prompts };
  });
  server.setRequestHandler(GetPromptRequestSchema, async (request, extra) => {
    const route = view.promptRoutes.get(request.params.name);
    if (!route)
      throw new McpError(ErrorCode.InvalidParams, `Unknown prompt: ${request.params.name}`);
    return forward(
      route.id,
      { method: 'prompts/get', params: { ...request.params, name: route.name } },
      GetPromptResultSchema,
      extra,
    );
  });

  server.setRequestHandler(SetLevelRequestSchema, async (request) => {
    await Promise.allSettled(
      active().map((c) =>
        c.capabilities?.logging ? clientFor(c.id).setLoggingLevel(request.params.level) : undefined,
      ),
    );
    return {};
  });

  server.setNotificationHandler(RootsListChangedNotificationSchema, async () => {
    await Promise.allSettled(active().map((c) => clientFor(c.id).sendRootsListChanged()));
  });

  /** Forwards a request to an instance; transport failures become a clear MCP error. */
  async function forward<
    T extends
      | typeof ReadResourceResultSchema
      | typeof EmptyResultSchema
      | typeof GetPromptResultSchema,
  >(
    id: string,
    request: { method: string; params: Record<string, unknown> },
    schema: T,
    extra: ToolExtra,
  ) {
    let client: Client;
    try {
      client = clientFor(id);
    } catch (error) {
      throw new McpError(ErrorCode.InvalidRequest, (error as Error).message);
    }
    const { options, drain } = requestOptions(extra);
    try {
      const result = await client.request(request as never, schema, options);
      await drain();
      return result;
    } catch (error) {
      if (
        error instanceof McpError &&
        error.code !== ErrorCode.RequestTimeout &&
        error.code !== ErrorCode.ConnectionClosed
      )
        throw error;
      throw new McpError(ErrorCode.InternalError, describeFailure(id, error));
    }
  }

  const upstreamCan = (capability: keyof ClientCapabilities): boolean =>
    server.getClientCapabilities()?.[capability] !== undefined;

  const configureClient = (client: Client, info: ConnectionInfo) => {
    const slug = () => view.slugs.get(info.id) ?? info.record.name;
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
    const unsupported = (what: string) =>
      new McpError(
        ErrorCode.InvalidRequest,
        `the MCP client connected to the Beacon hub does not support ${what}`,
      );
    client.setRequestHandler(CreateMessageRequestSchema, async (request, extra) => {
      if (!upstreamCan('sampling')) throw unsupported('sampling');
      return server.createMessage(request.params, { signal: extra.signal });
    });
    client.setRequestHandler(ElicitRequestSchema, async (request, extra) => {
      if (!upstreamCan('elicitation')) throw unsupported('elicitation');
      return server.elicitInput(request.params, { signal: extra.signal });
    });
    client.setRequestHandler(ListRootsRequestSchema, async (_request, extra) => {
      if (!upstreamCan('roots')) throw unsupported('roots');
      return server.listRoots(undefined, { signal: extra.signal });
    });
  };

  const close = async () => {
    if (closed) return;
    closed = true;
    if (debounce) clearTimeout(debounce);
    offTransition();
    offCatalog();
    await server.close();
  };

  return { server, configureClient, close, [Symbol.asyncDispose]: close };
}
