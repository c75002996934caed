// One recovery of an expired session: what a renewed session must be told again (the
// `initialize` parameters, the log level and the resource subscriptions of the session it
// replaces), and the renewal itself, shared by every request that met the 404.
import type { JSONRPCMessage } from '@modelcontextprotocol/client';
import type { DirectAnswer } from './_direct-calls.js';
import { ConnectionError } from './errors.js';

/** Bound of each request that renews an expired session, in ms. */
const RENEW_TIMEOUT_MS = 10_000;

/** How a renewal reaches the server, outside the wait for itself. */
export interface RenewalWire {
  url: string;
  /** The current session id, which a renewal clears. */
  session: () => string | undefined;
  forget: () => void;
  request: (
    method: string,
    params: Record<string, unknown>,
    timeoutMs: number,
  ) => Promise<DirectAnswer>;
  notify: (method: string) => Promise<void>;
}

/** Notes the messages sent on a session, and renews it when the server forgot it. */
export class SessionRenewal {
  /** The renewal under way, which other requests wait for. */
  renewing: Promise<void> | undefined;
  /** Sessions renewed so far. */
  renewals = 0;

  constructor(private readonly wire: RenewalWire) {}

  /** The first session's `initialize` parameters (undefined: never initialized). */
  initializeParams: Record<string, unknown> | undefined;
  private readonly subscriptions = new Set<string>();
  private logLevel: string | undefined;

  /** Notes one message sent to the server. */
  sent(message: JSONRPCMessage & { method: string }): void {
    const params = (message as { params?: Record<string, unknown> }).params ?? {};
    if (message.method === 'initialize') this.initializeParams = params;
    else if (message.method === 'logging/setLevel' && typeof params.level === 'string')
      this.logLevel = params.level;
    else if (message.method === 'resources/subscribe' && typeof params.uri === 'string')
      this.subscriptions.add(params.uri);
    else if (message.method === 'resources/unsubscribe' && typeof params.uri === 'string')
      this.subscriptions.delete(params.uri);
  }

  /** The requests that restore the session's state, in order: log level, then subscriptions. */
  private replay(): Array<{ method: string; params: Record<string, unknown> }> {
    return [
      ...(this.logLevel === undefined
        ? []
        : [{ method: 'logging/setLevel', params: { level: this.logLevel } }]),
      ...[...this.subscriptions].map((uri) => ({ method: 'resources/subscribe', params: { uri } })),
    ];
  }

  /**
   * Renews the session once after a 404 for session `stale` (shared by every request that met
   * it): a fresh `initialize` with the first one's parameters, `notifications/initialized`,
   * then the log level and subscriptions of the old session.
   * @throws {ConnectionError} `HTTP_STATUS` when the transport never initialized, or the
   *   renewal's own failure.
   */
  renew(stale: string): Promise<void> {
    if (this.renewing) return this.renewing;
    const { wire } = this;
    if (wire.session() !== stale) return Promise.resolve();
    this.renewing = (async () => {
      const params = this.initializeParams;
      if (params === undefined)
        throw new ConnectionError('HTTP_STATUS', `${wire.url} does not know the session`, {
          status: 404,
        });
      wire.forget();
      this.renewals++;
      const answer = await wire.request('initialize', params, RENEW_TIMEOUT_MS);
      if ('error' in answer)
        throw new ConnectionError(
          'HTTP_STATUS',
          `${wire.url} refused a new session: ${answer.error.message}`,
          { status: 404 },
        );
      await wire.notify('notifications/initialized');
      for (const { method, params: p } of this.replay())
        await wire.request(method, p, RENEW_TIMEOUT_MS).catch(() => undefined);
    })().finally(() => {
      this.renewing = undefined;
    });
    return this.renewing;
  }
}
