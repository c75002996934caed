// The remote protocol: what a hub says to the hub at the other end of a remote's command.
// It is MCP over the command's stdio (initialize, ping) plus a few `beacon/` methods, offered
// by every beacon-hub under the experimental capability `beacon/remote`. Instance sessions
// are tunnelled as channels: each carries one MCP session between the local hub's connection
// and the remote instance, so everything MCP does (lists, calls, progress, cancellation,
// sampling, elicitation, subscriptions) works through both hops without being named here.
import { InstanceRecordSchema } from '@mcp-beacon/registry';
import { cleanText } from '@mcp-beacon/runtime';
import {
  type Client,
  ProtocolError,
  ProtocolErrorCode,
  type Result,
} from '@modelcontextprotocol/client';
import * as v from 'valibot';

/** The capability key, and the protocol version this hub speaks. */
export const REMOTE_CAPABILITY = 'beacon/remote';
export const REMOTE_PROTOCOL_VERSION = 1;

/** Requests and notifications of the protocol. */
export const METHODS = {
  /** -> `{ instances: RemoteInstance[] }`; afterwards, `instance` notifications follow. */
  instances: 'beacon/instances',
  /** One instance changed or is gone: `{ instance }` or `{ id, removed: true }`. */
  instance: 'notifications/beacon/instance',
  /** `{ channel, instance }` -> `{}` once an MCP session to the instance can carry messages. */
  open: 'beacon/open',
  /** `{ channel, message }`: one JSON-RPC message of a channel, either way. */
  message: 'notifications/beacon/message',
  /**
   * `{ channel, data, last }`: a piece of one message's JSON text, either way, to a hub whose
   * capability says `fragments: true`; the pieces of one channel join in order until `last`.
   */
  fragment: 'notifications/beacon/fragment',
  /** `{ channel, reason? }`: the channel is closed, either way. */
  close: 'notifications/beacon/close',
  /** `{ path }` -> `{ instance, started }`: starts (or finds) the instance of a remote folder. */
  start: 'beacon/start',
} as const;

/** What a hub offers under {@link REMOTE_CAPABILITY}: its version, and that it takes fragments. */
export const REMOTE_OFFER = { version: REMOTE_PROTOCOL_VERSION, fragments: true } as const;

/** True when the other hub's offer says it takes fragments. */
export const takesFragments = (offer: unknown): boolean =>
  typeof offer === 'object' &&
  offer !== null &&
  (offer as { fragments?: unknown }).fragments === true;

/**
 * Who answered a remote's command (name and version, cleaned), and why it cannot serve as a
 * remote: not a beacon-hub, too old to offer {@link REMOTE_CAPABILITY}, or another version.
 */
export function remoteHubOf(client: Client): {
  hub: { name: string; version: string };
  refusal?: string;
} {
  const server = client.getServerVersion();
  const name = cleanText(String(server?.name ?? '?')).slice(0, 80);
  const version = cleanText(String(server?.version ?? '?')).slice(0, 40);
  const hub = { name, version };
  if (name !== 'beacon-hub')
    return { hub, refusal: `not a Beacon hub: it answered as ${name} ${version}` };
  const offered = client.getServerCapabilities()?.experimental?.[REMOTE_CAPABILITY] as
    | { version?: unknown }
    | undefined;
  if (offered === undefined)
    return {
      hub,
      refusal: `beacon-hub ${version} there is too old to serve as a remote; upgrade it on that machine`,
    };
  if (offered.version !== REMOTE_PROTOCOL_VERSION)
    return {
      hub,
      refusal: `beacon-hub ${version} there speaks remote protocol ${String(offered.version)}, this one speaks ${REMOTE_PROTOCOL_VERSION}`,
    };
  return { hub };
}

/** Longest `data` of one fragment taken (a sender cuts at 64 Ki characters). */
const FRAGMENT_LIMIT = 1024 * 1024;

/** Channels one link may have open at once (one per remote instance connection). */
export const MAX_CHANNELS = 4_096;
/** Instances taken from one remote; more are ignored (and said so). */
export const MAX_REMOTE_INSTANCES = 1_000;

