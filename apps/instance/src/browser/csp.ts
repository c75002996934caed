// The page proxy's one change to a page's security policy: enough for its own same-origin
// script and requests, never less protection, never a dropped policy.

const directive = (name: string) => new RegExp(`^${name}(?:\\s|$)`, 'i');

/**
 * `policy` allowing a script of the page's own origin carrying `nonce`, and requests to that
 * origin: a `script-src` (or the `default-src` it falls back to) that allows `'self'` is left
 * as it is; one that allows inline scripts gets `'self'` (a nonce would switch its
 * `'unsafe-inline'` off); any other gets the nonce. `connect-src` gets `'self'` when it has a
 * list without it. Other directives are untouched.
 */
export function allowPageScript(policy: string, nonce: string): string {
  const parts = policy
    .split(';')
    .map((d) => d.trim())
    .filter((d) => d !== '');
  /** A directive with `source` added; `'none'` is replaced, as it allows nothing beside it. */
  const add = (d: string, source: string) =>
    /\s'none'\s*$/i.test(d) ? d.replace(/'none'\s*$/i, source) : `${d} ${source}`;
  const allowSelf = (i: number) => {
    const d = parts[i]!;
    if (/'self'/i.test(d)) return;
    parts[i] = /'unsafe-inline'/i.test(d) ? add(d, "'self'") : add(d, `'nonce-${nonce}'`);
  };
  const script = parts.findIndex((d) => directive('script-src').test(d));
  const fallback = parts.findIndex((d) => directive('default-src').test(d));
  if (script >= 0) allowSelf(script);
  else if (fallback >= 0 && !/'self'/i.test(parts[fallback]!)) {
    parts.push(`script-src${parts[fallback]!.slice('default-src'.length)}`);
    allowSelf(parts.length - 1);
  }
  const connect = parts.findIndex((d) => directive('connect-src').test(d));
  if (connect >= 0 && !/'self'/i.test(parts[connect]!))
    parts[connect] = add(parts[connect]!, "'self'");
  else if (connect < 0 && fallback >= 0 && !/'self'/i.test(parts[fallback]!))
    parts.push(add(`connect-src${parts[fallback]!.slice('default-src'.length)}`, "'self'"));
  return parts.join('; ');
}

/** The HTML with the page script's tag at the start of its `<head>` (or document). */
export function injectScript(html: string, src: string, nonce: string): string {
  const tag = `<script src="${src}" nonce="${nonce}"></script>`;
  // A policy in a <meta> tag is kept and given the same allowance as the header.
  const withMeta = html.replace(
    /(<meta\s[^>]*http-equiv\s*=\s*["']?content-security-policy["']?[^>]*content\s*=\s*)(["'])(.*?)\2/gi,
    (_m, head: string, quote: string, policy: string) =>
      `${head}${quote}${allowPageScript(policy, nonce)}${quote}`,
  );
  for (const opening of [/<head(?:\s[^>]*)?>/i, /<html(?:\s[^>]*)?>/i]) {
    const m = opening.exec(withMeta);
    if (!m) continue;
    const at = m.index + m[0].length;
    return withMeta.slice(0, at) + tag + withMeta.slice(at);
  }
  return tag + withMeta;
}
