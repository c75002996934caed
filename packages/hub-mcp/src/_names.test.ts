import { describe, expect, it } from 'vitest';
import {
  baseSlug,
  MAX_NAME_LENGTH,
  parseProxiedUri,
  proxiedUri,
  qualifiedName,
  SlugBook,
  safeName,
} from './_names.js';

const ID_A = 'aaaaaaaa-1111-4000-8000-000000000000';
const ID_B = 'bbbbbbbb-2222-4000-8000-000000000000';
const ID_C = 'cccccccc-3333-4000-8000-000000000000';
const ID_D = 'dddddddd-4444-4000-8000-000000000000';

describe('names', () => {
  it('reduces names to the tool-name charset', () => {
    expect(baseSlug('@acme/Web App!')).toBe('acme_web_app');
    expect(baseSlug('***')).toBe('instance');
    expect(baseSlug('x'.repeat(100))).toHaveLength(40);
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

  it('frees a slug when its instance leaves', () => {
    const book = new SlugBook();
    book.assign({ id: ID_A, name: 'web', path: '/a/web' });
    book.release(ID_A);
    expect(book.assign({ id: ID_B, name: 'web', path: '/b/web' })).toBe('web');
    expect(book.slugOf(ID_A)).toBeUndefined();
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

  it('keeps qualified names within 128 characters, stable and distinct', () => {
    expect(qualifiedName('web', 'scripts_run')).toBe('web__scripts_run');
    const long1 = qualifiedName('web', `${'t'.repeat(200)}a`);
    const long2 = qualifiedName('web', `${'t'.repeat(200)}b`);
    expect(long1.length).toBeLessThanOrEqual(MAX_NAME_LENGTH);
    expect(long1).not.toBe(long2);
    expect(qualifiedName('web', `${'t'.repeat(200)}a`)).toBe(long1);
    expect(long1).toMatch(/^[A-Za-z0-9_.-]+$/);
  });

  it('round-trips resource URIs and templates', () => {
    const uri = proxiedUri('web', 'file:///a/b?c=d#e');
    expect(uri).toBe('beacon://web/file:///a/b?c=d#e');
    expect(parseProxiedUri(uri)).toEqual({ slug: 'web', uri: 'file:///a/b?c=d#e' });
    expect(parseProxiedUri('beacon://web')).toBeUndefined();
    expect(parseProxiedUri('file:///x')).toBeUndefined();
    expect(proxiedUri('web', 'items://{id}')).toBe('beacon://web/items://{id}');
  });
});
