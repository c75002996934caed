export { folderKey } from './_folders.js';
export type {
  InstanceSummary,
  LaunchInstance,
  RemoteSummary,
  StartedInstance,
} from './_hub-tools.js';
export { qualifiedName, SlugBook, type SlugSubject } from './_names.js';
export type { ProtocolEra } from './_peer.js';
export { HubError, type HubErrorCode } from './errors.js';
export {
  createHubServer,
  HUB_CLIENT_CAPABILITIES,
  type HubServer,
  type HubServerOptions,
  type HubSession,
  MAX_SESSIONS,
} from './server.js';
export type { HubSessionInfo, HubSessionOptions } from './sessions/session.js';
