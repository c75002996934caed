import { systemClock } from '@mcp-beacon/runtime';
import {
  type McpServer,
  ProtocolError,
  ProtocolErrorCode,
  ResourceTemplate,
} from '@modelcontextprotocol/server';
import { type LogResourceOptions, logsUri, PREFIX, throttledUpdates } from './_log-updates.js';
import type { RunInfo, ScriptRunner } from './scripts.js';

export {
  type LogResourceOptions,
  type LogUpdateSink,
  logsUri,
  publishLogUpdates,
} from './_log-updates.js';

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
