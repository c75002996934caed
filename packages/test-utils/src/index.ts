export { canMount, fillDisk, type Mount, mountTmpfs } from './mounts.js';
export {
  isGroupAlive,
  processesWith,
  startProcess,
  type TestProcess,
  testNode,
} from './process.js';
export { createTempDir, type TempDir } from './temp.js';
export { type WaitForOptions, waitFor } from './wait.js';
