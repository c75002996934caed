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
const EVAL_START = 'eval(';

/**
 * The source map (JSON text) of the `eval` module whose `//# sourceURL=` is `moduleUrl`, read
 * from the script text that holds the module's string; the last such module when the script
 * holds several. Undefined when the script holds none, or holds it without an inline map.
 */
export function evalModuleMap(script: string, moduleUrl: string): string | undefined {
  const marker = `//# sourceURL=${moduleUrl}`;
  let at = script.lastIndexOf(marker);
  while (at !== -1) {
    // The marker ends the module's string: an escaped line break or the closing quote follows.
    const next = script.slice(at + marker.length, at + marker.length + 2);
    if (next.startsWith('\\n') || next.startsWith('"') || next.startsWith("'")) {
      const start = script.lastIndexOf(EVAL_START, at);
      const mapAt = script.lastIndexOf(MAP_MARK, at);
      if (mapAt !== -1 && mapAt > start) return decodeDataUrl(script, mapAt + MAP_MARK.length);
    }
    at = at === 0 ? -1 : script.lastIndexOf(marker, at - 1);
  }
  return undefined;
}

/** The JSON of an inline map whose `data:application/json;` ends just before `from`. */
function decodeDataUrl(script: string, from: number): string | undefined {
  const comma = script.indexOf(',', from);
  if (comma === -1 || comma - from > 64) return undefined;
  const meta = script.slice(from, comma);
  // Inside a JS string literal the data ends at the first escape or quote.
  const end = /[\\"'\s]/.exec(script.slice(comma + 1));
  const data = script.slice(comma + 1, end ? comma + 1 + end.index : undefined);
  if (!meta.endsWith('base64')) {
    try {
      return decodeURIComponent(data);
    } catch {
      return undefined;
    }
  }
  return Buffer.from(data, 'base64').toString('utf8');
}
