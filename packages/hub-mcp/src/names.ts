import { createHash } from 'node:crypto';

/** Longest tool or prompt name the hub exposes (MCP clients commonly cap names at 128). */
export const MAX_NAME_LENGTH = 128;
/** Separates an instance's slug from its own tool or prompt name. */
export const SEPARATOR = '__';
const SLUG_MAX = 40;

/** An instance as the naming rules see it. */
export interface Nameable {
  id: string;
  name: string;
}

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

/**
 * A unique slug per instance: its base slug, plus `_<first 6 id chars>` for every instance whose
 * base slug collides with another's (so neither wins by arrival order).
 */
export function assignSlugs(instances: readonly Nameable[]): Map<string, string> {
  const byBase = new Map<string, Nameable[]>();
  for (const instance of instances) {
    const base = baseSlug(instance.name);
    byBase.set(base, [...(byBase.get(base) ?? []), instance]);
  }
  const slugs = new Map<string, string>();
  for (const [base, group] of byBase) {
    for (const instance of group) {
      slugs.set(
        instance.id,
        group.length === 1 ? base : `${base}_${instance.id.replace(/-/g, '').slice(0, 6)}`,
      );
    }
  }
  return slugs;
}

/** `<slug>__<name>`, shortened with a stable hash when it would pass {@link MAX_NAME_LENGTH}. */
export function qualifiedName(slug: string, name: string): string {
  const full = `${slug}${SEPARATOR}${name}`;
  if (full.length <= MAX_NAME_LENGTH) return full;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 8);
  return `${full.slice(0, MAX_NAME_LENGTH - 9)}_${hash}`;
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
