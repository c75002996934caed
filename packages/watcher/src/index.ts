export type { InstanceEvent } from './_state.js';
export {
  type BackendCallbacks,
  type BackendFailure,
  type BackendSubscription,
  createParcelBackend,
  nodeBackend,
  type ParcelBackendOptions,
  parcelBackend,
  type WatchBackend,
} from './backends.js';
export { WatcherError, type WatcherErrorCode } from './errors.js';
export { type InstanceWatcher, type WatchOptions, watchInstances } from './watcher.js';
