// JSON-RPC over a child's raw stdio pipes, for benchmarks that time the hub without an SDK
// client in the way: each request is timed from its write to its answer line.

/**
 * Reads answer lines from `child.stdout` and matches them to requests by id (results and
 * errors alike). `t0` is the origin of the `at` times (default: now).
 */
export function rawPipe(child, t0 = performance.now()) {
  let buffer = '';
  const waiting = new Map();
  child.stdout.setEncoding('utf8').on('data', (chunk) => {
    buffer += chunk;
    let nl = buffer.indexOf('\n');
    while (nl >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      const id = JSON.parse(line).id;
      if (id !== undefined && id !== null) {
        waiting.get(Number(id))?.({ at: performance.now(), line });
        waiting.delete(Number(id));
      }
      nl = buffer.indexOf('\n');
    }
  });
  let next = 1;
  /** Sends a request; resolves with its time (`ms`), its arrival (`at`) and the answer line. */
  const request = (method, params = {}) => {
    const id = next++;
    const answer = new Promise((resolve) => waiting.set(id, resolve));
    const start = performance.now();
    child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id, method, params })}\n`);
    return answer.then(({ at, line }) => ({ ms: at - start, at: at - t0, line }));
  };
  /** `initialize` then `notifications/initialized`. */
  const initialize = async () => {
    await request('initialize', {
      protocolVersion: '2025-06-18',
      capabilities: {},
      clientInfo: { name: 'raw', version: '1' },
    });
    child.stdin.write(
      `${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' })}\n`,
    );
  };
  return { request, initialize };
}

/** How many tools a `tools/list` answer line carries. */
export const countTools = (line) => (line.match(/"inputSchema"/g) ?? []).length;
