// Which instance a call means: by the `instance` a caller names, or, for a grouped tool, by the
// client's roots and by who offers the tool.

import type { ConnectionInfo } from '@mcp-beacon/connection-manager';
import { cleanText } from '@mcp-beacon/registry';
import { byStart, type SliceInfo, type ToolGroup } from './_view.js';
import { HubError } from './errors.js';

/** Instances listed by name in a message before the rest are counted. */
const NAMED_IN_MESSAGES = 10;

/** A folder path without trailing separators (a root stays `/` or `C:\`), for comparisons. */
function normalize(folder: string): string {
  const trimmed = folder.replace(/[\\/]+$/, '');
  return trimmed === '' || /^[A-Za-z]:$/.test(trimmed) ? folder : trimmed;
}

/** True when `folder` is `inner` or one of its ancestors (strings only; nothing is read). */
export function holds(folder: string, inner: string): boolean {
  const outer = normalize(folder);
  const path = normalize(inner);
  if (path === outer) return true;
  const sep = outer.endsWith('/') || outer.endsWith('\\') ? '' : outer.includes('\\') ? '\\' : '/';
  return path.startsWith(outer + sep);
}

/**
 * The instances `query` names, by the first rule that matches any: exact name, exact id, exact
 * project folder, slug, then id prefix. An exact name never loses to another's id prefix.
 */
export function matchInstances(
  all: readonly ConnectionInfo[],
  slugs: ReadonlyMap<string, string>,
  query: string,
): ConnectionInfo[] {
  const q = query.toLowerCase();
  const folder = normalize(query);
  for (const rule of [
    (c: ConnectionInfo) => c.record.name === query,
    (c: ConnectionInfo) => c.id === q,
    (c: ConnectionInfo) => normalize(c.record.path) === folder,
    (c: ConnectionInfo) => slugs.get(c.id) === q,
    (c: ConnectionInfo) => q.length >= 4 && c.id.startsWith(q),
  ]) {
    const found = all.filter(rule);
    if (found.length > 0) return found;
  }
  return [];
}

const label = (c: { name: string; path: string }) => `${c.name} (${c.path})`;
const infoLabel = (c: ConnectionInfo) =>
  label({ name: cleanText(c.record.name), path: cleanText(c.record.path) });

/** `a (path), b (path) and 3 more`, for messages. */
function some(labels: readonly string[]): string {
  const named = labels.slice(0, NAMED_IN_MESSAGES);
  const more = labels.length - named.length;
  return `${named.join(', ')}${more > 0 ? ` and ${more} more (instances_list)` : ''}`;
}

/**
 * Finds one instance by name, id, folder, slug or unambiguous id prefix (see
 * {@link matchInstances}).
 * @throws {HubError} `UNKNOWN_INSTANCE` or `AMBIGUOUS_INSTANCE` (listing the candidates).
 */
export function resolveInstance(
  all: readonly ConnectionInfo[],
  slugs: ReadonlyMap<string, string>,
  query: string,
): ConnectionInfo {
  const found = matchInstances(all, slugs, query);
  if (found.length === 1) return found[0]!;
  if (found.length > 1)
    throw new HubError(
      'AMBIGUOUS_INSTANCE',
      `${JSON.stringify(cleanText(query))} matches ${found.length} instances: ${some(found.map((c) => `${infoLabel(c)} id ${c.id}`))}; use an id`,
    );
  throw new HubError(
    'UNKNOWN_INSTANCE',
    `no instance matches ${JSON.stringify(cleanText(query))}; known: ${some(all.map(infoLabel)) || '(none)'}`,
  );
}

/** What choosing an instance for a grouped tool needs. */
export interface GroupChoice {
  group: ToolGroup;
  /** The `instance` argument as the caller sent it (undefined when omitted). */
  instance: unknown;
  /** Every instance the hub knows (asked for only when `instance` is given). */
  all: () => readonly ConnectionInfo[];
  slugs: ReadonlyMap<string, string>;
  /** The client's root folders; undefined when it has none or they are not known. */
  roots: readonly string[] | undefined;
  /** What the view knows of an instance (its hub names, for a pointer to the right one). */
  slice(id: string): SliceInfo | undefined;
}

/** The instance that runs a grouped tool call, or a message saying why there is none. */
export type ChoiceResult = { ok: true; id: string } | { ok: false; message: string };

const membersLabel = (group: ToolGroup) =>
  some([...group.members.values()].sort(byStart).map(label));

/**
 * Picks the instance for a grouped tool: the one `instance` names, if it offers this
 * definition; with `instance` omitted, the one offering it whose folder holds one of the
 * client's roots (the deepest such folder, when one root lies in several), else the only one
 * offering it.
 */
export function chooseInstance(choice: GroupChoice): ChoiceResult {
  const { group, instance } = choice;
  const offeredBy = () =>
    group.members.size > 0
      ? `${group.name} is offered by ${membersLabel(group)}`
      : `no running instance offers ${group.name} now (instances_list)`;
  if (instance !== undefined) {
    if (typeof instance !== 'string' || instance.length === 0)
      return { ok: false, message: `instance must be a name, id or folder; ${offeredBy()}` };
    const found = matchInstances(choice.all(), choice.slugs, instance);
    const offering = found.filter((c) => group.members.has(c.id));
    if (offering.length === 1) return { ok: true, id: offering[0]!.id };
    if (offering.length > 1)
      return {
        ok: false,
        message: `${JSON.stringify(cleanText(instance))} matches ${offering.length} instances offering ${group.name}: ${some(offering.map((c) => `${infoLabel(c)} id ${c.id}`))}; use an id`,
      };
    if (found.length === 0)
      return {
        ok: false,
        message: `no instance matches ${JSON.stringify(cleanText(instance))}; ${offeredBy()}`,
      };
    const [first] = found;
    if (found.length === 1 && first && first.state !== 'active')
      return {
        ok: false,
        message: `${infoLabel(first)} is ${first.state}${first.reason ? `: ${cleanText(first.reason)}` : ''}; ${offeredBy()}`,
      };
    const other = found.length === 1 && first ? choice.slice(first.id) : undefined;
    const elsewhere = other?.toolNames.get(group.own);
    return {
      ok: false,
      message: `${found.map(infoLabel).join(', ')} ${found.length === 1 ? 'does' : 'do'} not offer this ${group.name}${elsewhere ? `; its own is listed as ${elsewhere}` : ''}; ${offeredBy()}`,
    };
  }
  const members = [...group.members.values()];
  if (members.length === 1) return { ok: true, id: members[0]!.id };
  if (members.length === 0) return { ok: false, message: offeredBy() };
  const picked = new Set<SliceInfo>();
  for (const root of choice.roots ?? []) {
    // The client's roots are this machine's folders: a remote instance is never in one.
    const holding = members.filter((m) => m.via === undefined && holds(m.path, root));
    const deepest = Math.max(...holding.map((m) => m.path.length));
    const best = holding.filter((m) => m.path.length === deepest);
    if (best.length === 1) picked.add(best[0]!);
  }
  if (picked.size === 1) return { ok: true, id: [...picked][0]!.id };
  return {
    ok: false,
    message: `${group.name} is offered by ${members.length} instances${picked.size > 1 ? ' (and your workspace roots lie in several)' : ''}: ${membersLabel(group)}; pass instance (a name, id or folder)`,
  };
}
