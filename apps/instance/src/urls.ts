/** URLs kept per run; a dev server prints a handful, a chatty one the same few again. */
export const MAX_URLS_PER_RUN = 16;

// http(s) on a loopback host, with an optional port and path, as dev servers print them; the
// host must end there (`localhost.example.com` and `127.0.0.10` are not loopback).
const LOOPBACK_URL =
  /\bhttps?:\/\/(?:localhost|127\.0\.0\.1|0\.0\.0\.0|\[::1\])(?::\d{1,5})?(?![\w-]|\.[\w-])(?:[/?#][^\s"'<>`)\]},]*)?/gi;

/**
 * The loopback http(s) URLs in one output line (ANSI codes already removed), in order, without
 * trailing punctuation. `localhost`, `127.0.0.1`, `0.0.0.0` and `[::1]` count as loopback.
 */
export function findUrls(text: string): string[] {
  if (!text.includes('://')) return [];
  const found: string[] = [];
  for (const match of text.matchAll(LOOPBACK_URL)) {
    const url = match[0].replace(/[.,;:!?]+$/, '');
    const port = /:(\d+)(?=[/?#]|$)/.exec(url.replace(/^https?:\/\/(\[::1\])?/i, ''));
    if (port && Number(port[1]) > 65_535) continue;
    found.push(url);
  }
  return found;
}

/** Collects a run's distinct URLs, first seen first, at most {@link MAX_URLS_PER_RUN}. */
export class UrlSet {
  private readonly seen = new Set<string>();

  /** Adds the URLs of one line; returns the ones that are new. */
  add(text: string): string[] {
    const added: string[] = [];
    for (const url of findUrls(text)) {
      if (this.seen.has(url) || this.seen.size >= MAX_URLS_PER_RUN) continue;
      this.seen.add(url);
      added.push(url);
    }
    return added;
  }

  /** The URLs seen so far. */
  list(): string[] {
    return [...this.seen];
  }
}
