import { describe, expect, it } from 'vitest';
import { isLoopbackHost } from './loopback.js';

describe('isLoopbackHost', () => {
  it.each(['localhost', 'LOCALHOST', '127.0.0.1', '127.0.0.10', '127.255.255.255', '[::1]', '::1'])(
    '%s is loopback',
    (host) => expect(isLoopbackHost(host)).toBe(true),
  );

  it.each([
    'localhost.example.com',
    '127.0.0.1.nip.io',
    '127.0.0.256',
    '128.0.0.1',
    '0.0.0.0',
    '[::2]',
    '[::ffff:127.0.0.1]',
    '',
  ])('%s is not', (host) => expect(isLoopbackHost(host)).toBe(false));
});
