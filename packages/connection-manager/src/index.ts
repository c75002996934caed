export type { InstanceCallOptions, InstanceRequest } from './_call.js';
export { ConnectionError, type ConnectionErrorCode, type RpcError } from './errors.js';
export {
  type ConnectionManager,
  type ConnectionManagerOptions,
  createConnectionManager,
  type InstanceRoute,
  type SessionTransport,
  type TransitionEvent,
} from './manager.js';
export { type BackoffOptions, backoffDelay } from './retry.js';
export {
  type CatalogLimits,
  CONNECTION_STATES,
  type ConnectionInfo,
  type ConnectionState,
  type InstanceCatalog,
  type InstanceLocation,
  isLocal,
  type PingOptions,
  remoteOf,
  sameMachine,
} from './types.js';
