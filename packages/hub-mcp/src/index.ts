export { HubError, type HubErrorCode } from './errors.js';
export { HUB_TOOLS, type InstanceSummary, resolveInstance } from './hub-tools.js';
export {
  assignSlugs,
  baseSlug,
  MAX_NAME_LENGTH,
  parseProxiedUri,
  proxiedUri,
  qualifiedName,
} from './names.js';
export {
  createHubServer,
  HUB_CLIENT_CAPABILITIES,
  type HubServer,
  type HubServerOptions,
} from './server.js';
