import { type Clock, systemClock } from '@mcp-beacon/runtime';
import {
  type McpServer,
  ProtocolError,
  ProtocolErrorCode,
  ResourceTemplate,
} from '@modelcontextprotocol/server';
import type { RunInfo, ScriptRunner } from './scripts.js';

/** Options of {@link registerLogResources}. */
export interface LogResourceOptions {
  /** Least time between two `resources/updated` of one resource, in ms (default 250). */
  throttleMs?: number;
  /** Subscriptions one session may hold (default 64). */
  maxSubscriptions?: number;
  clock?: Clock;
}

const PREFIX = 'logs://';

/** The resource URI of a run's output. */
export const logsUri = (runId: string): string => `${PREFIX}${runId}`;

const runOf = (uri: string): string | undefined =>
  uri.startsWith(PREFIX) ? uri.slice(PREFIX.length) : undefined;

function describeRun(run: RunInfo) {
  return {
    uri: logsUri(run.id),
    name: run.id,
    // No state here: a client (or the hub) may keep this listing long after the run ends.
    title: `${run.script} (${run.id})`,
    description: `Output of \`${run.command}\`, started ${run.started}`,
    mimeType: 'text/plain',
  };
}

/**
 * Offers each kept run's output as the text resource `logs://<run id>` on one session's
 * server: listed, readable, and subscribable. A subscribed resource gets
 * `notifications/resources/updated` as lines arrive, at most one per `throttleMs`, and a last
 * one after the final burst. Subscriptions end with the session. Returns the cleanup.
 */
export function registerLogResources(
  server: McpServer,
  runner: ScriptRunner,
  options: LogResourceOptions = {},
): () => void {
  const clock = options.clock ?? systemClock;
  const throttleMs = options.throttleMs ?? 250;
  const maxSubscriptions = options.maxSubscriptions ?? 64;

  server.server.registerCapabilities({ resources: { subscribe: true, listChanged: true } });
  server.registerResource(
    'logs',
    new ResourceTemplate(`${PREFIX}{run}`, {
      list: async () => ({ resources: runner.list().reverse().map(describeRun) }),
    }),
    {
      title: 'Script output',
      description: 'The kept output lines of a script run, oldest first',
      mimeType: 'text/plain',
    },
    async (uri, { run }) => {
      const id = String(run);
      try {
        const { lines } = runner.logs({ run: id });
        return {
          contents: [
            { uri: uri.href, mimeType: 'text/plain', text: lines.map((l) => l.text).join('\n') },
          ],
        };
      } catch (error) {
        throw new ProtocolError(ProtocolErrorCode.InvalidParams, (error as Error).message);
      }
    },
  );

  /** The subscribed runs. */
  const subscribed = new Set<string>();
  const updates = throttledUpdates(clock, throttleMs, (id) => {
    server.server.sendResourceUpdated({ uri: logsUri(id) }).catch(() => undefined);
  });
  // Listens to the runner only while something is subscribed, so a session that never
  // subscribes holds nothing.
  let offLine: (() => void) | undefined;
  const onLine = ({ run }: { run: string }) => {
    if (subscribed.has(run)) updates.line(run);
  };

  server.server.setRequestHandler('resources/subscribe', async ({ params }) => {
    const id = runOf(params.uri);
    if (id === undefined || !runner.list().some((r) => r.id === id))
      throw new ProtocolError(
        ProtocolErrorCode.InvalidParams,
        `no resource ${params.uri}; resources/list shows the kept runs as logs://<run id>`,
      );
    if (!subscribed.has(id)) {
      if (subscribed.size >= maxSubscriptions)
        throw new ProtocolError(
          ProtocolErrorCode.InvalidRequest,
          `this session already holds ${maxSubscriptions} subscriptions; unsubscribe first`,
        );
      subscribed.add(id);
      offLine ??= runner.onLine(onLine);
    }
    return {};
  });
  server.server.setRequestHandler('resources/unsubscribe', async ({ params }) => {
    const id = runOf(params.uri);
    if (id !== undefined && subscribed.has(id)) {
      updates.drop(id);
      subscribed.delete(id);
      if (subscribed.size === 0) {
        offLine?.();
        offLine = undefined;
      }
    }
    return {};
  });

  return () => {
    offLine?.();
    offLine = undefined;
    updates.clear();
    subscribed.clear();
  };
}

/** Where {@link publishLogUpdates} tells of changes: the 2026-07-28 listen streams. */
export interface LogUpdateSink {
  resourceUpdated(uri: string): void;
  /** False while nobody listens: nothing is published then. */
  listening(): boolean;
}

/**
 * Tells 2026-07-28 listeners of new lines in each run's log, at most one update per run per
 * `throttleMs` (the listen stream delivers it only to those who named that log). Returns the
 * function that stops it.
 */
export function publishLogUpdates(
  runner: ScriptRunner,
  sink: LogUpdateSink,
  options: LogResourceOptions = {},
): () => void {
  const updates = throttledUpdates(options.clock ?? systemClock, options.throttleMs ?? 250, (run) =>
    sink.resourceUpdated(logsUri(run)),
  );
  const off = runner.onLine(({ run }) => {
    if (sink.listening()) updates.line(run);
  });
  return () => {
    off();
    updates.clear();
  };
}

/**
 * Updates of runs' logs, throttled per run: the first line of a burst is told at once, then at
 * most one update every `throttleMs` while lines keep coming, and one after the last of them.
 */
function throttledUpdates(clock: Clock, throttleMs: number, send: (run: string) => void) {
  /** Runs told within the last `throttleMs`: whether lines came since, and the timer. */
  const recent = new Map<string, { dirty: boolean; timer: unknown }>();
  const fire = (run: string) => {
    const entry = recent.get(run);
    if (!entry?.dirty) {
      recent.delete(run);
      return;
    }
    entry.dirty = false;
    send(run);
    entry.timer = clock.setTimeout(() => fire(run), throttleMs);
  };
  return {
    /** A line of `run` arrived. */
    line(run: string) {
      const entry = recent.get(run);
      if (entry) entry.dirty = true;
      else {
        recent.set(run, { dirty: true, timer: undefined });
        fire(run);
      }
    },
    /** Nothing more is told of `run` (until its next line). */
    drop(run: string) {
      clock.clearTimeout(recent.get(run)?.timer);
      recent.delete(run);
    },
    clear() {
      for (const entry of recent.values()) clock.clearTimeout(entry.timer);
      recent.clear();
    },
  };
}
