// The script the page proxy adds to every HTML document it serves: it reports what happens in
// the page (errors, rejections, console lines, failed requests and resources, loads) to the
// proxy's own paths on the page's origin, in batches, and runs the instance's eval requests.
// It never throws into the page and goes quiet when the instance is gone.

import { consoleErrorsSource } from './_console-errors.js';

/** The path prefix the proxy keeps for itself on every origin it serves. */
export const BEACON_PATH = '/__beacon';

/**
 * The script's source for one instance: `key` is the per-instance secret the page's channel
 * authenticates with. Plain ES2017, no dependencies, about 4 KB.
 */
export function pageScript(key: string): string {
  return `(() => {
  if (window.__beaconPage) return;
  const KEY = ${JSON.stringify(key)};
  const BASE = ${JSON.stringify(BEACON_PATH)};
  const page = Math.random().toString(36).slice(2) + Date.now().toString(36);
  Object.defineProperty(window, '__beaconPage', { value: page });
  const realFetch = window.fetch.bind(window);
  const queue = [];
  let timer = 0;
  let failures = 0;
  let logsThisSecond = 0;
  setInterval(() => { logsThisSecond = 0; }, 1000);
  const cut = (s, n) => { s = String(s); return s.length > n ? s.slice(0, n) + '…' : s; };
  const text = (v) => {
    try {
      if (v instanceof Error) return cut((v.stack && v.stack.includes(v.message) ? v.stack : v.name + ': ' + v.message + '\\n' + (v.stack || '')), 4000);
      if (typeof v === 'string') return cut(v, 2000);
      return cut(JSON.stringify(v), 2000);
    } catch (e) { return cut(String(v), 2000); }
  };
  const post = (path, body, keepalive) =>
    realFetch(BASE + path, { method: 'POST', headers: { 'content-type': 'application/json', 'x-beacon-key': KEY }, body: JSON.stringify(body), keepalive: !!keepalive, credentials: 'omit' });
  const flush = (keepalive) => {
    timer = 0;
    if (queue.length === 0 || failures > 5) return;
    const events = queue.splice(0, 50);
    post('/events', { page, url: location.href, title: document.title, events }, keepalive)
      .then((r) => { failures = r.ok ? 0 : failures + 1; }, () => { failures++; });
    if (queue.length > 0) timer = setTimeout(flush, 200);
  };
  const send = (event) => {
    try {
      event.at = Date.now();
      if (queue.length >= 200) queue.shift();
      queue.push(event);
      if (!timer) timer = setTimeout(flush, 250);
    } catch (e) {}
  };
  ${consoleErrorsSource}
  window.addEventListener('error', (e) => {
    const t = e.target;
    if (t && t !== window && (t.src || t.href)) {
      send({ type: 'resource', tag: String(t.tagName || '').toLowerCase(), url: cut(t.src || t.href, 2000) });
      return;
    }
    if (e.error && !firstReport(e.error)) return;
    send({ type: 'error', message: cut(e.message, 2000), stack: e.error ? text(e.error) : '', source: cut(e.filename || '', 2000), line: e.lineno || 0, column: e.colno || 0 });
  }, true);
  window.addEventListener('unhandledrejection', (e) => {
    const r = e.reason;
    if (r instanceof Error && !firstReport(r)) return;
    send({ type: 'rejection', message: r instanceof Error ? cut(r.name + ': ' + r.message, 2000) : text(r), stack: r instanceof Error ? text(r) : '' });
  });
  for (const level of ['error', 'warn', 'log']) {
    const original = console[level];
    console[level] = function (...args) {
      try {
        if (level !== 'log' || ++logsThisSecond <= 10)
          send({ type: 'console', level, message: cut(args.map(text).join(' '), 4000) });
        if (level === 'error') consoleErrors(args);
      } catch (e) {}
      return original.apply(this, args);
    };
  }
  const own = (url) => { try { const u = new URL(url, location.href); return u.origin === location.origin && u.pathname.startsWith(BASE + '/'); } catch (e) { return false; } };
  window.fetch = function (input, init) {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const method = (init && init.method) || (input && input.method) || 'GET';
    const started = performance.now();
    const p = realFetch(input, init);
    if (own(url)) return p;
    p.then((r) => {
      send({ type: 'request', via: 'fetch', method: String(method).toUpperCase(), url: cut(new URL(url, location.href).href, 2000), status: r.status, ms: Math.round(performance.now() - started) });
    }, (err) => {
      send({ type: 'request', via: 'fetch', method: String(method).toUpperCase(), url: cut(new URL(url, location.href).href, 2000), status: 0, error: text(err && err.message || err), ms: Math.round(performance.now() - started) });
    });
    return p;
  };
  const open = XMLHttpRequest.prototype.open;
  const sendXhr = XMLHttpRequest.prototype.send;
  XMLHttpRequest.prototype.open = function (method, url, ...rest) {
    this.__beacon = { method: String(method).toUpperCase(), url: String(url) };
    return open.call(this, method, url, ...rest);
  };
  XMLHttpRequest.prototype.send = function (...args) {
    const info = this.__beacon;
    if (info && !own(info.url)) {
      const started = performance.now();
      this.addEventListener('loadend', () => {
        send({ type: 'request', via: 'xhr', method: info.method, url: cut(new URL(info.url, location.href).href, 2000), status: this.status, ms: Math.round(performance.now() - started), ...(this.status === 0 ? { error: 'network error' } : {}) });
      });
    }
    return sendXhr.apply(this, args);
  };
  const nav = performance.getEntriesByType && performance.getEntriesByType('navigation')[0];
  send({ type: 'load', url: location.href, navigation: nav ? nav.type : 'navigate' });
  window.addEventListener('pagehide', () => flush(true));
  const serialize = (value) => {
    const seen = new WeakSet();
    const json = JSON.stringify(value, (k, v) => {
      if (typeof v === 'bigint') return v.toString() + 'n';
      if (typeof v === 'function') return '[function ' + (v.name || 'anonymous') + ']';
      if (typeof v === 'symbol' || v === undefined) return String(v);
      if (v instanceof Node) return '[' + (v.nodeName || 'node') + ']';
      if (v && typeof v === 'object') { if (seen.has(v)) return '[circular]'; seen.add(v); }
      return v;
    });
    return json === undefined ? 'undefined' : json;
  };
  const poll = () => {
    if (failures > 5) return;
    post('/poll', { page, url: location.href, title: document.title }).then((r) => r.ok ? r.json() : Promise.reject(new Error('status ' + r.status))).then(async (command) => {
      failures = 0;
      if (command && command.type === 'eval') {
        let answer;
        try {
          const value = await (0, eval)(command.expression);
          answer = { ok: true, value: serialize(value) };
        } catch (e) {
          answer = { ok: false, error: text(e) };
        }
        await post('/result', { page, id: command.id, ...answer }).catch(() => {});
      } else if (command && command.type === 'reload') {
        flush(true);
        location.reload();
        return;
      }
      setTimeout(poll, 0);
    }, () => { failures++; setTimeout(poll, 2000 * failures); });
  };
  setTimeout(poll, 0);
})();
`;
}
