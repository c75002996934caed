// What the shared hub loads once it holds its lock (route.ts): everything the hub needs, in a
// chunk of its own, so the bridge never loads it.
export { runDaemon } from './commands/serve.js';
