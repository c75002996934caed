import { describe, expect, it } from 'vitest';
import { allowPageScript, injectScript } from './csp.js';

describe('allowPageScript', () => {
  it('leaves a policy that allows the page’s own scripts and requests as it is', () => {
    const policy = "default-src 'self'; img-src *";
    expect(allowPageScript(policy, 'n')).toBe("default-src 'self'; img-src *");
    expect(allowPageScript("script-src 'self' https://cdn; connect-src 'self'", 'n')).toBe(
      "script-src 'self' https://cdn; connect-src 'self'",
    );
  });

  it('adds a nonce to a script-src without self, and self to its connect-src, keeping the rest', () => {
    expect(
      allowPageScript("default-src 'none'; script-src 'nonce-abc'; style-src 'self'", 'n1'),
    ).toBe(
      "default-src 'none'; script-src 'nonce-abc' 'nonce-n1'; style-src 'self'; connect-src 'self'",
    );
    expect(allowPageScript("script-src 'none'; connect-src https://api", 'n2')).toBe(
      "script-src 'nonce-n2'; connect-src https://api 'self'",
    );
  });

  it("gives an inline-allowing script-src 'self' rather than a nonce (which would switch 'unsafe-inline' off)", () => {
    expect(allowPageScript("script-src 'unsafe-inline'", 'n')).toBe(
      "script-src 'unsafe-inline' 'self'",
    );
  });
});

describe('injectScript', () => {
  it('puts the tag first in <head>, or <html>, or the document, and allows it in a <meta> policy', () => {
    expect(injectScript('<html><head><title>x</title></head></html>', '/s.js', 'n')).toBe(
      '<html><head><script src="/s.js" nonce="n"></script><title>x</title></head></html>',
    );
    expect(injectScript('<html lang="en"><body></body></html>', '/s.js', 'n')).toContain(
      '<html lang="en"><script src="/s.js" nonce="n"></script><body>',
    );
    expect(injectScript('hello', '/s.js', 'n')).toBe(
      '<script src="/s.js" nonce="n"></script>hello',
    );
    expect(
      injectScript(
        `<head><meta http-equiv="Content-Security-Policy" content="script-src 'nonce-a'"></head>`,
        '/s.js',
        'n',
      ),
    ).toContain(`content="script-src 'nonce-a' 'nonce-n'"`);
  });
});
