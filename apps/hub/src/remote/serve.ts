import {
  type ConnectionInfo,
  type ConnectionManager,
  isLocal,
  type SessionTransport,
} from '@mcp-beacon/connection-manager';
import type { LaunchInstance } from '@mcp-beacon/hub-mcp';
import {
  type JSONRPCMessage,
  ProtocolError,
  ProtocolErrorCode,
  type Server,
} from '@modelcontextprotocol/server';
import { ChannelOutbox, FragmentInbox } from './fragments.js';
import {
  MAX_CHANNELS,
  METHODS,
  onNotification,
  onRequest,
  REMOTE_CAPABILITY,
  REMOTE_OFFER,
  type RemoteInstance,
  takesFragments,
} from './protocol.js';

/** What {@link serveRemoteProtocol} needs. */
export interface ServeRemoteOptions {
  server: Server;
  manager: ConnectionManager;
  /** Starts an instance for `beacon/start` (absent: the request is refused). */
  launch?: LaunchInstance;
  /**
   * `beacon/instances` waits for it: the records present at start-up read and their first
   * connection attempts over (bounded), as the first tools/list waits.
   */
  ready?: Promise<unknown>;
}

/** An instance of this machine as the remote protocol sends it to another hub (raw fields). */
export function remoteInstanceOf(info: ConnectionInfo): RemoteInstance {
  const { record } = info;
  return {
    id: info.id,
    name: record.name,
    path: record.path,
    pid: record.pid,
    port: record.port,
    state: info.state,
    ...(info.reason === undefined ? {} : { reason: info.reason.slice(0, 2_000) }),
    started: record.started,
    has_package_json: record.has_package_json,
    ...(record.version === undefined ? {} : { version: record.version }),
  };
}

/**
 * Makes this hub usable as another hub's remote: declares `beacon/remote` and answers its
 * methods over the same MCP connection. Only this machine's instances are offered (never
 * the ones this hub reaches through remotes of its own), and a channel opens only to an
 * active instance, whose token stays here: the channel's HTTP session is this hub's.
 * Must be called before the server connects.
 */
export function serveRemoteProtocol(options: ServeRemoteOptions): { close(): Promise<void> } {
  const { server, manager } = options;
  server.registerCapabilities({
    experimental: { [REMOTE_CAPABILITY]: REMOTE_OFFER },
  });
  const channels = new Map<number, SessionTransport>();
  let following = false;
  const local = (info: ConnectionInfo) => isLocal(info.location) && info.state !== 'removed';

  const notify = (method: string, params: Record<string, unknown>) =>
    server.notification({ method, params }).catch(() => undefined);
  // Large channel messages go in fragments, with everything else between them.
  const outbox = new ChannelOutbox(
    (method, params) => server.notification({ method, params }),
    () => takesFragments(server.getClientCapabilities()?.experimental?.[REMOTE_CAPABILITY]),
  );
  const inbox = new FragmentInbox();

  /** Ends a channel's session; `tell` (default true) says so to the other hub. */
  const closeChannel = (
    channel: number,
    { reason, tell = true }: { reason?: string; tell?: boolean } = {},
  ) => {
    const transport = channels.get(channel);
    if (!transport) return;
    channels.delete(channel);
    inbox.drop(channel);
    void transport
      .terminateSession()
      .catch(() => undefined)
      .finally(() => transport.close().catch(() => undefined));
    if (tell) void notify(METHODS.close, { channel, ...(reason ? { reason } : {}) });
  };

  const offTransition = manager.onTransition((event) => {
    if (!following || !isLocal(event.info.location)) return;
    void notify(
      METHODS.instance,
      event.to === 'removed'
        ? { id: event.id, removed: true }
        : { instance: remoteInstanceOf(event.info) },
    );
  });

  onRequest(server, METHODS.instances, async () => {
    await options.ready;
    following = true;
    return { instances: manager.list().filter(local).map(remoteInstanceOf) };
  });

  onRequest(server, METHODS.open, async ({ channel, instance }) => {
    const info = manager.get(instance);
    if (!info || !local(info))
      throw new ProtocolError(
        ProtocolErrorCode.InvalidParams,
        `no instance ${instance} on this machine`,
      );
    if (info.state !== 'active')
      throw new ProtocolError(
        ProtocolErrorCode.InvalidRequest,
        `${info.record.name} is ${info.state}${info.reason ? `: ${info.reason}` : ''}`,
      );
    if (channels.has(channel)) closeChannel(channel, { tell: false });
    if (channels.size >= MAX_CHANNELS)
      throw new ProtocolError(
        ProtocolErrorCode.InvalidRequest,
        `${MAX_CHANNELS} channels are open already`,
      );
    // At the address this hub's own connection reached (a `localhost` record at the literal
    // address its process listens on), with a session of the channel's own.
    const transport = manager.openSession(instance);
    transport.onmessage = (message) =>
      void outbox
        .send(channel, message)
        .catch((error: Error) => closeChannel(channel, { reason: error.message }));
    transport.onclose = () => {
      if (channels.get(channel) === transport)
        closeChannel(channel, { reason: 'the instance session ended' });
    };
    channels.set(channel, transport);
    await transport.start();
    return {};
  });

  const forward = (channel: number, message: unknown) => {
    const transport = channels.get(channel);
    if (!transport) {
      void notify(METHODS.close, { channel, reason: 'no such channel' });
      return;
    }
    transport
      .send(message as JSONRPCMessage)
      .catch((error: Error) => closeChannel(channel, { reason: error.message }));
  };
  onNotification(server, METHODS.message, ({ channel, message }) => forward(channel, message));
  onNotification(server, METHODS.fragment, ({ channel, data, last }) => {
    const taken = inbox.take(channel, data, last);
    if (taken.kind === 'message') forward(channel, taken.message);
    else if (taken.kind === 'refused') closeChannel(channel, { reason: taken.reason });
  });
  onNotification(server, METHODS.close, ({ channel }) => closeChannel(channel, { tell: false }));

  onRequest(server, METHODS.start, async ({ path }, extra) => {
    if (!options.launch)
      throw new ProtocolError(ProtocolErrorCode.InvalidRequest, 'this hub cannot start instances');
    const { info, started } = await options.launch(path, { signal: extra.signal });
    return { instance: remoteInstanceOf(info), started };
  });

  return {
    async close() {
      offTransition();
      for (const channel of [...channels.keys()])
        closeChannel(channel, { reason: 'the hub is closing' });
    },
  };
}
