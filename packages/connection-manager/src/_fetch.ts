// The `fetch` given to the SDK's streamable-HTTP transport: undici's, on one Agent of the
// manager's (connections reused, at most 64 per origin), with every answer read within a bound.
// A JSON body, or one event of an event stream, past `maxLength` bytes ends its response while
// it is read: nothing more of it is taken, and the request fails.
import type { FetchLike } from '@modelcontextprotocol/client';
import type { Agent, fetch as undiciFetch } from 'undici';
import { loadUndici } from './_undici.js';
import { ConnectionError } from './errors.js';

/** Options of {@link boundedFetch}. */
export interface BoundedFetchOptions {
  /** Longest JSON body or event taken, in bytes. */
  maxLength: number;
  /** The connection pool, asked for at each request (made when the first is). */
  agent: () => Promise<Agent>;
  /** Sent with every request (the record's bearer token). */
  token?: string | undefined;
}

/** Where the last blank line (an event's end) in `chunk` ends, or -1 without one. */
function lastEventEnd(chunk: Uint8Array): number {
  for (let i = chunk.length - 1; i > 0; i--) {
    if (chunk[i] !== 10 && chunk[i] !== 13) continue;
    const prev = chunk[i - 1];
    // LF LF, CR CR, or CR LF CR LF (its last two checked as LF after CR LF).
    if (prev === chunk[i] || (chunk[i] === 10 && prev === 13 && chunk[i - 2] === 10)) return i + 1;
  }
  return -1;
}

/** `response` with its body cut once a message passes `maxLength` bytes. */
function bounded(response: Response, maxLength: number, url: string): Response {
  if (!response.body) return response;
  const stream = (response.headers.get('content-type') ?? '').includes('text/event-stream');
  let size = 0;
  const limit = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      size += chunk.byteLength;
      if (stream) {
        const end = lastEventEnd(chunk);
        if (end >= 0) size = chunk.byteLength - end;
      }
      if (size > maxLength)
        controller.error(
          new ConnectionError(
            'TOO_LARGE',
            `a message from ${url} passed ${maxLength} bytes; its response was closed`,
          ),
        );
      else controller.enqueue(chunk);
    },
  });
  return new Response(response.body.pipeThrough(limit), {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
}

/** The pool of a manager's 2026-07-28 servers: connections reused, at most 64 per origin. */
export const modernAgent = async (): Promise<Agent> =>
  new (await loadUndici()).Agent({ connections: 64, pipelining: 1 });

/** A `fetch` on undici whose answers are read within {@link BoundedFetchOptions.maxLength}. */
export function boundedFetch(options: BoundedFetchOptions): FetchLike {
  return async (input, init) => {
    const [{ fetch }, agent] = await Promise.all([loadUndici(), options.agent()]);
    const headers = new Headers(init?.headers);
    if (options.token !== undefined) headers.set('authorization', `Bearer ${options.token}`);
    const url = String(input);
    const response = await fetch(url, {
      ...(init as object),
      headers: Object.fromEntries(headers.entries()),
      dispatcher: agent,
    } as unknown as Parameters<typeof undiciFetch>[1]);
    return bounded(response as unknown as Response, options.maxLength, url);
  };
}
