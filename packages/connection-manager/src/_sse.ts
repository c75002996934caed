// Reading a server-sent event stream of JSON-RPC messages, within a size bound, on
// eventsource-parser: `data`, `id` and `retry` fields, LF, CRLF and CR line ends.

import { createParser } from 'eventsource-parser';
import type { HttpResponse } from './_undici.js';

/** What {@link readEventStream} reports while it reads. */
export interface EventStreamHandlers {
  /** One event's data (multi-line data joined with `\n`); empty data is not reported. */
  onData(data: string): void;
  /** The last event id the server set (for `Last-Event-ID` on a reopen). */
  onId?(id: string): void;
  /** The server's reconnection time, in ms. */
  onRetry?(ms: number): void;
}

/**
 * Reads an SSE body until it ends or fails; resolves then (never rejects), with the reason
 * when the stream was cut because an event grew over `maxLength` characters (the response is
 * aborted at that point, before the event is held whole).
 */
export async function readEventStream(
  response: HttpResponse,
  maxLength: number,
  handlers: EventStreamHandlers,
): Promise<string | undefined> {
  let cut: string | undefined;
  const parser = createParser({
    onEvent: (event) => {
      if (event.id !== undefined) handlers.onId?.(event.id);
      // A server may prime resumption with an id and empty data: no message.
      if (event.data.trim() !== '') handlers.onData(event.data);
    },
    onRetry: (ms) => handlers.onRetry?.(ms),
    onError: (error) => {
      if (error.type !== 'max-buffer-size-exceeded') return;
      cut = `the instance sent an event over ${maxLength} characters; its stream was closed`;
      response.abort();
    },
    maxBufferSize: maxLength,
  });
  await response
    .read((chunk) => {
      if (cut === undefined) parser.feed(chunk);
    })
    .catch(() => undefined);
  if (cut !== undefined) return cut;
  // The last event of a stream that ends without a blank line is dispatched, as before.
  parser.feed('\n\n');
  return undefined;
}

/**
 * The whole body as text, or `undefined` once it passes `maxLength` characters (the response
 * is aborted then, so the rest is never read).
 * @throws the read's error when the connection fails first.
 */
export async function readBodyText(
  response: HttpResponse,
  maxLength: number,
): Promise<string | undefined> {
  const pieces: string[] = [];
  let length = 0;
  let over = false;
  await response
    .read((chunk) => {
      if (over) return;
      length += chunk.length;
      if (length > maxLength) {
        over = true;
        response.abort();
      } else pieces.push(chunk);
    })
    .catch((error: unknown) => {
      if (!over) throw error;
    });
  return over ? undefined : pieces.join('');
}
