import { describe, expect, it } from 'vitest';
import { isLoopbackHttpUrl, isUuidV4, parseRecord } from './schema.js';

const seed = {
  id: '2b0e6f5c-0b7e-4c5e-9d7a-4f7a0c3e9b11',
  pid: 12345,
  path: '/home/user/project',
  port: 7778,
  started: '2026-01-01T00:00:00.000Z',
  name: 'my-project',
  has_package_json: true,
  last_seen: '2026-01-01T00:00:05.000Z',
};

describe('parseRecord', () => {
  it('accepts the seed format and fills in the default url', () => {
    const result = parseRecord(seed);
    expect(result).toEqual({ ok: true, value: { ...seed, url: 'http://127.0.0.1:7778/mcp' } });
  });

  it('keeps url, token and version, and drops unknown fields', () => {
    const result = parseRecord({
      ...seed,
      url: 'http://localhost:9/x',
      token: 't',
      version: 1,
      extra: 1,
    });
    expect(result).toEqual({
      ok: true,
      value: { ...seed, url: 'http://localhost:9/x', token: 't', version: 1 },
    });
  });

  it.each([
    ['id', { id: 'not-a-uuid' }, 'id must be a UUID v4'],
    ['v1 uuid', { id: '2b0e6f5c-0b7e-1c5e-9d7a-4f7a0c3e9b11' }, 'id must be a UUID v4'],
    ['pid', { pid: -1 }, 'pid'],
    ['port', { port: 70000 }, 'port'],
    ['started', { started: 'yesterday' }, 'started'],
    ['missing name', { name: undefined }, 'name'],
    ['url', { url: 'http://example.com/mcp' }, 'url must be http on a loopback address'],
  ])('rejects a bad %s with a message naming it', (_label, patch, message) => {
    const result = parseRecord({ ...seed, ...patch });
    expect(result.ok).toBe(false);
    expect(!result.ok && result.message).toContain(message);
  });
});

describe('isLoopbackHttpUrl', () => {
  it.each([
    'http://127.0.0.1:1/mcp',
    'http://127.1.2.3/',
    'http://localhost:8080/mcp',
    'http://[::1]:9000/mcp',
    'http://2130706433/mcp',
  ])('accepts %s', (url) => expect(isLoopbackHttpUrl(url)).toBe(true));

  it.each([
    'https://127.0.0.1/mcp',
    'http://10.0.0.1/mcp',
    'http://192.168.1.2/mcp',
    'http://localhost.evil.com/mcp',
    'http://127.0.0.1.nip.io/mcp',
    'http://user:pw@127.0.0.1/mcp',
    'file:///etc/passwd',
    'not a url',
    'http://[::2]/',
  ])('rejects %s', (url) => expect(isLoopbackHttpUrl(url)).toBe(false));
});

describe('isUuidV4', () => {
  it('accepts randomUUID and rejects path tricks', () => {
    expect(isUuidV4(crypto.randomUUID())).toBe(true);
    expect(isUuidV4('../../etc/passwd')).toBe(false);
    expect(isUuidV4(`${crypto.randomUUID()}/..`)).toBe(false);
  });
});
