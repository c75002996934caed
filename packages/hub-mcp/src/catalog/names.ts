import { createHash } from 'node:crypto';
import type { InstanceLocation } from '@mcp-beacon/connection-manager';
import { cleanText } from '@mcp-beacon/runtime';
import { formatLocation, locationIdentity } from '../routing/location.js';

/**
 * Longest tool or prompt name the hub lists by default: a client that calls the tool
 * `mcp__<server>__<name>` stays within the 64 characters Claude's API allows for a server name
 * of up to 9 characters.
 */
export const DEFAULT_MAX_NAME_LENGTH = 48;
/** Shortest `maxNameLength` accepted: room for a readable start and a hash. */
export const MIN_NAME_LENGTH = 24;
/** Separates an instance's slug from its own tool or prompt name. */
export const SEPARATOR = '__';
/** Longest slug; a longer one keeps its start and gets a hash of the whole. */
const SLUG_MAX = 24;
const HASH_LENGTH = 6;
const NAME_CHARSET = /^[A-Za-z0-9_.-]+$/;
/** Slugs an instance can never have, so nothing it names itself reads as the hub. */
const RESERVED_SLUGS: ReadonlySet<string> = new Set(['beacon', 'beacon-hub', 'hub', 'instances']);

const shortHash = (text: string, length = HASH_LENGTH) =>
  createHash('sha256').update(text).digest('hex').slice(0, length);

/** `text` cut to `max` characters: its start, `_` and a hash of the whole (stable, unique). */
function shorten(text: string, max: number): string {
  if (text.length <= max) return text;
  const start = text.slice(0, Math.max(1, max - HASH_LENGTH - 1)).replace(/[_.-]+$/, '');
  return `${start}_${shortHash(text)}`;
}

/**
 * `name` reduced to the slug charset `[a-z0-9_-]`, at most 24 characters: a longer one keeps its
 * start and ends in a hash of the whole (`acme-corporation_4f1c2e`).
 */
export function baseSlug(name: string): string {
  const slug = name
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '_')
    .replace(/_+/g, '_')
    .replace(/^[_-]+|[_-]+$/g, '');
  return slug.length > 0 ? shorten(slug, SLUG_MAX) : 'instance';
}

/** Last folder name of a POSIX or Windows path (string only: the file system is never read). */
function folderName(path: string): string {
  const parts = path.split(/[\\/]+/).filter(Boolean);
  return parts.at(-1) ?? '';
}

/** Separates a remote's part from its instance's part in a slug: no local slug has one. */
const REMOTE_SLUG_SEPARATOR = '.';
/** Longest remote part and longest instance part of a remote instance's slug. */
const REMOTE_PART_MAX = 11;
const INSTANCE_PART_MAX = 12;

/**
 * The base slug of a remote instance: `<remote>.<name>` (`devbox.web`), each part reduced like
 * {@link baseSlug} and kept short enough that the dot survives any shortening. A local slug never
 * holds a dot, so no local project can take a remote instance's slug, whatever it is named.
 */
export function remoteSlug(remote: string, name: string): string {
  const inner = name.startsWith(`${remote}/`) ? name.slice(remote.length + 1) : name;
  return `${shorten(baseSlug(remote), REMOTE_PART_MAX)}${REMOTE_SLUG_SEPARATOR}${shorten(baseSlug(inner), INSTANCE_PART_MAX)}`;
}

/** What the slug rules need to know about an instance. */
export interface SlugSubject {
  id: string;
  name: string;
  /** Its project folder; the parent folder's name tells same-named projects apart. */
  path: string;
  /** The remote it runs on (undefined: this machine). */
  remote?: string | undefined;
}

/** Most slugs kept retired for the folder that held them; the oldest is freed first. */
export const MAX_RETIRED_SLUGS = 1_000;

/** Who held a retired slug, for messages. */
export interface RetiredSlug {
  name: string;
  location: InstanceLocation;
}

/** `web (/path), which has left the hub`: who held a retired slug, for error messages. */
export const departed = (who: RetiredSlug) =>
  `${cleanText(who.name)} (${cleanText(formatLocation(who.location))}), which has left the hub`;

/**
 * Slugs that stay put: an instance keeps the slug it was first given for as long as it lives in
 * this hub, so a name the client was shown keeps routing to it. The first of several same-named
 * instances gets the plain slug; a later one gets a suffix a person recognises (its project's
 * parent folder, e.g. `web_client-a`), else the first 6 characters of its id. A slug in use or
 * reserved for the hub (`beacon`, `beacon-hub`, `hub`, `instances`) is never handed out,
 * whatever a record names itself. When an instance leaves, its slug stays retired for its
 * location (machine and folder): the project restarting there takes it back, another project
 * does not get it (so `web__scripts_run` or `ui://web/...` never reach a newcomer), for the
 * last {@link MAX_RETIRED_SLUGS} departures.
 */
export class SlugBook {
  private readonly byId = new Map<string, string>();
  private readonly bySlug = new Map<string, string>();
  /** Live instance id -> the identity of its location, and who it is. */
  private readonly held = new Map<string, { identity: string; who: RetiredSlug }>();
  /** Retired slug -> the identity of the location that held it, oldest first. */
  private readonly retired = new Map<string, { identity: string; who: RetiredSlug }>();

