import { describe, expect, it } from 'vitest';
import {
  baseSlug,
  DEFAULT_MAX_NAME_LENGTH,
  MAX_RETIRED_SLUGS,
  parseProxiedUri,
  plainName,
  proxiedUri,
  qualifiedName,
  remoteSlug,
  SlugBook,
  safeName,
} from './names.js';

const ID_A = 'aaaaaaaa-1111-4000-8000-000000000000';
const ID_B = 'bbbbbbbb-2222-4000-8000-000000000000';
const ID_C = 'cccccccc-3333-4000-8000-000000000000';
const ID_D = 'dddddddd-4444-4000-8000-000000000000';

describe('names', () => {
  it('reduces names to the tool-name charset', () => {
    expect(baseSlug('@acme/Web App!')).toBe('acme_web_app');
    expect(baseSlug('***')).toBe('instance');
    expect(baseSlug('x'.repeat(100))).toMatch(/^x{17}_[0-9a-f]{6}$/);
    expect(baseSlug('my-app_2')).toBe('my-app_2');
  });

  it('keeps the first slug; a later namesake gets its parent folder, then its id', () => {
    const book = new SlugBook();
    expect(book.assign({ id: ID_A, name: 'web', path: '/home/u/client-a/web' })).toBe('web');
    expect(book.assign({ id: ID_B, name: 'Web', path: '/home/u/client-b/web' })).toBe(
      'web_client-b',
    );
    expect(book.assign({ id: ID_C, name: 'web', path: '/home/u/client-b/web' })).toBe('web_cccccc');
    // Asking again never renames anyone.
    expect(book.assign({ id: ID_A, name: 'renamed', path: '/x' })).toBe('web');
    expect(book.idOf('web')).toBe(ID_A);
  });

  it('never hands out a slug in use, whatever a record calls itself', () => {
    const book = new SlugBook();
    book.assign({ id: ID_A, name: 'victim', path: '/a/victim' });
    book.assign({ id: ID_B, name: 'victim', path: '/b/victim' });
    expect(book.slugOf(ID_B)).toBe('victim_b');
    // A record named after the disambiguated slug does not take it over.
    const thief = book.assign({ id: ID_C, name: 'victim_b', path: '/b/x' });
    expect(thief).not.toBe('victim_b');
    expect(book.idOf('victim_b')).toBe(ID_B);
    expect(thief).toBe('victim_b_b');
    const fourth = book.assign({ id: ID_D, name: 'victim_b', path: '/b/x' });
    expect(fourth).toBe('victim_b_dddddd');
  });

  it('keeps a departed instance’s slug for its folder: the project back there gets it, no other', () => {
    const book = new SlugBook();
    book.assign({ id: ID_A, name: 'web', path: '/a/web' });
    book.release(ID_A);
    expect(book.slugOf(ID_A)).toBeUndefined();
    expect(book.retiredHolder('web')).toEqual({
      name: 'web',
      location: { kind: 'local', path: '/a/web' },
    });
    expect(book.assign({ id: ID_B, name: 'web', path: '/b/web' })).toBe('web_b');
    // The same project restarting in its folder (a new id) takes its slug back.
    expect(book.assign({ id: ID_C, name: 'web', path: '/a/web/' })).toBe('web');
    expect(book.retiredHolder('web')).toBeUndefined();
  });

  it('forgets the oldest retired slugs past its bound', () => {
    const book = new SlugBook();
    for (let i = 0; i <= MAX_RETIRED_SLUGS; i++) {
      const id = `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
      book.assign({ id, name: `p${i}`, path: `/w/p${i}` });
      book.release(id);
    }
    expect(book.counts()).toEqual({ live: 0, retired: MAX_RETIRED_SLUGS });
    expect(book.retiredHolder('p0')).toBeUndefined();
    expect(book.retiredHolder('p1')).toBeDefined();
  });

  it('gives remote instances dotted slugs that no local project can take', () => {
    const book = new SlugBook();
    const local = book.assign({ id: ID_A, name: '@devbox/web', path: '/home/me/web' });
    const remote = book.assign({
      id: ID_B,
      name: 'devbox/web',
      path: '/srv/web',
      remote: 'devbox',
    });
    expect(local).toBe('devbox_web');
    expect(remote).toBe('devbox.web');
    expect(remoteSlug('a-very-long-remote-name', 'a-very-long-project-name')).toMatch(
      /^a-ve_[0-9a-f]{6}\.a-ver_[0-9a-f]{6}$/,
    );
    for (const name of ['devbox.web', 'x.y', 'a..b']) expect(baseSlug(name)).not.toContain('.');
  });

  it('maps tool names outside the MCP charset to valid, distinct ones', () => {
    expect(safeName('scripts_run')).toBe('scripts_run');
    expect(safeName('a.b-c')).toBe('a.b-c');
    const slash = safeName('fs/read');
    const colon = safeName('fs:read');
    expect(slash).toMatch(/^fs_read_[0-9a-f]{6}$/);
    expect(colon).toMatch(/^fs_read_[0-9a-f]{6}$/);
    expect(slash).not.toBe(colon);
    expect(qualifiedName('web', 'über tool')).toMatch(/^web__[A-Za-z0-9_.-]+$/);
  });

  it('shortens a long package name to a readable, stable slug', () => {
    const slug = baseSlug('@acme-corporation/customer-portal-frontend-application');
    expect(slug).toMatch(/^acme-corporation_[0-9a-f]{6}$/);
    expect(baseSlug('@acme-corporation/customer-portal-frontend-application')).toBe(slug);
    expect(baseSlug('@acme-corporation/customer-portal-backend-application')).not.toBe(slug);
    const book = new SlugBook();
    const first = book.assign({
      id: ID_A,
      name: '@acme-corporation/customer-portal-frontend-application',
      path: '/a/x',
    });
    const second = book.assign({
      id: ID_B,
      name: '@acme-corporation/customer-portal-frontend-application',
      path: '/b/x',
    });
    expect(first).toBe(slug);
    expect(second).not.toBe(first);
    for (const s of [first, second]) {
      expect(s.length).toBeLessThanOrEqual(24);
      // mcp__beacon__<slug>__<tool> within Claude's 64 characters.
      expect(`mcp__beacon__${qualifiedName(s, 'scripts_restart')}`.length).toBeLessThanOrEqual(64);
    }
  });

  it('never gives an instance a slug reserved for the hub', () => {
    const book = new SlugBook();
    for (const [i, name] of ['beacon', 'beacon-hub', 'Hub', 'instances'].entries()) {
      const slug = book.assign({
        id: `${i}aaaaaaa-1111-4000-8000-000000000000`,
        name,
        path: '/p/x',
      });
      expect(['beacon', 'beacon-hub', 'hub', 'instances']).not.toContain(slug);
      expect(slug.startsWith(name.toLowerCase())).toBe(true);
    }
  });

  it('keeps listed names within the bound (48 by default), stable and distinct', () => {
    expect(plainName('scripts_run')).toBe('scripts_run');
    expect(plainName('x'.repeat(60))).toHaveLength(DEFAULT_MAX_NAME_LENGTH);
    expect(plainName('x'.repeat(60), 30)).toHaveLength(30);
    expect(plainName(`${'x'.repeat(60)}a`)).not.toBe(plainName(`${'x'.repeat(60)}b`));
    expect(qualifiedName('web', 'scripts_run')).toBe('web__scripts_run');
    expect(qualifiedName('a'.repeat(24), 'b'.repeat(40), 24)).toHaveLength(24);
    const long1 = qualifiedName('web', `${'t'.repeat(200)}a`);
    const long2 = qualifiedName('web', `${'t'.repeat(200)}b`);
    expect(long1.length).toBeLessThanOrEqual(DEFAULT_MAX_NAME_LENGTH);
    expect(long1.startsWith('web__ttt')).toBe(true);
    expect(long1).not.toBe(long2);
    expect(qualifiedName('web', `${'t'.repeat(200)}a`)).toBe(long1);
    expect(long1).toMatch(/^[A-Za-z0-9_.-]+$/);
  });

  it('keeps the `__` of a namespaced name even when the bound cuts into its slug', () => {
    const slug = 'acme-corporation_4f1c2e';
    const name = qualifiedName(slug, 'scripts_run_with_a_long_name', 24);
    expect(name.length).toBeLessThanOrEqual(24);
    expect(name).toContain('__');
    expect(qualifiedName(slug, 'other_tool', 24)).not.toBe(name);
  });

  it('round-trips resource URIs and templates', () => {
    const uri = proxiedUri('web', 'file:///a/b?c=d#e');
    expect(uri).toBe('beacon://web/file:///a/b?c=d#e');
    expect(parseProxiedUri(uri)).toEqual({ slug: 'web', uri: 'file:///a/b?c=d#e' });
    expect(parseProxiedUri('beacon://web')).toBeUndefined();
    expect(parseProxiedUri('file:///x')).toBeUndefined();
    expect(proxiedUri('web', 'items://{id}')).toBe('beacon://web/items://{id}');
  });

  it('keeps an MCP Apps UI resource a ui:// URI, unique per instance', () => {
    const uri = proxiedUri('apps-demo', 'ui://get-time/mcp-app.html');
    expect(uri).toBe('ui://apps-demo/get-time/mcp-app.html');
    expect(parseProxiedUri(uri)).toEqual({ slug: 'apps-demo', uri: 'ui://get-time/mcp-app.html' });
    expect(proxiedUri('other', 'ui://get-time/mcp-app.html')).not.toBe(uri);
    expect(parseProxiedUri('ui://nothing')).toBeUndefined();
  });
});
