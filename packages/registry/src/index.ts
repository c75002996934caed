export { RegistryError, type RegistryErrorCode } from './errors.js';
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
export {
  checkPortOwner,
  findPortOwner,
  type LoopbackAddress,
  ownedLoopbacks,
  type PortOwnerOptions,
  type PortOwnership,
} from './sockets.js';
export { checkStale, type StaleOptions, type StaleReason } from './stale.js';
export {
  type PortableSchemaOptions,
  portableSchema,
  schemaOffences,
} from './tool-schema.js';
export { instanceFile, removeInstance, writeInstance } from './write.js';
