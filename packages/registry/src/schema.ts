import { isLoopbackHost } from '@mcp-beacon/runtime';
import * as v from 'valibot';

/** Current record format version written by this package. */
export const RECORD_VERSION = 1;

/** Largest record file a reader accepts, in bytes. */
export const MAX_RECORD_BYTES = 64 * 1024;

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

/** True for a UUID version 4 string such as `crypto.randomUUID()` returns. */
export function isUuidV4(value: string): boolean {
  return UUID_V4.test(value);
}

/**
 * True when `value` is an `http:` URL on a loopback host (127.0.0.0/8, `[::1]`, `localhost`)
 * without credentials: the only URLs the hub will ever connect to.
 */
export function isLoopbackHttpUrl(value: string): boolean {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  if (url.protocol !== 'http:' || url.username !== '' || url.password !== '') return false;
  // WHATWG URL already normalises numeric IPv4 forms (e.g. 2130706433) to dotted quads.
  return isLoopbackHost(url.hostname);
}

const isoTimestamp = v.pipe(v.string(), v.isoTimestamp('must be an ISO 8601 timestamp'));

/**
 * The on-disk instance record. Fields of the seed format are required; `url`, `token` and
 * `version` are optional. Unknown fields are dropped so newer writers stay readable.
 */
export const InstanceRecordSchema = v.object({
  id: v.pipe(v.string(), v.check(isUuidV4, 'id must be a UUID v4')),
  pid: v.pipe(v.number(), v.safeInteger(), v.minValue(1, 'pid must be a positive integer')),
  path: v.pipe(v.string(), v.minLength(1), v.maxLength(4096)),
  port: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(65535, 'port must be 1-65535')),
  started: isoTimestamp,
  name: v.pipe(v.string(), v.minLength(1), v.maxLength(256)),
  has_package_json: v.boolean(),
  last_seen: isoTimestamp,
  url: v.optional(
    v.pipe(
      v.string(),
      v.maxLength(2048),
      v.check(isLoopbackHttpUrl, 'url must be http on a loopback address'),
    ),
  ),
  token: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(512))),
  version: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1))),
});

/** A record as written to disk (`url`, `token`, `version` optional). */
export type InstanceRecordInput = v.InferInput<typeof InstanceRecordSchema>;

/** A validated record, with `url` always filled in (`http://127.0.0.1:<port>/mcp` by default). */
export type InstanceRecord = v.InferOutput<typeof InstanceRecordSchema> & { url: string };

/** The URL a record points at: its `url`, else the seed format's `http://127.0.0.1:<port>/mcp`. */
export function recordUrl(record: Pick<InstanceRecordInput, 'port' | 'url'>): string {
  return record.url ?? `http://127.0.0.1:${record.port}/mcp`;
}

/**
 * Validates `data` as an instance record; the tagged result carries every issue as one message.
 */
export function parseRecord(
  data: unknown,
): { ok: true; value: InstanceRecord } | { ok: false; message: string } {
  const result = v.safeParse(InstanceRecordSchema, data);
  if (!result.success) {
    const message = result.issues
      .map((issue) => {
        const key = v.getDotPath(issue);
        return key ? `${key}: ${issue.message}` : issue.message;
      })
      .join('; ');
    return { ok: false, message };
  }
  return { ok: true, value: { ...result.output, url: recordUrl(result.output) } };
}
