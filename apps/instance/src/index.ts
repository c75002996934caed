export type { Logger } from '@mcp-beacon/runtime';
export {
  type Announcement,
  type AnnouncementEnd,
  type AnnounceOptions,
  announce,
} from './announce.js';
export { InstanceError, type InstanceErrorCode } from './errors.js';
export { type Instance, type StartInstanceOptions, startInstance, VERSION } from './instance.js';
