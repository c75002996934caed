export { type Hub, type StartHubOptions, startHub, VERSION } from './hub.js';
export { formatTable, type ListedInstance, listInstances } from './list.js';
export { createLogger, type Logger, type LogLevel } from './logger.js';
