import type { InstanceRecord, RegistryErrorCode } from '@mcp-beacon/registry';

/** What the watcher knows of one file name. */
export type FileState =
  | { kind: 'valid'; record: InstanceRecord; json: string }
  | { kind: 'invalid'; reason: RegistryErrorCode; message: string };

/** One change in the instances directory. */
export type InstanceEvent =
  | { type: 'added'; id: string; file: string; record: InstanceRecord }
  | { type: 'updated'; id: string; file: string; record: InstanceRecord; previous: InstanceRecord }
  | { type: 'removed'; id: string; file: string; previous: InstanceRecord }
  | { type: 'invalid'; file: string; reason: RegistryErrorCode; message: string };

/**
 * The events that take a consumer who last saw `before` to `after`: none when nothing it can
 * observe changed, so rewrites with identical content and repeated identical rejections are
 * reported once.
 */
export function diffState(
  file: string,
  before: FileState | undefined,
  after: FileState | undefined,
): InstanceEvent[] {
  const events: InstanceEvent[] = [];
  if (before?.kind === 'valid') {
    if (after?.kind === 'valid') {
      if (after.json !== before.json) {
        events.push({
          type: 'updated',
          id: after.record.id,
          file,
          record: after.record,
          previous: before.record,
        });
      }
      return events;
    }
    events.push({ type: 'removed', id: before.record.id, file, previous: before.record });
  }
  if (after?.kind === 'valid') {
    events.push({ type: 'added', id: after.record.id, file, record: after.record });
  } else if (
    after?.kind === 'invalid' &&
    (before?.kind !== 'invalid' ||
      before.reason !== after.reason ||
      before.message !== after.message)
  ) {
    events.push({ type: 'invalid', file, reason: after.reason, message: after.message });
  }
  return events;
}
