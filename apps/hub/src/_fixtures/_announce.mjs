// What the announced fixture servers share: listen on 127.0.0.1 (any port) of whatever network
// namespace they run in, announce themselves as `name` in $MCP_BEACON_HOME, say
// `listening on <port>` on stderr, and withdraw the record on SIGTERM or SIGINT.
import { resolvePaths } from '@mcp-beacon/paths';
import { register } from '@mcp-beacon/registry';

/** Listens with `http`, then announces it as `name`; `beforeExit` runs after the withdrawal. */
export async function listenAndAnnounce(http, name, beforeExit = async () => undefined) {
  await new Promise((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address();
  const registration = await register({
    paths: resolvePaths(),
    record: {
      pid: process.pid,
      path: process.cwd(),
      port,
      name,
      has_package_json: false,
      url: `http://127.0.0.1:${port}/mcp`,
    },
  });
  process.stderr.write(`listening on ${port}\n`);
  const stop = async () => {
    await registration.close();
    await beforeExit();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
