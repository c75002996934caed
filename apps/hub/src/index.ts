export type { Logger } from '@mcp-beacon/runtime';
export { type Hub, type StartHubOptions, startHub, VERSION } from './hub.js';
