// Which instance a call means: by the `instance` a caller names, or, for a grouped tool, by the
// client's roots and by who offers the tool. Never by who came first.

import {
  type ConnectionInfo,
  type InstanceLocation,
  isLocal,
  sameMachine,
} from '@mcp-beacon/connection-manager';
import { cleanText } from '@mcp-beacon/runtime';
import { byStart } from '../catalog/group.js';
import { HubError } from '../errors.js';
import type { SliceInfo, ToolGroup } from '../types.js';
import { folderKey, holds } from './folders.js';
import { instanceLabel, parseFolderQuery } from './location.js';

/** Instances listed by name in a message before the rest are counted. */
const NAMED_IN_MESSAGES = 10;

/** What matching an `instance` argument needs besides the instances. */
export interface MatchContext {
  /** Slugs by instance id. */
  slugs: ReadonlyMap<string, string>;
  /** The comparison key of a local folder (after realpath once known). */
  folderKey: (path: string) => string;
  /**
   * The remotes this hub has: `<remote>/...` names and `<remote>:/path` folders are theirs
   * (asked for only when an `instance` argument is matched).
   */
  remotes(): ReadonlySet<string>;
}

/** True for a local record named like a remote's instance (`devbox/web` with remote devbox). */
function posesAsRemote(info: ConnectionInfo, remotes: ReadonlySet<string>): boolean {
  const slash = info.record.name.indexOf('/');
  return isLocal(info.location) && slash > 0 && remotes.has(info.record.name.slice(0, slash));
}

/**
 * The instances `query` names, by the first rule that matches any: exact name, exact id, exact
 * project folder (`/path` on this machine, `devbox:/path` on remote devbox), slug, then id
 * prefix. An exact name never loses to another's id prefix; a local instance never answers to a
 * remote's name (`devbox/web`) or a remote's folder, nor a remote instance to a local folder.
 */
export function matchInstances(
  all: readonly ConnectionInfo[],
  context: MatchContext,
  query: string,
): ConnectionInfo[] {
  const q = query.toLowerCase();
  const { slugs } = context;
  const remotes = context.remotes();
  const folder = parseFolderQuery(query, remotes);
  // A folder is compared on its own machine only: local keys resolve links, remote ones cannot.
  const keyOf = (location: InstanceLocation) =>
    isLocal(location) ? context.folderKey(location.path) : folderKey(location.path);
  const wanted = folder === undefined ? undefined : keyOf(folder);
  for (const rule of [
    (c: ConnectionInfo) => c.record.name === query && !posesAsRemote(c, remotes),
    (c: ConnectionInfo) => c.id === q,
    (c: ConnectionInfo) =>
      folder !== undefined && sameMachine(c.location, folder) && keyOf(c.location) === wanted,
    (c: ConnectionInfo) => slugs.get(c.id) === q,
    (c: ConnectionInfo) => q.length >= 4 && c.id.startsWith(q),
  ]) {
    const found = all.filter(rule);
    if (found.length > 0) return found;
  }
  return [];
}

const infoLabel = (c: ConnectionInfo) =>
  instanceLabel({
    name: cleanText(c.record.name),
    path: cleanText(c.record.path),
    location: c.location,
  });

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
  context: MatchContext,
  query: string,
): ConnectionInfo {
  const found = matchInstances(all, context, query);
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
  match: MatchContext;
  /** Keys ({@link MatchContext.folderKey}) of the client's root folders; undefined when unknown. */
  roots: readonly string[] | undefined;
  /** Key of the folder the client works in (its bridge's, or the hub's own), if known. */
  workingFolder?: string | undefined;
  /** What the view knows of an instance (its hub names, for a pointer to the right one). */
  slice(id: string): SliceInfo | undefined;
}

/**
 * The instance that runs a grouped tool call and its own name for the tool, or a message saying
 * why there is none.
 */
export type ChoiceResult = { ok: true; id: string; tool: string } | { ok: false; message: string };