/**
 * One remote instance, as the remote hub describes it: held to the local record's rules (the
 * record schema's own fields and bounds: a UUID v4 id, pid and port of 1 or more, an ISO
 * `started`, a name of 1-256 and a path of 1-4,096 characters), plus its state there.
 */
export const RemoteInstanceSchema = v.object({
  ...v.pick(InstanceRecordSchema, [
    'id',
    'pid',
    'path',
    'port',
    'started',
    'name',
    'has_package_json',
    'version',
  ]).entries,
  state: v.pipe(v.string(), v.maxLength(32)),
  reason: v.optional(v.pipe(v.string(), v.maxLength(2_000))),
});
/** See {@link RemoteInstanceSchema}. */
export type RemoteInstance = v.InferOutput<typeof RemoteInstanceSchema>;

export const InstancesResultSchema = v.object({
  instances: v.pipe(v.array(v.unknown()), v.maxLength(100_000)),
});

export const StartResultSchema = v.object({ instance: v.unknown(), started: v.boolean() });

const Channel = v.pipe(v.number(), v.integer());

/** The params of each method, checked once where the message arrives (see {@link onRequest}). */
export const PARAMS = {
  [METHODS.instances]: v.optional(v.record(v.string(), v.unknown())),
  [METHODS.open]: v.object({ channel: Channel, instance: v.pipe(v.string(), v.maxLength(64)) }),
  [METHODS.start]: v.object({ path: v.pipe(v.string(), v.minLength(1), v.maxLength(4096)) }),
  /** `{ instance }` (checked by the receiver against {@link RemoteInstanceSchema}), or removal. */
  [METHODS.instance]: v.union([
    v.object({ id: v.pipe(v.string(), v.maxLength(64)), removed: v.literal(true) }),
    v.object({ instance: v.unknown() }),
  ]),
  [METHODS.message]: v.object({ channel: Channel, message: v.unknown() }),
  [METHODS.fragment]: v.object({
    channel: Channel,
    data: v.pipe(v.string(), v.maxLength(FRAGMENT_LIMIT)),
    last: v.boolean(),
  }),
  [METHODS.close]: v.object({
    channel: Channel,
    reason: v.optional(v.pipe(v.string(), v.maxLength(2_000))),
  }),
} as const;

type Method = keyof typeof PARAMS;
type Params<M extends Method> = v.InferOutput<(typeof PARAMS)[M]>;

/** Non-spec methods are registered with a params schema; theirs are checked with {@link PARAMS}. */
const ANY_PARAMS = { params: v.unknown() };

/** What the link's client and the serving hub's server (both SDK 2) offer for custom methods. */
interface Endpoint {
  setRequestHandler(
    method: string,
    schemas: typeof ANY_PARAMS,
    handler: (params: unknown, ctx: { mcpReq: { signal: AbortSignal } }) => Promise<Result>,
  ): void;
  setNotificationHandler(
    method: string,
    schemas: typeof ANY_PARAMS,
    handler: (params: unknown) => Promise<void>,
  ): void;
}

/**
 * Answers `method` on a client or server: params failing {@link PARAMS} are refused with
 * `InvalidParams`; `handler` gets them checked.
 */
export function onRequest<M extends Method>(
  endpoint: Endpoint,
  method: M,
  handler: (params: Params<M>, extra: { signal: AbortSignal }) => Promise<Result>,
): void {
  endpoint.setRequestHandler(method, ANY_PARAMS, async (params, ctx) => {
    const parsed = v.safeParse(PARAMS[method], params);
    if (!parsed.success)
      throw new ProtocolError(
        ProtocolErrorCode.InvalidParams,
        `${method}: ${v.summarize(parsed.issues)}`,
      );
    return handler(parsed.output as Params<M>, { signal: ctx.mcpReq.signal });
  });
}

/** Takes `method` notifications on a client or server; ones failing {@link PARAMS} are dropped. */
export function onNotification<M extends Method>(
  endpoint: Endpoint,
  method: M,
  handler: (params: Params<M>) => void,
): void {
  endpoint.setNotificationHandler(method, ANY_PARAMS, async (params) => {
    const parsed = v.safeParse(PARAMS[method], params);
    if (parsed.success) handler(parsed.output as Params<M>);
  });
}
