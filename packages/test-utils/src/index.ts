export { canMount, fillDisk, type Mount, mountTmpfs } from './mounts.js';
export { createTempDir, type TempDir } from './temp.js';
export { firstMatch, waitFor, type WaitForOptions } from './wait.js';
