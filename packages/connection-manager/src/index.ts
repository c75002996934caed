export type { CatalogLimits } from './_catalog.js';
export {
  CONNECTION_STATES,
  type ConnectionInfo,
  type ConnectionState,
  type InstanceCatalog,
  type PingOptions,
} from './connection.js';
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
export type { BackoffOptions } from './retry.js';
