// Bodies and headers as the page proxy forwards them: hop-by-hop headers dropped, a body read
// within a bound, an HTML body decoded from its content encoding.
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';

/** Headers of one hop only, never forwarded (and `host`, which the proxy sets). */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
]);

/** A body decoded from its `content-encoding`, or undefined for an encoding not known here. */
export function decode(body: Buffer, encoding: string | undefined): Buffer | undefined {
  switch ((encoding ?? 'identity').trim().toLowerCase()) {
    case 'identity':
    case '':
      return body;
    case 'gzip':
    case 'x-gzip':
      return gunzipSync(body);
    case 'br':
      return brotliDecompressSync(body);
    case 'deflate':
      return inflateSync(body);
    default:
      return undefined;
  }
}

/** Reads a stream to its end, or undefined past `max` bytes. */
export async function readAll(
  stream: AsyncIterable<Buffer>,
  max: number,
): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of stream) {
    length += chunk.length;
    if (length > max) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** The end-to-end headers of `raw`: hop-by-hop ones and `host` left out. */
export function endToEnd(
  raw: Record<string, string | string[] | undefined>,
): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(raw))
    if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = value;
  return headers;
}
