import { createHash } from 'node:crypto';
import type { ConnectionManager } from '@mcp-beacon/connection-manager';
import type { InstanceRecord } from '@mcp-beacon/registry';
import { type Clock, cleanText } from '@mcp-beacon/runtime';
import * as v from 'valibot';
import { MAX_REMOTE_INSTANCES, type RemoteInstance, RemoteInstanceSchema } from './protocol.js';
import { type ChannelHost, TunnelTransport } from './tunnel.js';

/**
 * The local id of a remote instance: a UUID v4 shape derived from the remote's name and the
 * instance's id there, so it is stable across reconnects and no remote can choose an id that
 * collides with a local instance or another remote's.
 */
export function remoteInstanceId(remote: string, id: string): string {
  const h = createHash('sha256').update(`${remote}\0${id}`).digest('hex');
  const variant = ((Number.parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/**
 * The local record of a remote instance: named under its remote (`devbox/web`), with its
 * pid, port, path and URL as that machine sees them (the URL is never dialled from here).
 */
export function localRecord(
  remote: string,
  instance: RemoteInstance,
  id: string,
  lastSeen: string,
): InstanceRecord {
  return {
    id,
    pid: instance.pid,
    path: instance.path,
    port: instance.port,
    started: instance.started,
    name: `${remote}/${cleanText(instance.name)}`,
    has_package_json: instance.has_package_json,
    last_seen: lastSeen,
    url: `http://127.0.0.1:${instance.port}/mcp`,
    ...(instance.version === undefined ? {} : { version: instance.version }),
  };
}

/** What {@link RemoteInstances} needs. */
export interface RemoteInstancesOptions {
  remote: string;
  manager: ConnectionManager;
  /** Where the added instances' channels open. */
  host: ChannelHost;
  clock: Clock;
  /** False: keep the descriptions only, add nothing to the manager (`beacon-hub list`). */
  addToManager: boolean;
  onChange: () => void;
  log?: (message: string) => void;
}

/**
 * One remote's instances, as its hub describes them, and (with `addToManager`) added to the
 * local manager as routed records named `<remote>/<name>`. An instance is added once the remote reaches it
 * (one still connecting there would only fail its first attempt here) and stays until the
 * remote removes it or the link drops; at most {@link MAX_REMOTE_INSTANCES} are kept.
 */
export class RemoteInstances {
  /** Remote id -> local id, for the instances known now. */
  private readonly ids = new Map<string, string>();
  /** Remote id -> the instance as the remote last described it. */
  private readonly described = new Map<string, RemoteInstance>();
  /** Remote ids of the instances added to the local manager. */
  private readonly added = new Set<string>();
  /** Rejected descriptions already reported. */
  private readonly reported = new Set<string>();

  constructor(private readonly options: RemoteInstancesOptions) {}

  /** The local ids of the instances added to the manager. */
  localIds(): string[] {
    return [...this.added].map((remoteId) => this.ids.get(remoteId)!);
  }

  get size(): number {
    return this.ids.size;
  }

  /** The instances as the remote last described them, with their local ids. */
  instances(): Array<RemoteInstance & { localId: string }> {
    return [...this.described.values()].map((instance) => ({
      ...instance,
      localId: this.ids.get(instance.id)!,
    }));
  }

  /** The whole list, as `beacon/instances` answers it: what is missing from it is gone. */
  replaceAll(list: readonly unknown[]): void {
    const seen = new Set<string>();
    for (const item of list) {
      const instance = this.parse(item);
      if (!instance.success || instance.output.state === 'removed') continue;
      if (this.show(instance.output) !== undefined) seen.add(instance.output.id);
    }
    for (const remoteId of [...this.ids.keys()])
      if (!seen.has(remoteId)) this.hide(remoteId, 'gone from the remote');
  }

  /** One `notifications/beacon/instance`. */
  change(params: { id: string; removed: true } | { instance: unknown }): void {
    if ('removed' in params) {
      this.hide(params.id, 'removed on the remote');
      return;
    }
    const instance = this.parse(params.instance);
    if (!instance.success) return;
    if (instance.output.state === 'removed') {
      this.hide(instance.output.id, 'removed on the remote');
      return;
    }
    // A connection here that is retrying or dead tries again at once on this fresh record
    // (the manager's rule for a rewritten record), without waiting for its backoff.
    this.show(instance.output);
  }

  /**
   * An instance as the remote described it, validated once, here, with the local record's
   * rules; a rejected one is reported (once per id and reason, at most
   * {@link MAX_REMOTE_INSTANCES} reports kept) and not used at all.
   */
  private parse(item: unknown) {
    const parsed = v.safeParse(RemoteInstanceSchema, item);
    if (!parsed.success) {
      const issue = parsed.issues[0];
      const where = issue.path?.map((p) => String(p.key)).join('.') ?? '';
      const raw = (item as { id?: unknown } | undefined)?.id;
      const id = typeof raw === 'string' ? cleanText(raw.slice(0, 64)) : '(no id)';
      const said = `${id} ${where}: ${issue.message}`;
      if (!this.reported.has(said) && this.reported.size < MAX_REMOTE_INSTANCES) {
        this.reported.add(said);
        this.options.log?.(
          `remote ${this.options.remote}: ignoring instance ${id}: ${where ? `${where}: ` : ''}${cleanText(issue.message.slice(0, 200))}`,
        );
      }
    }
    return parsed;
  }

  /** Shows (or updates) a remote instance; its local id (undefined past the bound). */
  show(instance: RemoteInstance): string | undefined {
    const { remote, manager } = this.options;
    let id = this.ids.get(instance.id);
    if (id === undefined) {
      if (this.ids.size >= MAX_REMOTE_INSTANCES) {
        this.options.log?.(
          `remote ${remote}: more than ${MAX_REMOTE_INSTANCES} instances; ${cleanText(instance.name)} is not shown`,
        );
        return undefined;
      }
      id = remoteInstanceId(remote, instance.id);
      this.ids.set(instance.id, id);
    }
    this.described.set(instance.id, instance);
    const known = this.added.has(instance.id);
    if (!this.options.addToManager || (!known && instance.state !== 'active')) {
      this.options.onChange();
      return id;
    }
    this.added.add(instance.id);
    const record = localRecord(
      remote,
      instance,
      id,
      new Date(this.options.clock.now()).toISOString(),
    );
    const remoteId = instance.id;
    manager.upsert(record, {
      remote,
      createTransport: () => new TunnelTransport(this.options.host, remoteId),
    });
    this.options.onChange();
    return id;
  }

  hide(remoteId: string, why: string): void {
    const id = this.ids.get(remoteId);
    if (id === undefined) return;
    this.ids.delete(remoteId);
    this.described.delete(remoteId);
    if (this.added.delete(remoteId))
      void this.options.manager.remove(id, `remote ${this.options.remote}: ${why}`);
    this.options.onChange();
  }

  /** The link dropped: every instance leaves the lists. */
  hideAll(why: string): void {
    this.reported.clear();
    for (const remoteId of [...this.ids.keys()]) this.hide(remoteId, why);
  }
}
