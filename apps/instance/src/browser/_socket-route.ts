// A dev server's HMR client may open its socket to the dev server's own port rather than the
// page's: webpack-dev-server builds `ws://127.0.0.1:<its port>/ws` into the bundle once the
// port is known. This small script, served after the page script, routes a WebSocket opened
// to the dev server's own origin through the proxy instead, so the socket gets the proxy's
// Origin and Host rewriting like every other request of the page.

import { isLoopbackHost } from '@mcp-beacon/runtime';

/** The hosts (`host:port`) a page may name the dev server at `upstream` by. */
export function upstreamHosts(upstream: URL): string[] {
  const port = upstream.port || (upstream.protocol === 'https:' ? '443' : '80');
  const names = new Set([upstream.hostname]);
  if (isLoopbackHost(upstream.hostname.replace(/^\[|\]$/g, '')))
    for (const name of ['127.0.0.1', 'localhost', '[::1]', '0.0.0.0']) names.add(name);
  return [...names].map((name) => `${name}:${port}`);
}

/** The script (plain ES2017) that sends sockets for `upstream` to the page's own origin. */
export function socketRouteScript(upstream: URL): string {
  return `(() => {
  const NATIVE = window.WebSocket;
  if (!NATIVE || NATIVE.__beaconRouted) return;
  const HOSTS = ${JSON.stringify(upstreamHosts(upstream))};
  const route = (url) => {
    try {
      const u = new URL(url, location.href);
      if ((u.protocol === 'ws:' || u.protocol === 'wss:') && HOSTS.includes(u.host)) {
        u.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
        u.host = location.host;
        return u.href;
      }
    } catch (e) {}
    return url;
  };
  const Routed = function WebSocket(url, protocols) {
    return protocols === undefined ? new NATIVE(route(url)) : new NATIVE(route(url), protocols);
  };
  Routed.prototype = NATIVE.prototype;
  for (const k of ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED']) Routed[k] = NATIVE[k];
  Object.defineProperty(Routed, '__beaconRouted', { value: true });
  window.WebSocket = Routed;
})();
`;
}
