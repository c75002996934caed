export { type TransportHooks, wrapTransport } from './_wrap.js';
export { ConnectionError, type ConnectionErrorCode } from './errors.js';
export {
  type CallOptions,
  type DirectAnswer,
  type EventStreamStatus,
  HttpClientTransport,
  type HttpClientTransportOptions,
} from './http-transport.js';
export {
  type ConnectionManager,
  type ConnectionManagerOptions,
  createConnectionManager,
  type InstanceRoute,
  type TransitionEvent,
} from './manager.js';
export {
  MAX_INPUT_REQUESTS,
  MAX_INPUT_ROUNDS,
  MODERN_REVISION,
  ModernHttpTransport,
  type ModernHttpTransportOptions,
} from './modern-transport.js';
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
