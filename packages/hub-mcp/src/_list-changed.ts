import type { Clock } from '@mcp-beacon/registry';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { HubView, ViewSignature } from './_view.js';

/** Sends the client `list_changed` notifications, at most once per debounce period. */
export interface ListNotifier {
  /** Something changed: a notification follows after the debounce period if a list differs. */
  changed(): void;
  /** The client was just sent a list of this kind: that is what it has seen now. */
  shown(kind: keyof ViewSignature): void;
  close(): void;
}

/**
 * Creates the notifier. It keeps what the client has been shown, by a list or by a
 * notification, and notifies whenever the current lists differ from it: a burst that ends where
 * it began sends nothing, and a change the client already listed is never silently undone.
 */
export function createListNotifier(options: {
  server: Server;
  view: HubView;
  clock: Clock;
  debounceMs: number;
  log: (message: string) => void;
}): ListNotifier {
  const { server, view, clock } = options;
  const seen: ViewSignature = { ...view.signature() };
  let timer: unknown;
  const send: Record<keyof ViewSignature, () => Promise<void>> = {
    tools: () => server.sendToolListChanged(),
    resources: () => server.sendResourceListChanged(),
    prompts: () => server.sendPromptListChanged(),
  };
  const flush = () => {
    timer = undefined;
    const now = view.signature();
    for (const kind of ['tools', 'resources', 'prompts'] as const) {
      if (now[kind] === seen[kind]) continue;
      seen[kind] = now[kind];
      if (server.transport === undefined) continue;
      send[kind]().catch((error: Error) =>
        options.log(`cannot send list_changed: ${error.message}`),
      );
    }
  };
  return {
    changed() {
      if (timer !== undefined) clock.clearTimeout(timer);
      timer = clock.setTimeout(flush, options.debounceMs);
    },
    shown(kind) {
      seen[kind] = view.signature()[kind];
    },
    close() {
      if (timer !== undefined) clock.clearTimeout(timer);
      timer = undefined;
    },
  };
}
