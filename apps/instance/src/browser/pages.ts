// The browser half of a project: a page proxy per dev server origin its runs print, what the
// pages served through them report, and the channel back to those pages (eval, reload).

import { randomBytes, randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { LazySourceMapper, startPageProxyLazily } from './_lazy.js';
import { pageScript } from './page-script.js';
import type { PageProxy } from './proxy.js';
import { type PageError, type PageRecord, PageStore } from './store.js';

/** Bounds of the channel back to pages. */
export const CHANNEL_BOUNDS = {
  /** Page proxies (dev server origins) at once. */
  proxies: 16,
  /** How long a page's poll is held open, in ms. */
  pollMs: 25_000,
  /** A page not heard from for this long is no longer connected, in ms. */
  connectedMs: 30_000,
  /** Default and largest time an eval may take, in ms. */
  evalDefaultMs: 5_000,
  evalMaxMs: 30_000,
  /** Characters of an eval's result (or error) returned. */
  evalResultChars: 64 * 1024,
} as const;

/** What an eval in a page answered. */
export type EvalAnswer =
  | { ok: true; page: string; value: string; truncated: boolean }
  | { ok: false; page: string; error: string };

interface Command {
  type: 'eval' | 'reload';
  id: string;
  expression?: string;
}

/** The instance's browser half; see {@link createBrowserPages}. */
export interface BrowserPages {
  /** Starts the proxy for the origin of a URL a run printed (idempotent, bounded). */
  proxy(url: string): void;
  /** The proxied URL of a URL a run printed, once its proxy listens. */
  proxiedUrl(url: string): string | undefined;
  /** Resolves once every proxy being started listens (or failed). */
  ready(): Promise<void>;
  store: PageStore;
  /** Pages heard from within {@link CHANNEL_BOUNDS.connectedMs}, newest first. */
  connected(): PageRecord[];
  /** Evaluates `expression` in a page (default: the one heard from last). */
  evaluate(expression: string, options: { page?: string; timeoutMs?: number }): Promise<EvalAnswer>;
  /** Reloads a page (default: every connected page); returns the pages asked. */
  reload(page?: string): string[];
  close(): Promise<void>;
}

const loopbackOrigin = (url: URL) => {
  const u = new URL(url.origin);
  // A server bound to every interface prints 0.0.0.0; it answers on loopback.
  if (u.hostname === '0.0.0.0') u.hostname = '127.0.0.1';
  return u.origin;
};

/** Creates the browser half of an instance for the project in `root`. */
export function createBrowserPages(options: {
  root: string;
  log?: (message: string) => void;
  now?: () => number;
}): BrowserPages {
  const now = options.now ?? Date.now;
  const key = randomBytes(24).toString('base64url');
  const script = pageScript(key);
  const store = new PageStore(now);
  const proxies = new Map<string, Promise<PageProxy | undefined>>();
  const started = new Map<string, PageProxy>();
  const byOrigin = new Map<string, PageProxy>();
  const waiting = new Map<string, { res: ServerResponse; timer: NodeJS.Timeout }>();
  const queued = new Map<string, Command[]>();
  const evals = new Map<
    string,
    { page: string; resolve: (answer: EvalAnswer) => void; timer: NodeJS.Timeout }
  >();
  let closed = false;
  const mapper = new LazySourceMapper(
    options.root,
    (url) => byOrigin.get(new URL(url).origin)?.fetchText(url) ?? Promise.resolve(undefined),
    (url) => byOrigin.has(url.origin),
    () => [...started.values()].flatMap((proxy) => proxy.scripts()),
  );

  const mapFrames = (error: PageError) => {
    if (!error.stack) return;
    void mapper.map(error.stack).then(
      (frames) => {
        error.frames = frames;
      },
      () => undefined,
    );
  };

  const send = (page: string, command: Command): boolean => {
    const held = waiting.get(page);
    if (held) {
      waiting.delete(page);
      clearTimeout(held.timer);
      held.res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(command));
      return true;
    }
    const list = queued.get(page) ?? [];
    if (list.length >= 8) return false;
    list.push(command);
    queued.set(page, list);
    return true;
  };

  const channel = {
    key,
    script: () => script,
    handle(what: string, body: unknown, origin: string, res: ServerResponse) {
      const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
      const id = typeof b.page === 'string' ? b.page.slice(0, 64) : '';
      if (!/^[a-z0-9]{4,64}$/.test(id)) {
        res.writeHead(400).end();
        return;
      }
      const page = store.page(id, origin, b.url, b.title);
      if (what === 'events') {
        const events = Array.isArray(b.events) ? b.events : [];
        for (const error of store.take(page, events)) mapFrames(error);
        res.writeHead(204).end();
        return;
      }
      if (what === 'result') {
        const pending = typeof b.id === 'string' ? evals.get(b.id) : undefined;
        if (pending && pending.page === id) {
          evals.delete(b.id as string);
          clearTimeout(pending.timer);
          const max = CHANNEL_BOUNDS.evalResultChars;
          if (b.ok === true) {
            const value = String(b.value ?? 'undefined');
            pending.resolve({
              ok: true,
              page: id,
              value: value.slice(0, max),
              truncated: value.length > max,
            });
          } else
            pending.resolve({ ok: false, page: id, error: String(b.error ?? '').slice(0, max) });
        }
        res.writeHead(204).end();
        return;
      }
      // poll: a queued command at once, else held until one comes or the poll period ends.
      const next = queued.get(id)?.shift();
      if (next) {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(next));
        return;
      }
      const previous = waiting.get(id);
      if (previous) {
        clearTimeout(previous.timer);
        previous.res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      }
      const timer = setTimeout(() => {
        if (waiting.get(id)?.res !== res) return;
        waiting.delete(id);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      }, CHANNEL_BOUNDS.pollMs);
      waiting.set(id, { res, timer });
      res.on('close', () => {
        if (waiting.get(id)?.res === res) {
          clearTimeout(timer);
          waiting.delete(id);
        }
      });
    },
  };

  const connected = () =>
    store
      .list()
      .filter((p) => waiting.has(p.id) || now() - p.lastHeard < CHANNEL_BOUNDS.connectedMs);

  return {
    store,
    proxy(url) {
      if (closed) return;
      let origin: string;
      try {
        origin = loopbackOrigin(new URL(url));
      } catch {
        return;
      }
      if (proxies.has(origin) || proxies.size >= CHANNEL_BOUNDS.proxies) return;
      proxies.set(
        origin,
        startPageProxyLazily({
          upstream: origin,
          channel,
          ...(options.log ? { log: options.log } : {}),
        }).then(
          (proxy) => {
            started.set(origin, proxy);
            byOrigin.set(proxy.origin, proxy);
            byOrigin.set(proxy.origin.replace('127.0.0.1', 'localhost'), proxy);
            options.log?.(`page proxy for ${origin} at ${proxy.origin}`);
            if (closed) void proxy.close();
            return proxy;
          },
          (error: Error) => {
            options.log?.(`cannot start a page proxy for ${origin}: ${error.message}`);
            return undefined;
          },
        ),
      );
    },
    proxiedUrl(url) {
      try {
        const u = new URL(url);
        const proxy = started.get(loopbackOrigin(u));
        return proxy ? `${proxy.origin}${u.pathname}${u.search}${u.hash}` : undefined;
      } catch {
        return undefined;
      }
    },
    async ready() {
      await Promise.all(proxies.values());
    },
    connected,
    evaluate(expression, { page, timeoutMs }) {
      const target = page === undefined ? connected()[0] : store.get(page);
      if (!target)
        return Promise.resolve({
          ok: false,
          page: page ?? '',
          error:
            page === undefined
              ? 'no page is connected: open the proxied URL (scripts_status lists it) in a browser'
              : `no page ${page}`,
        });
      const bound = Math.min(timeoutMs ?? CHANNEL_BOUNDS.evalDefaultMs, CHANNEL_BOUNDS.evalMaxMs);
      const id = randomUUID();
      return new Promise<EvalAnswer>((resolve) => {
        const timer = setTimeout(() => {
          evals.delete(id);
          resolve({
            ok: false,
            page: target.id,
            error: `the page did not answer within ${bound} ms (a page busy in a loop stays stuck until it is reloaded)`,
          });
        }, bound);
        evals.set(id, { page: target.id, resolve, timer });
        if (!send(target.id, { type: 'eval', id, expression })) {
          clearTimeout(timer);
          evals.delete(id);
          resolve({ ok: false, page: target.id, error: 'the page has too many commands waiting' });
        }
      });
    },
    reload(page) {
      const targets = page === undefined ? connected().map((p) => p.id) : [page];
      return targets.filter((id) => send(id, { type: 'reload', id: randomUUID() }));
    },
    async close() {
      closed = true;
      for (const { res, timer } of waiting.values()) {
        clearTimeout(timer);
        res.destroy();
      }
      waiting.clear();
      for (const pending of evals.values()) {
        clearTimeout(pending.timer);
        pending.resolve({ ok: false, page: pending.page, error: 'the instance is closing' });
      }
      evals.clear();
      const all = await Promise.all(proxies.values());
      await Promise.all(all.map((p) => p?.close()));
    },
  };
}
