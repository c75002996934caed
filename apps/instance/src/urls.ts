import { isLoopbackHost } from '@mcp-beacon/runtime';

/** URLs kept per run; a dev server prints a handful, a chatty one the same few again. */
export const MAX_URLS_PER_RUN = 16;

// An http(s) URL as dev servers print them: a host, an optional port and path. Its host is
// then checked by the one loopback rule, so `localhost.example.com` is not taken.
const HTTP_URL =
  /\bhttps?:\/\/(\[[0-9a-f:.]+\]|[\w.-]+)(?::(\d{1,5}))?(?![\w-])(?:[/?#][^\s"'<>`)\]},]*)?/gi;

// Dev servers bound to every interface print 0.0.0.0; it is reachable on loopback too.
const isLocalHost = (host: string) => host === '0.0.0.0' || isLoopbackHost(host);

/**
 * The loopback http(s) URLs in one output line (ANSI codes already removed), in order, without
 * trailing punctuation. Loopback is registry's `isLoopbackHost`, plus `0.0.0.0`.
 */
export function findUrls(text: string): string[] {
  if (!text.includes('://')) return [];
  const found: string[] = [];
  for (const match of text.matchAll(HTTP_URL)) {
    const [whole, host = '', port] = match;
    if (!isLocalHost(host.replace(/\.+$/, ''))) continue;
    if (port !== undefined && Number(port) > 65_535) continue;
    found.push(whole.replace(/[.,;:!?]+$/, ''));
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
