// Bodies and headers as the page proxy forwards them: hop-by-hop headers dropped, a body read
// within a bound, an HTML body decoded from its content encoding within a bound too.
import { promisify } from 'node:util';
import { brotliDecompress, gunzip, inflate } from 'node:zlib';

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

type Inflate = (
  body: Buffer,
  options: { maxOutputLength: number; chunkSize: number },
) => Promise<Buffer>;
const INFLATERS = new Map<string, Inflate>([
  ['gzip', promisify(gunzip)],
  ['x-gzip', promisify(gunzip)],
  ['deflate', promisify(inflate)],
  ['br', promisify(brotliDecompress)],
]);

/** Why {@link decode} gave no body. */
export type DecodeFailure =
  /** An encoding not read here (or several, such as `gzip, br`). */
  | 'unknown-encoding'
  /** The body inflates past the bound it was given (a compression bomb, say). */
  | 'too-large'
  /** Not a valid stream of its encoding. */
  | 'corrupt';

/** What {@link decode} made of a body. */
export type Decoded = { ok: true; body: Buffer } | { ok: false; reason: DecodeFailure };

/**
 * A body decoded from its `content-encoding` (identity, gzip, deflate, br), at most `max`
 * bytes once decoded: a few KiB of gzip can inflate to gigabytes, so inflating stops within one
 * chunk (64 KiB) past `max` and answers `too-large`. Runs on the thread pool, never blocking the
 * event loop. Never throws.
 */
export async function decode(
  body: Buffer,
  encoding: string | undefined,
  max: number,
): Promise<Decoded> {
  const name = (encoding ?? 'identity').trim().toLowerCase();
  if (name === 'identity' || name === '')
    return body.length > max ? { ok: false, reason: 'too-large' } : { ok: true, body };
  const inflater = INFLATERS.get(name);
  if (inflater === undefined) return { ok: false, reason: 'unknown-encoding' };
  try {
    return { ok: true, body: await inflater(body, { maxOutputLength: max, chunkSize: 64 * 1024 }) };
  } catch (error) {
    const tooLarge = (error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE';
    return { ok: false, reason: tooLarge ? 'too-large' : 'corrupt' };
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
