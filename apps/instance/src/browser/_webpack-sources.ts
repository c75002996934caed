// What webpack's source maps and stack frames name, read as project files.
//
// webpack names a module's source `webpack://<name>/./src/x.js?<hash>` in its maps. With an
// `eval` devtool (`eval-source-map`, webpack's development style) each module is a string run
// through `eval`, ending in an inline `//# sourceMappingURL=data:…` and a
// `//# sourceURL=webpack-internal:///./src/x.js`: a browser's stack frames then name that URL,
// not a served file, and the map is found inside the served bundle (or hot update) that holds
// the module's string.

import path from 'node:path';

/** Whether a frame's URL names a webpack module rather than a served file. */
export function isWebpackModuleUrl(href: string): boolean {
  return href.startsWith('webpack-internal:') || href.startsWith('webpack:');
}

/**
 * A webpack source or module URL as a project path: `webpack://app/./src/x.js?b635` and
 * `webpack-internal:///./src/x.js` are `src/x.js`; a loader chain keeps its last part
 * (`…!./src/x.js`); an absolute path inside `root` is made relative to it. Undefined when
 * `source` is no webpack URL.
 */
export function webpackSourcePath(source: string, root: string): string | undefined {
  let rest: string;
  if (source.startsWith('webpack-internal:///')) rest = source.slice('webpack-internal:///'.length);
  else if (source.startsWith('webpack://')) {
    // `webpack://<name>/<path>`; the name is empty in `webpack:///./src/x.js`.
    const after = source.slice('webpack://'.length);
    const slash = after.indexOf('/');
    rest = slash === -1 ? '' : after.slice(slash + 1);
  } else return undefined;
  rest = rest.replace(/[?#].*$/, '');
  rest = rest.slice(rest.lastIndexOf('!') + 1);
  try {
    rest = decodeURIComponent(rest);
  } catch {
    // Not percent-encoded: kept as it is.
  }
  if (path.isAbsolute(rest)) {
    const relative = path.relative(root, rest);
    if (!relative.startsWith('..') && !path.isAbsolute(relative)) return relative;
    return rest;
  }
  return path.posix.normalize(rest).replace(/^\.\//, '') || rest;
}

const MAP_MARK = '//# sourceMappingURL=data:application/json;';
/** Occurrences of a module's `sourceURL` looked at in one script, the last ones first. */
export const EVAL_MARKERS_READ = 16;
/** Largest inline map read, in characters of its data URL. */
const MAX_DATA_CHARS = 8 * 1024 * 1024;

/**
 * The source map (JSON text) of the `eval` module whose `//# sourceURL=` is `moduleUrl`, read
 * from the script text that holds the module's string; the last such module when the script
 * holds several. Undefined when the script holds none, or holds it without an inline map, or
 * names the module more than {@link EVAL_MARKERS_READ} times after it (each look is a scan back).
 */
export function evalModuleMap(script: string, moduleUrl: string): string | undefined {
  const marker = `//# sourceURL=${moduleUrl}`;
  let at = script.lastIndexOf(marker);
  for (let n = 0; at !== -1 && n < EVAL_MARKERS_READ; n++) {
    // In a module's string the map comes last but for the sourceURL: `…base64,<map>\n//# sourceURL=`.
    // The marker ends the module's string: an escaped line break or the closing quote follows.
    const next = script.slice(at + marker.length, at + marker.length + 2);
    const whole = next.startsWith('\\n') || /^["'\n]/.test(next);
    const mapAt = whole ? script.lastIndexOf(MAP_MARK, at) : -1;
    if (mapAt !== -1) {
      const map = readDataUrl(script, mapAt + MAP_MARK.length);
      const between = map ? script.slice(map.end, at) : '';
      if (map && (between === '\\n' || between === '\n')) return map.json;
    }
    at = at === 0 ? -1 : script.lastIndexOf(marker, at - 1);
  }
  return undefined;
}

/** The JSON of an inline map whose `data:application/json;` ends at `from`, and where it ends. */
function readDataUrl(script: string, from: number): { json: string; end: number } | undefined {
  const comma = script.indexOf(',', from);
  if (comma === -1 || comma - from > 64) return undefined;
  const meta = script.slice(from, comma);
  // Inside a JS string literal the data ends at the first escape, quote or space.
  const rest = /[\\"'\s]/.exec(script.slice(comma + 1, comma + 1 + MAX_DATA_CHARS));
  if (!rest) return undefined;
  const end = comma + 1 + rest.index;
  const data = script.slice(comma + 1, end);
  if (!meta.endsWith('base64')) {
    try {
      return { json: decodeURIComponent(data), end };
    } catch {
      return undefined;
    }
  }
  return { json: Buffer.from(data, 'base64').toString('utf8'), end };
}
