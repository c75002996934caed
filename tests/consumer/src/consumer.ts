// A downstream project using every published package through its public entry point only.
import { type ConnectionInfo, createConnectionManager } from '@mcp-beacon/connection-manager';
import type { Hub, startHub } from '@mcp-beacon/hub';
import { createHubServer, HUB_CLIENT_CAPABILITIES } from '@mcp-beacon/hub-mcp';
import type { Instance, startInstance } from '@mcp-beacon/instance';
import { type BeaconPaths, ensurePaths, resolvePaths } from '@mcp-beacon/paths';
import {
  type InstanceRecord,
  type ReadResult,
  register,
  safeReadInstance,
} from '@mcp-beacon/registry';
import { type InstanceEvent, watchInstances } from '@mcp-beacon/watcher';

export async function wire(home: string): Promise<void> {
  const paths: BeaconPaths = await ensurePaths(resolvePaths({ home }));
  await using registration = await register({
    paths,
    record: { pid: process.pid, path: home, port: 7778, name: 'consumer', has_package_json: false },
  });
  const read: ReadResult = await safeReadInstance(registration.file);
  if (read.ok) {
    const record: InstanceRecord = read.value;
    console.log(record.url);
  }
  await using watcher = watchInstances({ dir: paths.instances });
  watcher.on((event: InstanceEvent) => console.log(event.type));
  await using manager = createConnectionManager({ clientCapabilities: HUB_CLIENT_CAPABILITIES });
  manager.onClient((_client, info: ConnectionInfo) => console.log(info.record.name));
  await using hubServer = createHubServer({ manager, startup: watcher.ready });
  await hubServer.firstContact;
  console.log(hubServer.sessions().length, manager.list().length);
}

export type Apps = [Hub, Instance, typeof startHub, typeof startInstance];
