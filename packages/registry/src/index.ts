export { type Clock, sleep, systemClock } from './clock.js';
export {
  type OptionSpec,
  type OptionTable,
  type OptionValues,
  optionsHelp,
  parseCommandLine,
} from './command-line.js';
export { RegistryError, type RegistryErrorCode } from './errors.js';
export {
  createLogger,
  isLogLevel,
  type Logger,
  type LoggerOptions,
  type LogLevel,
} from './logger.js';
export { isLoopbackHost } from './loopback.js';
export {
  checkStale,
  exitStatus,
  isProcessAlive,
  type StaleOptions,
  type StaleReason,
  signalGroup,
} from './process.js';
export { type FindProgramOptions, findProgram } from './programs.js';
export {
  type DirEntryResult,
  type PrivateFileOptions,
  type PrivateFileResult,
  type ReadOptions,
  type ReadResult,
  readInstance,
  readInstanceDir,
  readPrivateFile,
  readValidRecords,
  safeReadInstance,
  safeReadInstanceSync,
} from './read.js';
export {
  type RegisterOptions,
  type Registration,
  type RegistrationFields,
  register,
} from './registration.js';
export {
  type InstanceRecord,
  type InstanceRecordInput,
  InstanceRecordSchema,
  isLoopbackHttpUrl,
  MAX_RECORD_BYTES,
  parseRecord,
  RECORD_VERSION,
} from './schema.js';
export { onShutdown, type ShutdownOptions } from './shutdown.js';
export {
  checkPortOwner,
  findPortOwner,
  type LoopbackAddress,
  ownedLoopbacks,
  type PortOwnerOptions,
  type PortOwnership,
} from './sockets.js';
export { type CleanTextOptions, cleanText } from './text.js';
export {
  PORTABLE_SCHEMA_KEYWORDS,
  type PortableSchemaOptions,
  portableSchema,
  schemaOffences,
} from './tool-schema.js';
export { instanceFile, removeInstance, writeInstance } from './write.js';
