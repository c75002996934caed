// The HTTP side of one MCP session: every request to the instance's URL carries the session id,
// the negotiated protocol version and the bearer token; the session ends with a `DELETE`.
import { type HttpResponse, UndiciPool } from './_undici.js';
import { ConnectionError } from './errors.js';

/** Options of one {@link SessionWire.exchange}. */
export interface ExchangeOptions {
  body?: string;
  accept?: string;
  /** Longest wait without a byte, in ms. */
  timeoutMs?: number;
  signal?: AbortSignal | undefined;
  extraHeaders?: Record<string, string>;
}

/** Requests of one session to one MCP endpoint, on one undici pool. */
export class SessionWire {
  /** The session the server gave (`mcp-session-id`), once it did. */
  sessionId: string | undefined;
  /** The protocol version negotiated at `initialize` (`mcp-protocol-version`). */
  protocolVersion: string | undefined;
  private readonly pool: UndiciPool;
  /** The request target: path and query of the URL. */
  private readonly path: string;
  private closed = false;

  constructor(
    readonly url: URL,
    private readonly token: string | undefined,
  ) {
    this.path = `${url.pathname}${url.search}`;
    this.pool = new UndiciPool(url.origin);
  }

  /**
   * One HTTP request; resolves with the response head (the body is the caller's to read).
   * @throws {ConnectionError} `CLOSED` once closed; the pool's errors otherwise.
   */
  async exchange(
    method: 'POST' | 'GET' | 'DELETE',
    options: ExchangeOptions,
  ): Promise<HttpResponse> {
    const headers: Record<string, string> = { ...options.extraHeaders };
    if (options.accept) headers.accept = options.accept;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    if (this.sessionId !== undefined) headers['mcp-session-id'] = this.sessionId;
    if (this.protocolVersion !== undefined) headers['mcp-protocol-version'] = this.protocolVersion;
    if (this.token !== undefined) headers.authorization = `Bearer ${this.token}`;
    try {
      return await this.pool.request({
        method,
        path: this.path,
        headers,
        body: options.body,
        idleTimeoutMs: options.timeoutMs,
        signal: options.signal,
      });
    } catch (error) {
      if (this.closed) throw new ConnectionError('CLOSED', 'transport is closed');
      throw error;
    }
  }

  /** Ends the session on the server (`DELETE`), best effort, within `timeoutMs`; never throws. */
  async endSession(timeoutMs: number): Promise<void> {
    if (this.sessionId === undefined || this.closed) return;
    try {
      const response = await this.exchange('DELETE', { timeoutMs });
      response.discard();
    } catch {
      // Best effort: the server expires sessions on its own.
    }
    this.sessionId = undefined;
  }

  close(): void {
    this.closed = true;
    this.pool.close();
  }
}
