export { type ManualClock, manualClock } from './clock.js';
export {
  type McpHttpServer,
  type McpHttpServerOptions,
  startMcpHttpServer,
} from './mcp-server.js';
export { canMount, fillDisk, type Mount, mountTmpfs } from './mounts.js';
export { freePort } from './ports.js';
export {
  isGroupAlive,
  processesWith,
  startProcess,
  type TestProcess,
  testNode,
} from './process.js';
export { makeRecord, type RecordShape } from './records.js';
export { type SplitResult, splitAnswer } from './results.js';
export { createTestScope, type TestScope } from './scope.js';
export { type StateSource, waitForState } from './states.js';
export { createTempDir, type TempDir } from './temp.js';
export { type WaitForOptions, waitFor } from './wait.js';
