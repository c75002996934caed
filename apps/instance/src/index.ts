export { type Announcement, type AnnounceOptions, announce } from './announce.js';
export { InstanceError, type InstanceErrorCode } from './errors.js';
export { type Instance, type StartInstanceOptions, startInstance, VERSION } from './instance.js';
export { createLogger, type Logger, type LogLevel } from './logger.js';
export { detectPackageManager, type PackageManager, readProject } from './project.js';
