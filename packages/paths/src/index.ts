export { PathsError, type PathsErrorCode } from './errors.js';
export {
  type BeaconPaths,
  ensureDir,
  ensurePaths,
  ensureTrustedDir,
  type ResolvePathsOptions,
  resolvePaths,
} from './paths.js';
