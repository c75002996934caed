export { SlugBook, type SlugSubject } from './catalog/names.js';
export { HubError, type HubErrorCode } from './errors.js';
export type {
  InstanceSummary,
  LaunchInstance,
  RemoteSummary,
  StartedInstance,
} from './handlers/hub-tools.js';
export { folderKey } from './routing/folders.js';
export {
  createHubServer,
  HUB_CLIENT_CAPABILITIES,
  type HubServer,
  type HubServerOptions,
  type HubSession,
  MAX_SESSIONS,
} from './server.js';
export type { ProtocolEra } from './sessions/era.js';
export type { HubSessionInfo, HubSessionOptions } from './sessions/session.js';
