import type { TestProcess } from './process.js';
import { createTempDir, type TempDir } from './temp.js';

/** What one test owns: a temp folder, and the processes and clients it started. */
export interface TestScope {
  readonly tmp: TempDir;
  /** Registers a process to kill at cleanup; returns it. */
  track(proc: TestProcess): TestProcess;
  /** Registers a client (anything with `close()`) to close at cleanup; returns it. */
  trackClient<C extends { close(): Promise<void> }>(client: C): C;
  /** Closes the clients, then kills the processes, then removes the folder. */
  cleanup(): Promise<void>;
}

/** Creates a {@link TestScope} with a fresh temp folder; call `cleanup()` after the test. */
export async function createTestScope(prefix?: string): Promise<TestScope> {
  const tmp = await createTempDir(prefix);
  const processes: TestProcess[] = [];
  const clients: Array<{ close(): Promise<void> }> = [];
  return {
    tmp,
    track(proc) {
      processes.push(proc);
      return proc;
    },
    trackClient(client) {
      clients.push(client);
      return client;
    },
    async cleanup() {
      await Promise.allSettled(clients.splice(0).map((c) => c.close()));
      await Promise.allSettled(processes.splice(0).map((p) => p.kill()));
      await tmp.cleanup();
    },
  };
}
