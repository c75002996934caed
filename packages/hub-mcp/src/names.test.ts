import { describe, expect, it } from 'vitest';
import {
  assignSlugs,
  baseSlug,
  MAX_NAME_LENGTH,
  parseProxiedUri,
  proxiedUri,
  qualifiedName,
} from './index.js';

describe('names', () => {
  it('reduces names to the tool-name charset', () => {
    expect(baseSlug('@acme/Web App!')).toBe('acme_web_app');
    expect(baseSlug('***')).toBe('instance');
    expect(baseSlug('x'.repeat(100))).toHaveLength(40);
    expect(baseSlug('my-app_2')).toBe('my-app_2');
  });

  it('suffixes every colliding instance with its id, and nobody else', () => {
    const slugs = assignSlugs([
      { id: 'aaaaaaaa-1111-4000-8000-000000000000', name: 'web' },
      { id: 'bbbbbbbb-2222-4000-8000-000000000000', name: 'Web' },
      { id: 'cccccccc-3333-4000-8000-000000000000', name: 'api' },
    ]);
    expect([...slugs.values()]).toEqual(['web_aaaaaa', 'web_bbbbbb', 'api']);
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