  /** The instance's slug, assigned now if it has none. */
  assign(subject: SlugSubject): string {
    const existing = this.byId.get(subject.id);
    if (existing !== undefined) return existing;
    const { remote, path } = subject;
    const location: InstanceLocation =
      remote === undefined ? { kind: 'local', path } : { kind: 'remote', remote, path };
    const identity = locationIdentity(location);
    const base =
      subject.remote === undefined
        ? baseSlug(subject.name)
        : remoteSlug(subject.remote, subject.name);
    const parent = folderName(subject.path.replace(/[\\/]+[^\\/]*[\\/]*$/, ''));
    const id6 = subject.id.replace(/-/g, '').slice(0, 6);
    const candidates = [
      base,
      ...(parent ? [`${base}_${baseSlug(parent)}`] : []),
      `${base}_${id6}`,
    ].map((c) => shorten(c, SLUG_MAX));
    const free = (c: string) =>
      !this.bySlug.has(c) &&
      !RESERVED_SLUGS.has(c) &&
      (this.retired.get(c)?.identity ?? identity) === identity;
    let slug = candidates.find(free);
    for (let n = 2; slug === undefined; n++) {
      const next = shorten(`${base}_${id6}_${n}`, SLUG_MAX);
      if (free(next)) slug = next;
    }
    this.retired.delete(slug);
    this.byId.set(subject.id, slug);
    this.bySlug.set(slug, subject.id);
    this.held.set(subject.id, { identity, who: { name: subject.name, location } });
    return slug;
  }

  /** The instance is gone from the hub: its slug is retired for its location. */
  release(id: string): void {
    const slug = this.byId.get(id);
    if (slug === undefined) return;
    this.byId.delete(id);
    this.bySlug.delete(slug);
    const held = this.held.get(id)!;
    this.held.delete(id);
    this.retired.set(slug, held);
    if (this.retired.size > MAX_RETIRED_SLUGS)
      this.retired.delete(this.retired.keys().next().value as string);
  }

  /** The slug of an instance, if it has one. */
  slugOf(id: string): string | undefined {
    return this.byId.get(id);
  }

  /** The instance a slug belongs to, if any. */
  idOf(slug: string): string | undefined {
    return this.bySlug.get(slug);
  }

  /** Who last held a slug no live instance holds, while it is retired. */
  retiredHolder(slug: string): RetiredSlug | undefined {
    return this.bySlug.has(slug) ? undefined : this.retired.get(slug)?.who;
  }

  /** Every assigned slug, by instance id. */
  all(): ReadonlyMap<string, string> {
    return this.byId;
  }

  /** How many slugs are live and retired (bounded by {@link MAX_RETIRED_SLUGS}). */
  counts(): { live: number; retired: number } {
    return { live: this.byId.size, retired: this.retired.size };
  }
}

/**
 * An instance's own tool or prompt name made valid for MCP (`[A-Za-z0-9_.-]`): other characters
 * become `_` and a hash of the original is appended, so two names never map to one.
 */
export function safeName(name: string): string {
  if (NAME_CHARSET.test(name)) return name;
  const cleaned = name.replace(/[^A-Za-z0-9_.-]/g, '_').replace(/_+/g, '_');
  return `${cleaned}_${shortHash(name)}`;
}

/** An instance tool's own name as a hub name: valid ({@link safeName}), at most `max` characters. */
export function plainName(name: string, max = DEFAULT_MAX_NAME_LENGTH): string {
  const safe = safeName(name);
  return safe.length <= max ? safe : shorten(safe, max);
}

/**
 * `<slug>__<name>` with `name` made valid ({@link safeName}) and, when the whole would pass `max`
 * characters, shortened to its start plus a hash (the slug is kept whole when it fits, else cut
 * too; the `__` always stays, so a hub-made name never reads as an instance's plain name).
 */
export function qualifiedName(slug: string, name: string, max = DEFAULT_MAX_NAME_LENGTH): string {
  const prefix = `${slug}${SEPARATOR}`;
  const safe = safeName(name);
  if (prefix.length + safe.length <= max) return prefix + safe;
  const room = max - prefix.length;
  if (room >= HASH_LENGTH + 4)
    return `${prefix}${safe.slice(0, room - HASH_LENGTH - 1)}_${shortHash(name)}`;
  const hash = shortHash(`${slug}${SEPARATOR}${name}`);
  const keep = Math.max(1, max - SEPARATOR.length - HASH_LENGTH - 4);
  return `${slug.slice(0, keep).replace(/[_.-]+$/, '') || 'i'}${SEPARATOR}${safe.slice(0, 3)}_${hash}`;
}

const URI_PREFIX = 'beacon://';
const UI_PREFIX = 'ui://';

/**
 * The hub-side URI of an instance resource: `beacon://<slug>/<original uri>`, except an MCP Apps
 * UI resource (`ui://...`), which stays a `ui://` URI, made unique per instance:
 * `ui://<slug>/<rest>`.
 */
export function proxiedUri(slug: string, uri: string): string {
  if (uri.startsWith(UI_PREFIX)) return `${UI_PREFIX}${slug}/${uri.slice(UI_PREFIX.length)}`;
  return `${URI_PREFIX}${slug}/${uri}`;
}

/** Splits a hub-side URI into slug and original URI, or `undefined` if it is not one. */
export function parseProxiedUri(uri: string): { slug: string; uri: string } | undefined {
  const ui = uri.startsWith(UI_PREFIX);
  if (!ui && !uri.startsWith(URI_PREFIX)) return undefined;
  const rest = uri.slice((ui ? UI_PREFIX : URI_PREFIX).length);
  const slash = rest.indexOf('/');
  if (slash <= 0) return undefined;
  const inner = rest.slice(slash + 1);
  return { slug: rest.slice(0, slash), uri: ui ? `${UI_PREFIX}${inner}` : inner };
}
