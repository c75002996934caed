import { createServer } from 'node:net';

/**
 * A TCP port on 127.0.0.1 that the OS just handed out and is free again, for a server that
 * takes a fixed port (a `PORT` variable) rather than listening on port 0.
 */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}
