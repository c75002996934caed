import type { ConnectionManager } from '@mcp-beacon/connection-manager';
import {
  HubError,
  type LaunchInstance,
  type RemoteSummary,
  type StartedInstance,
} from '@mcp-beacon/hub-mcp';
import { cleanText } from '@mcp-beacon/runtime';
import { RemoteLink } from './link.js';
import type { RemoteInfo, RemoteLinkOptions, RemoteSpec } from './types.js';

/** A remote as `instances_list` and `beacon-hub list --json` report it. */
export function remoteSummary(info: RemoteInfo): RemoteSummary {
  return {
    name: info.name,
    command: cleanText(info.command),
    state: info.state,
    reason: info.reason ?? null,
    instances: info.instances,
  };
}

/** Options of {@link createRemotes}. */
export interface RemotesOptions extends Omit<RemoteLinkOptions, 'spec' | 'manager' | 'onChange'> {
  specs: readonly RemoteSpec[];
  manager: ConnectionManager;
}

/** Every remote of a hub. */
export interface Remotes {
  /** Starts every remote's command (once; later calls do nothing). */
  start(): void;
  /** Decides they will not start (this hub serves another hub); waiters stop waiting. */
  skip(): void;
  list(): RemoteInfo[];
  /** The links themselves, in name order. */
  links(): RemoteLink[];
  /** Calls `listener` after any remote changes state or instance count. */
  onChange(listener: () => void): () => void;
  /**
   * Resolves once every remote has ended its first attempt, or at once when there are none or
   * they were skipped; before `start` or `skip`, it waits for one of them.
   */
  whenFirstAttemptsDone(): Promise<void>;
  /**
   * `instances_start` with remotes: `NAME:/path` starts the instance on remote NAME, as that
   * machine sees the path; anything else goes to `local`.
   */
  launcher(local: LaunchInstance): LaunchInstance;
  close(): Promise<void>;
}

/** The remotes of one hub (none is fine: every method then does nothing). */
export function createRemotes(options: RemotesOptions): Remotes {
  const listeners = new Set<() => void>();
  const changed = () => {
    for (const listener of listeners) {
      try {
        listener();
      } catch {
        // A listener's failure is its own.
      }
    }
  };
  const links = new Map<string, RemoteLink>();
  for (const spec of options.specs)
    links.set(spec.name, new RemoteLink({ ...options, spec, onChange: changed }));
  let started = false;
  let decide: () => void = () => undefined;
  const decided = new Promise<void>((resolve) => {
    decide = resolve;
  });
  if (links.size === 0) decide();

  const target = (folder: string) => {
    const match = /^([A-Za-z0-9][A-Za-z0-9_.-]{1,31}):(.+)$/.exec(folder);
    const link = match ? links.get(match[1]!) : undefined;
    return link && match ? { link, path: match[2]! } : undefined;
  };

  return {
    start() {
      if (started) return;
      started = true;
      decide();
      for (const link of links.values()) link.start();
    },
    skip() {
      if (started) return;
      links.clear();
      decide();
    },
    list: () => [...links.values()].map((link) => link.info()),
    links: () => [...links.values()],
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async whenFirstAttemptsDone() {
      await decided;
      await Promise.all([...links.values()].map((link) => link.firstAttemptEnded));
    },
    launcher(local) {
      if (links.size === 0) return local;
      return async (folder, launchOptions): Promise<StartedInstance> => {
        const remote = target(folder);
        if (!remote) return local(folder, launchOptions);
        try {
          return await remote.link.startInstance(remote.path, launchOptions);
        } catch (error) {
          if (error instanceof HubError) throw error;
          throw new HubError(
            'START_FAILED',
            `cannot start ${cleanText(remote.path)} on ${remote.link.name}: ${cleanText((error as Error).message)}`,
            { cause: error },
          );
        }
      };
    },
    async close() {
      listeners.clear();
      await Promise.all([...links.values()].map((link) => link.close()));
    },
  };
}