const membersLabel = (members: readonly SliceInfo[]) =>
  some([...members].sort(byStart).map(instanceLabel));

/**
 * The member whose folder holds the client's roots: for each root, the offering local instance
 * with the deepest folder holding it. `undefined` when no root lies in a member's folder; an
 * array of candidates when the roots point at several (or a root at two of equal depth).
 */
function rootsChoice(
  members: readonly SliceInfo[],
  roots: readonly string[],
  folderKeyOf: (path: string) => string,
): SliceInfo | SliceInfo[] | undefined {
  // The client's roots are this machine's folders: a remote instance is never in one.
  const local = members
    .filter((m) => isLocal(m.location))
    .map((m) => ({ member: m, key: folderKeyOf(m.location.path) }));
  const picked = new Set<SliceInfo>();
  for (const root of roots) {
    const holding = local.filter((m) => holds(m.key, root));
    if (holding.length === 0) continue;
    const deepest = Math.max(...holding.map((m) => m.key.length));
    for (const m of holding) if (m.key.length === deepest) picked.add(m.member);
  }
  if (picked.size === 0) return undefined;
  const [only] = picked;
  return picked.size === 1 ? only : [...picked];
}

/**
 * Picks the instance for a grouped tool, by the client's intent: the one `instance` names, if
 * it offers a tool of this name; with `instance` omitted, the one offering it whose folder holds
 * the client's root (the deepest, when a root lies in several), else the one whose folder holds
 * the client's working folder (the deepest), else the only one offering it; otherwise none, and
 * the message lists the candidates.
 */
export function chooseInstance(choice: GroupChoice): ChoiceResult {
  const { group, instance } = choice;
  const members = [...group.members.values()];
  const pick = (member: SliceInfo): ChoiceResult => ({
    ok: true,
    id: member.id,
    tool: member.grouped.get(group.name) ?? group.name,
  });
  const offeredBy = () =>
    members.length > 0
      ? `${group.name} is offered by ${membersLabel(members)}`
      : `no running instance offers ${group.name} now (instances_list)`;
  if (instance !== undefined) {
    if (typeof instance !== 'string' || instance.length === 0)
      return { ok: false, message: `instance must be a name, id or folder; ${offeredBy()}` };
    const found = matchInstances(choice.all(), choice.match, instance);
    const offering = found.filter((c) => group.members.has(c.id));
    if (offering.length === 1) return pick(group.members.get(offering[0]!.id)!);
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
    // Its own tool of this name is namespaced (it has an `instance` argument of its own).
    const alias = other?.toolNames.get(group.name);
    return {
      ok: false,
      message: `${found.map(infoLabel).join(', ')} ${found.length === 1 ? 'does' : 'do'} not offer ${group.name}${alias ? ` under that name; its own is ${alias}` : ''}; ${offeredBy()}`,
    };
  }
  if (members.length === 0) return { ok: false, message: offeredBy() };
  const byRoots = choice.roots
    ? rootsChoice(members, choice.roots, choice.match.folderKey)
    : undefined;
  if (byRoots !== undefined && !Array.isArray(byRoots)) return pick(byRoots);
  // No root lies in a member: the project the client was started in, if one holds that folder.
  const byFolder =
    byRoots === undefined && choice.workingFolder !== undefined
      ? rootsChoice(members, [choice.workingFolder], choice.match.folderKey)
      : undefined;
  if (byFolder !== undefined && !Array.isArray(byFolder)) return pick(byFolder);
  if (byRoots === undefined && members.length === 1) return pick(members[0]!);
  return {
    ok: false,
    message: Array.isArray(byRoots)
      ? `${group.name}: your workspace roots lie in ${byRoots.length} instances offering it: ${membersLabel(byRoots)}; pass instance (a name, id or folder)`
      : `${group.name} is offered by ${members.length} instances: ${membersLabel(members)}; pass instance (a name, id or folder)`,
  };
}
