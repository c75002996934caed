/**
 * Waits up to `waitMs` for the client's first JSON-RPC request on stdin and answers it with
 * an error carrying `message`, so the client's log shows why the server is gone.
 */
export function answerFirstRequest(message: string, waitMs: number): Promise<void> {
  return new Promise((resolve) => {
    let buffer = '';
    const done = () => {
      clearTimeout(timer);
      process.stdin.off('data', onData);
      process.stdin.pause();
      resolve();
    };
    const onData = (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      const nl = buffer.indexOf('\n');
      if (nl < 0) return;
      let id: unknown;
      try {
        id = (JSON.parse(buffer.slice(0, nl)) as { id?: unknown }).id;
      } catch {
        return done();
      }
      if (id === undefined) return done();
      process.stdout.write(
        `${JSON.stringify({ jsonrpc: '2.0', id, error: { code: -32603, message } })}\n`,
        () => done(),
      );
    };
    const timer = setTimeout(done, waitMs);
    process.stdin.on('data', onData);
    process.stdin.once('end', done);
  });
}
