// The remote protocol: what a hub says to the hub at the other end of a remote's command.
// It is MCP over the command's stdio (initialize, ping) plus a few `beacon/` methods, offered
// by every beacon-hub under the experimental capability `beacon/remote`. Instance sessions
// are tunnelled as channels: each carries one MCP session between the local hub's connection
// and the remote instance, so everything MCP does (lists, calls, progress, cancellation,
// sampling, elicitation, subscriptions) works through both hops without being named here.
import { InstanceRecordSchema } from '@mcp-beacon/registry';
import * as v from 'valibot';
import { z } from 'zod';

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

// The SDK dispatches on zod schemas; these only name the method and keep params loose, and
// each handler validates what it uses.
const loose = z.record(z.string(), z.unknown()).optional();
export const zInstancesRequest = z.object({ method: z.literal(METHODS.instances), params: loose });
export const zOpenRequest = z.object({
  method: z.literal(METHODS.open),
  params: z.object({ channel: z.number().int(), instance: z.string().max(64) }),
});
export const zStartRequest = z.object({
  method: z.literal(METHODS.start),
  params: z.object({ path: z.string().min(1).max(4096) }),
});
export const zInstanceNotification = z.object({
  method: z.literal(METHODS.instance),
  params: loose,
});
export const zMessageNotification = z.object({
  method: z.literal(METHODS.message),
  params: z.object({ channel: z.number().int(), message: z.unknown() }),
});
export const zFragmentNotification = z.object({
  method: z.literal(METHODS.fragment),
  params: z.object({
    channel: z.number().int(),
    data: z.string().max(FRAGMENT_LIMIT),
    last: z.boolean(),
  }),
});
export const zCloseNotification = z.object({
  method: z.literal(METHODS.close),
  params: z.object({ channel: z.number().int(), reason: z.string().max(2_000).optional() }),
});
