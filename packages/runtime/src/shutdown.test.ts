import { fileURLToPath } from 'node:url';
import { startProcess, testNode, waitFor } from '@mcp-beacon/test-utils';
import { describe, expect, it } from 'vitest';

// A real process with the built package: the policy is about how a process ends.
const DIST = fileURLToPath(new URL('../dist/index.js', import.meta.url));

function program(body: string) {
  return startProcess(
    testNode,
    [
      '--input-type=module',
      '-e',
      `import { createLogger, onShutdown } from ${JSON.stringify(DIST)};
       const logger = createLogger('info');
       onShutdown(async () => { console.log('cleaned up'); }, { logger });
       setInterval(() => {}, 1000);
       ${body}`,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
}

describe('onShutdown', () => {
  it('cleans up and exits 0 on SIGTERM', async () => {
    const proc = program("console.log('up');");
    await waitFor(() => proc.stdout().includes('up'), { what: 'the program up' });
    proc.child.kill('SIGTERM');
    expect(await proc.exited).toEqual({ code: 0, signal: null });
    expect(proc.stdout()).toContain('cleaned up');
  });

  it.each([
    ['an uncaught exception', "setTimeout(() => { throw new Error('boom'); }, 10);"],
    ['an unhandled rejection', "setTimeout(() => Promise.reject(new Error('boom')), 10);"],
  ])('logs %s with its stack, cleans up and exits 1', async (_label, body) => {
    const proc = program(body);
    expect(await proc.exited).toEqual({ code: 1, signal: null });
    expect(proc.stdout()).toContain('cleaned up');
    expect(proc.stderr()).toMatch(
      /error (unexpected error|unhandled rejection): Error: boom\n\s+at /,
    );
  });

  it('exits anyway when the cleanup hangs', async () => {
    const proc = startProcess(
      testNode,
      [
        '--input-type=module',
        '-e',
        `import { createLogger, onShutdown } from ${JSON.stringify(DIST)};
         const stop = onShutdown(() => new Promise(() => {}), { logger: createLogger('error'), forceAfterMs: 100 });
         setInterval(() => {}, 1000);
         stop('test');`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    expect((await proc.exited).code).toBe(1);
    expect(proc.stderr()).toContain('shutdown took over 100 ms');
  });
});
