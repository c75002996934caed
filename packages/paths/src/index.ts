export { PathsError, type PathsErrorCode } from './errors.js';
export {
  APP_NAME,
  type BeaconPaths,
  ensureDir,
  ensurePaths,
  ensureTrustedDir,
  HOME_ENV,
  type ResolvePathsOptions,
  resolvePaths,
} from './paths.js';
