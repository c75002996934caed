export { type Hub, type StartHubOptions, startHub, VERSION } from './hub.js';
export type { Logger } from './logger.js';
