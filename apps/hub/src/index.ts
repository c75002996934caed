export type { Logger } from '@mcp-beacon/registry';
export { type Hub, type StartHubOptions, startHub, VERSION } from './hub.js';
