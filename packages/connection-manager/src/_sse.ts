// Reading answers within a size bound: a server-sent event stream of JSON-RPC messages (on
// eventsource-parser: `data`, `id` and `retry` fields, LF, CRLF and CR line ends), a JSON
// body, and the text of a refusal.

import { createParser } from 'eventsource-parser';
import type { HttpResponse } from './_undici.js';
import { ConnectionError } from './errors.js';

/** What {@link readEventStream} reports while it reads. */
export interface EventStreamHandlers {
  /** One event's data (multi-line data joined with `\n`); empty data is not reported. */
  onData(data: string): void;
  /** The last event id the server set (for `Last-Event-ID` on a reopen). */
  onId?(id: string): void;
  /** The server's reconnection time, in ms. */
  onRetry?(ms: number): void;
}

/** How much of a message is read before it is cut. */
export interface MessageBounds {
  /** Characters of one message (an SSE event, or a whole JSON body). */
  maxLength: number;
  /**
   * Objects and arrays (`{` and `[` characters, strings included) in the whole response: what
   * `JSON.parse` pays for, so a dense message cannot hold the event loop (default: no bound).
   */
  maxValues?: number | undefined;
}

/** Counts `{` and `[` in a piece of text. */
function countValues(text: string): number {
  let n = 0;
  for (let i = text.indexOf('{'); i >= 0; i = text.indexOf('{', i + 1)) n++;
  for (let i = text.indexOf('['); i >= 0; i = text.indexOf('[', i + 1)) n++;
  return n;
}

/** A counter of `{`/`[` against `maxValues`: true once the bound is passed. */
function valueBudget(maxValues: number | undefined): (chunk: string) => boolean {
  if (maxValues === undefined) return () => false;
  let seen = 0;
  return (chunk) => {
    seen += countValues(chunk);
    return seen > maxValues;
  };
}

/**
 * Reads an SSE body until it ends or fails; resolves then (never rejects), with the reason
 * when the stream was cut because an event grew over `maxLength` characters or the stream
 * over `maxValues` objects (the response is aborted at that point, before it is held whole).
 */
export async function readEventStream(
  response: HttpResponse,
  bounds: MessageBounds,
  handlers: EventStreamHandlers,
): Promise<string | undefined> {
  const { maxLength } = bounds;
  const over = valueBudget(bounds.maxValues);
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
      if (cut !== undefined) return;
      if (over(chunk)) {
        cut = `the instance sent over ${bounds.maxValues} objects and arrays; its stream was closed`;
        response.abort();
      } else parser.feed(chunk);
    })
    .catch(() => undefined);
  if (cut !== undefined) return cut;
  // The last event of a stream that ends without a blank line is dispatched, as before.
  parser.feed('\n\n');
  return undefined;
}

/**
 * The whole body as text, or the reason it was cut once it passed its bounds (the response is
 * aborted then, so the rest is never read).
 * @throws the read's error when the connection fails first.
 */
export async function readBodyText(
  response: HttpResponse,
  bounds: MessageBounds,
): Promise<{ text: string } | { cut: string }> {
  const pieces: string[] = [];
  const tooDense = valueBudget(bounds.maxValues);
  let length = 0;
  let cut: string | undefined;
  await response
    .read((chunk) => {
      if (cut !== undefined) return;
      length += chunk.length;
      if (length > bounds.maxLength)
        cut = `the instance sent a body over ${bounds.maxLength} characters; it was closed`;
      else if (tooDense(chunk))
        cut = `the instance sent over ${bounds.maxValues} objects and arrays; it was closed`;
      if (cut === undefined) pieces.push(chunk);
      else response.abort();
    })
    .catch((error: unknown) => {
      if (cut === undefined) throw error;
    });
  return cut === undefined ? { text: pieces.join('') } : { cut };
}

/**
 * A JSON body's messages (an array is a batch).
 * @throws {ConnectionError} `TOO_LARGE` past its bounds, `NOT_MCP` when it is not JSON; the
 *   read's error when the connection fails first.
 */
export async function readBodyJson(
  response: HttpResponse,
  bounds: MessageBounds,
  url: string,
): Promise<unknown[]> {
  const read = await readBodyText(response, bounds);
  if ('cut' in read) throw new ConnectionError('TOO_LARGE', read.cut);
  let parsed: unknown;
  try {
    parsed = JSON.parse(read.text);
  } catch {
    throw new ConnectionError('NOT_MCP', `not JSON from ${url}: ${read.text.slice(0, 200)}`);
  }
  return Array.isArray(parsed) ? parsed : [parsed];
}

/** The error for a response whose status refuses the request, with the start of its body. */
export async function refusal(response: HttpResponse, url: string): Promise<ConnectionError> {
  const read = await readBodyText(response, { maxLength: 4_096 }).catch(() => undefined);
  const full = read && 'text' in read ? read.text.trim() : '';
  const text = full.slice(0, 200);
  if (offersOnlyModern(full))
    return new ConnectionError('MODERN_ONLY', `${url} speaks MCP 2026-07-28 only: ${text}`, {
      status: response.status,
    });
  return new ConnectionError(
    'HTTP_STATUS',
    `${url} refused the request${text ? `: ${text}` : ''}`,
    {
      status: response.status,
    },
  );
}

/**
 * True for the answer of a server that refuses 2025's `initialize` and names 2026-07-28 among
 * what it supports (JSON-RPC error -32022, `data.supported`).
 */
function offersOnlyModern(body: string): boolean {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return false;
  }
  const error = (parsed as { error?: { code?: unknown; data?: { supported?: unknown } } })?.error;
  const supported = error?.data?.supported;
  return error?.code === -32022 && Array.isArray(supported) && supported.includes('2026-07-28');
}
