import { createConnectionManager } from '@mcp-beacon/connection-manager';
import type { ListedInstance } from '../list.js';
import { localRecord } from './remote-instances.js';
import { createRemotes } from './remotes.js';
import type { RemoteInfo, RemoteSpec } from './types.js';

/**
 * For `beacon-hub list`: asks each remote's hub once for its instances (each remote within
 * `handshakeTimeoutMs`), then ends every command. A remote that cannot be reached is in
 * `remotes` with its reason, and adds no rows.
 */
export async function listRemoteInstances(
  specs: readonly RemoteSpec[],
  options: { version: string; handshakeTimeoutMs?: number },
): Promise<{ instances: ListedInstance[]; remotes: RemoteInfo[] }> {
  if (specs.length === 0) return { instances: [], remotes: [] };
  const manager = createConnectionManager();
  const remotes = createRemotes({
    specs,
    manager,
    clientInfo: { name: 'beacon-hub-list', version: options.version },
    addToManager: false,
    ...(options.handshakeTimeoutMs === undefined
      ? {}
      : { handshakeTimeoutMs: options.handshakeTimeoutMs }),
  });
  try {
    remotes.start();
    await remotes.whenFirstAttemptsDone();
    const instances = remotes.links().flatMap((link) =>
      link.instances().map((i): ListedInstance => {
        const record = localRecord(link.name, i, i.localId, i.started);
        return {
          id: record.id,
          name: record.name,
          slug: '',
          path: record.path,
          url: record.url ?? '',
          pid: record.pid,
          process: 'alive',
          heartbeat: 'fresh',
          started: record.started,
          last_seen: record.last_seen,
          remote: link.name,
        };
      }),
    );
    return { instances, remotes: remotes.list() };
  } finally {
    await remotes.close();
    await manager.close();
  }
}
