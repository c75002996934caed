// What pages served through the proxy reported, within bounds: per page its errors
// (deduplicated, with counts), console lines, requests and loads; pages themselves are few.

import { cleanText } from '@mcp-beacon/runtime';

/** Bounds of what pages may leave in the instance. */
export const PAGE_BOUNDS = {
  /** Pages kept (the least recently heard from is dropped). */
  pages: 20,
  /** Distinct errors kept per page. */
  errorsPerPage: 100,
  /** Console lines kept per page. */
  consolePerPage: 500,
  /** Requests kept per page. */
  requestsPerPage: 300,
  /** Characters kept of any one text an event carries. */
  textChars: 4_000,
  /** Events taken from one batch. */
  eventsPerBatch: 50,
  /** Bytes of one batch's body. */
  batchBytes: 256 * 1024,
} as const;

/** A stack frame mapped to the project's source (when its script had a source map). */
export interface SourceFrame {
  file: string;
  line: number;
  column: number;
  /** The frame's line of source, when the map carries it. */
  code?: string;
  /** The frame as the browser wrote it. */
  raw: string;
}

/** One distinct page error (an uncaught error or an unhandled rejection). */
export interface PageError {
  kind: 'error' | 'rejection' | 'resource';
  message: string;
  /** The stack as the page sent it. */
  stack: string;
  /** Its top frames mapped to project files (filled in once its source maps are read). */
  frames: SourceFrame[];
  count: number;
  firstSeen: string;
  lastSeen: string;
  pageUrl: string;
}

export interface ConsoleLine {
  level: 'error' | 'warn' | 'log';
  message: string;
  at: string;
  pageUrl: string;
}

export interface PageRequest {
  via: 'fetch' | 'xhr';
  method: string;
  url: string;
  /** 0 for a network or CORS error. */
  status: number;
  error?: string;
  ms: number;
  at: string;
  pageUrl: string;
}

/** One document served through the proxy and what it reported. */
export interface PageRecord {
  id: string;
  url: string;
  title: string;
  /** The proxy origin that served it. */
  origin: string;
  /** When it last posted or polled (ms since the epoch). */
  lastHeard: number;
  loads: Array<{ url: string; navigation: string; at: string }>;
  errors: Map<string, PageError>;
  console: ConsoleLine[];
  requests: PageRequest[];
}

const clean = (value: unknown, chars: number = PAGE_BOUNDS.textChars): string =>
  cleanText(String(value ?? '')).slice(0, chars);
/** Like `clean`, keeping line breaks (stacks and console lines have several lines). */
const cleanLines = (value: unknown, chars: number = PAGE_BOUNDS.textChars): string =>
  String(value ?? '')
    .slice(0, chars * 2)
    .split(/\r\n|\r|\n/)
    .map((line) => cleanText(line))
    .join('\n')
    .slice(0, chars);
const num = (value: unknown) =>
  typeof value === 'number' && Number.isFinite(value) ? Math.max(0, Math.round(value)) : 0;
const push = <T>(list: T[], item: T, max: number) => {
  list.push(item);
  if (list.length > max) list.splice(0, list.length - max);
};

/** The pages' reports: untrusted text, cleaned and cut as it arrives. */
export class PageStore {
  private readonly pages = new Map<string, PageRecord>();

  constructor(private readonly now: () => number = Date.now) {}

  /** The page `id` of `origin`, created (and the oldest dropped past the bound) if new. */
  page(id: string, origin: string, url: unknown, title: unknown): PageRecord {
    let page = this.pages.get(id);
    if (!page || page.origin !== origin) {
      page = {
        id,
        origin,
        url: clean(url, 2_000),
        title: clean(title, 300),
        lastHeard: this.now(),
        loads: [],
        errors: new Map(),
        console: [],
        requests: [],
      };
      this.pages.set(id, page);
      if (this.pages.size > PAGE_BOUNDS.pages) {
        const oldest = [...this.pages.values()].sort((a, b) => a.lastHeard - b.lastHeard)[0];
        if (oldest) this.pages.delete(oldest.id);
      }
    }
    page.lastHeard = this.now();
    if (url !== undefined) page.url = clean(url, 2_000);
    if (title !== undefined) page.title = clean(title, 300);
    return page;
  }

  /** Takes one batch of events; returns the errors that are new (to map their frames). */
  take(page: PageRecord, events: unknown[]): PageError[] {
    const fresh: PageError[] = [];
    for (const raw of events.slice(0, PAGE_BOUNDS.eventsPerBatch)) {
      if (typeof raw !== 'object' || raw === null) continue;
      const e = raw as Record<string, unknown>;
      const at = new Date(this.now()).toISOString();
      switch (e.type) {
        case 'error':
        case 'rejection':
        case 'resource': {
          const kind = e.type;
          const message =
            kind === 'resource'
              ? `failed to load ${clean(e.tag, 20) || 'resource'} ${clean(e.url, 2_000)}`
              : clean(e.message);
          const stack = cleanLines(e.stack);
          const source = clean(e.source, 2_000);
          const where = source ? `    at ${source}:${num(e.line)}:${num(e.column)}` : '';
          const key = `${kind}\n${message}\n${stack.split('\n').slice(0, 3).join('\n') || where}`;
          const known = page.errors.get(key);
          if (known) {
            known.count++;
            known.lastSeen = at;
            break;
          }
          if (page.errors.size >= PAGE_BOUNDS.errorsPerPage) break;
          const error: PageError = {
            kind,
            message,
            stack: stack || where,
            frames: [],
            count: 1,
            firstSeen: at,
            lastSeen: at,
            pageUrl: page.url,
          };
          page.errors.set(key, error);
          fresh.push(error);
          break;
        }
        case 'console': {
          const level = e.level === 'error' || e.level === 'warn' ? e.level : 'log';
          push(
            page.console,
            { level, message: cleanLines(e.message), at, pageUrl: page.url },
            PAGE_BOUNDS.consolePerPage,
          );
          break;
        }
        case 'request':
          push(
            page.requests,
            {
              via: e.via === 'xhr' ? 'xhr' : 'fetch',
              method: clean(e.method, 16).toUpperCase() || 'GET',
              url: clean(e.url, 2_000),
              status: num(e.status),
              ...(e.error === undefined ? {} : { error: clean(e.error, 500) }),
              ms: num(e.ms),
              at,
              pageUrl: page.url,
            },
            PAGE_BOUNDS.requestsPerPage,
          );
          break;
        case 'load':
          push(
            page.loads,
            { url: clean(e.url, 2_000), navigation: clean(e.navigation, 20), at },
            20,
          );
          break;
      }
    }
    return fresh;
  }

  /** Pages, the most recently heard from first. */
  list(): PageRecord[] {
    return [...this.pages.values()].sort((a, b) => b.lastHeard - a.lastHeard);
  }

  get(id: string): PageRecord | undefined {
    return this.pages.get(id);
  }
}
