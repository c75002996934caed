import type { ConnectionManager } from '@mcp-beacon/connection-manager';
import type { InstanceEvent, InstanceWatcher } from '@mcp-beacon/watcher';

/**
 * Feeds the watcher's records to the connection manager: an added or rewritten record is
 * upserted, a removed one removed; invalid files go to `onInvalid`. Returns the unsubscribe.
 */
export function followRecords(
  watcher: InstanceWatcher,
  manager: ConnectionManager,
  onInvalid: (event: Extract<InstanceEvent, { type: 'invalid' }>) => void,
): () => void {
  return watcher.on((event) => {
    switch (event.type) {
      case 'added':
      case 'updated':
        manager.upsert(event.record);
        break;
      case 'removed':
        void manager.remove(event.id);
        break;
      case 'invalid':
        onInvalid(event);
        break;
    }
  });
}
