import { createHash } from 'node:crypto';

/** Longest tool or prompt name the hub exposes (MCP clients commonly cap names at 128). */
export const MAX_NAME_LENGTH = 128;
/** Separates an instance's slug from its own tool or prompt name. */
export const SEPARATOR = '__';
const SLUG_MAX = 40;
const NAME_CHARSET = /^[A-Za-z0-9_.-]+$/;

const shortHash = (text: string, length = 8) =>
  createHash('sha256').update(text).digest('hex').slice(0, length);

/** `name` reduced to the MCP tool-name charset `[A-Za-z0-9_-]`, lower case, at most 40 chars. */
export function baseSlug(name: string): string {
  const slug = name
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '_')
    .replace(/_+/g, '_')
    .replace(/^[_-]+|[_-]+$/g, '')
    .slice(0, SLUG_MAX);
  return slug.length > 0 ? slug : 'instance';
}

/** Last folder name of a POSIX or Windows path (string only: the file system is never read). */
function folderName(path: string): string {
  const parts = path.split(/[\\/]+/).filter(Boolean);
  return parts.at(-1) ?? '';
}

/** What the slug rules need to know about an instance. */
export interface SlugSubject {
  id: string;
  name: string;
  /** Its project folder; the parent folder's name tells same-named projects apart. */
  path: string;
}

/**
 * Slugs that stay put: an instance keeps the slug it was first given for as long as it lives in
 * this hub, so a name the client was shown keeps routing to it. The first of several same-named
 * instances gets the plain slug; a later one gets a suffix a person recognises (its project's
 * parent folder, e.g. `web_client-a`), else the first 6 characters of its id. A slug in use is
 * never handed to anyone else, whatever a record names itself.
 */
export class SlugBook {
  private readonly byId = new Map<string, string>();
  private readonly bySlug = new Map<string, string>();

  /** The instance's slug, assigned now if it has none. */
  assign(subject: SlugSubject): string {
    const existing = this.byId.get(subject.id);
    if (existing !== undefined) return existing;
    const base = baseSlug(subject.name);
    const parent = folderName(subject.path.replace(/[\\/]+[^\\/]*[\\/]*$/, ''));
    const id6 = subject.id.replace(/-/g, '').slice(0, 6);
    const candidates = [base, ...(parent ? [`${base}_${baseSlug(parent)}`] : []), `${base}_${id6}`];
    let slug = candidates.find((c) => !this.bySlug.has(c));
    for (let n = 2; slug === undefined; n++) {
      const next = `${base}_${id6}_${n}`;
      if (!this.bySlug.has(next)) slug = next;
    }
    this.byId.set(subject.id, slug);
    this.bySlug.set(slug, subject.id);
    return slug;
  }

  /** The instance is gone from the hub: its slug is free again. */
  release(id: string): void {
    const slug = this.byId.get(id);
    if (slug === undefined) return;
    this.byId.delete(id);
    this.bySlug.delete(slug);
  }

  slugOf(id: string): string | undefined {
    return this.byId.get(id);
  }

  idOf(slug: string): string | undefined {
    return this.bySlug.get(slug);
  }

  /** Every assigned slug, by instance id. */
  all(): ReadonlyMap<string, string> {
    return this.byId;
  }
}

/**
 * An instance's own tool or prompt name made valid for MCP (`[A-Za-z0-9_.-]`): other characters
 * become `_` and a hash of the original is appended, so two names never map to one.
 */
export function safeName(name: string): string {
  if (NAME_CHARSET.test(name)) return name;
  const cleaned = name.replace(/[^A-Za-z0-9_.-]/g, '_').replace(/_+/g, '_');
  return `${cleaned}_${shortHash(name, 6)}`;
}

/**
 * `<slug>__<name>` with `name` made valid ({@link safeName}), shortened with a stable hash when it
 * would pass {@link MAX_NAME_LENGTH}.
 */
export function qualifiedName(slug: string, name: string): string {
  const full = `${slug}${SEPARATOR}${safeName(name)}`;
  if (full.length <= MAX_NAME_LENGTH) return full;
  return `${full.slice(0, MAX_NAME_LENGTH - 9)}_${shortHash(name)}`;
}

const URI_PREFIX = 'beacon://';

/** The hub-side URI of an instance resource: `beacon://<slug>/<original uri>`. */
export function proxiedUri(slug: string, uri: string): string {
  return `${URI_PREFIX}${slug}/${uri}`;
}

/** Splits a hub-side URI into slug and original URI, or `undefined` if it is not one. */
export function parseProxiedUri(uri: string): { slug: string; uri: string } | undefined {
  if (!uri.startsWith(URI_PREFIX)) return undefined;
  const rest = uri.slice(URI_PREFIX.length);
  const slash = rest.indexOf('/');
  if (slash <= 0) return undefined;
  return { slug: rest.slice(0, slash), uri: rest.slice(slash + 1) };
}
