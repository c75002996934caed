import { type Clock, cleanText } from '@mcp-beacon/runtime';
import { HubError } from '../errors.js';
import type { LaunchInstance } from '../handlers/hub-tools.js';
import type { ClientRoots } from './client-roots.js';

/** Roots started per pass; a client naming more gets the first ones and a log line. */
export const MAX_ROOTS = 32;

/** Starts an instance in each of the client's roots; one pass at a time. */
export interface RootStarter {
  /** Runs a pass now, or once more after the running one; resolves when that pass ends. */
  sync(): Promise<void>;
  /** The first pass, for the first list to wait on: resolves when it ends or after `boundMs`. */
  firstPass(clock: Clock, boundMs: number): Promise<void>;
  /** Clears the bound's timer. */
  close(): void;
}

/**
 * For `--start-roots`: asks the client for its roots and starts an instance in every
 * `file://` root that holds a package.json and has no live instance. Only the folders the
 * client names are touched; a root without package.json is skipped quietly.
 */
export function createRootStarter(
  roots: ClientRoots,
  start: LaunchInstance,
  log: (message: string) => void,
): RootStarter {
  let running: Promise<void> | undefined;
  let again: Promise<void> | undefined;

  const pass = async () => {
    const folders = (await roots.folders()) ?? [];
    if (folders.length > MAX_ROOTS)
      log(`the client named ${folders.length} roots; starting instances in the first ${MAX_ROOTS}`);
    await Promise.all(
      folders.slice(0, MAX_ROOTS).map((folder) =>
        start(folder, {}).then(
          ({ started, info }) => {
            if (started) log(`started ${cleanText(info.record.name)} in root ${cleanText(folder)}`);
          },
          (error: Error) => {
            if (!(error instanceof HubError && error.code === 'NOT_A_PROJECT'))
              log(`cannot start an instance in root ${cleanText(folder)}: ${error.message}`);
          },
        ),
      ),
    );
  };

  const sync = (): Promise<void> => {
    if (!running) {
      running = pass().finally(() => {
        running = undefined;
      });
      return running;
    }
    // A change arrived during a pass: one more pass after it covers every change so far.
    again ??= running.then(() => {
      again = undefined;
      return sync();
    });
    return again;
  };
  let bound: { clock: Clock; timer: unknown } | undefined;
  const firstPass = (clock: Clock, boundMs: number) =>
    Promise.race([
      sync(),
      new Promise<void>((resolve) => {
        bound = { clock, timer: clock.setTimeout(resolve, boundMs) };
      }),
    ]).then(() => close());
  const close = () => {
    if (bound) bound.clock.clearTimeout(bound.timer);
    bound = undefined;
  };
  return { sync, firstPass, close };
}
