// Stack frames of page errors mapped through the dev server's source maps to project files:
// `src/App.tsx:12:5`, with that line of source.

import path from 'node:path';
import {
  FlattenMap,
  originalPositionFor,
  sourceContentFor,
  type TraceMap,
} from '@jridgewell/trace-mapping';
import { turbopackSourcePath } from './_turbopack-source.js';
import { evalModuleMap, isWebpackModuleUrl, webpackSourcePath } from './_webpack-sources.js';
import type { SourceFrame } from './store.js';

/** Frames of one stack mapped (the top ones: the rest rarely say more). */
export const MAPPED_FRAMES = 5;
/** Scripts whose maps are remembered. */
const CACHED_MAPS = 64;
/** Largest script or map read, in characters. */
export const MAX_SOURCE_CHARS = 8 * 1024 * 1024;

// `    at fn (http://host/src/main.ts?t=1:12:5)` or `    at http://host/src/main.ts:12:5`, and
// webpack's eval modules: `    at eval (webpack-internal:///./src/x.js:7:10)`.
const FRAME =
  /^\s*at (?:.*? \()?((?:https?:\/\/|webpack-internal:\/\/\/|webpack:\/\/)[^\s()]+):(\d+):(\d+)\)?\s*$/;

/** Reads a script or a map (through the proxy's upstream), or undefined. */
export type FetchText = (url: string) => Promise<string | undefined>;

/** A script a proxy served lately; `serial` grows each time it is served again. */
export interface ServedScript {
  url: string;
  serial: number;
}

/** Maps frames of the scripts a set of origins serve; one per instance. */
export class SourceMapper {
  private readonly maps = new Map<string, Promise<TraceMap | undefined>>();

  constructor(
    /** The project folder, to make mapped files relative to it. */
    private readonly root: string,
    private readonly fetchText: FetchText,
    /** Whether a frame's script URL is one this instance serves (its proxies' origins). */
    private readonly ours: (url: URL) => boolean,
    /** The scripts the proxies served lately, newest first (where `eval` modules are found). */
    private readonly served: () => ServedScript[] = () => [],
  ) {}

  /** The top frames of `stack` that map to a source file; unmapped frames are left out. */
  async map(stack: string): Promise<SourceFrame[]> {
    const frames: SourceFrame[] = [];
    for (const line of stack.split('\n')) {
      if (frames.length >= MAPPED_FRAMES) break;
      const m = FRAME.exec(line);
      if (!m) continue;
      const [, href = '', lineText = '0', columnText = '0'] = m;
      let url: URL;
      try {
        url = new URL(href);
      } catch {
        continue;
      }
      const raw = line.trim();
      const webpackModule = isWebpackModuleUrl(href);
      if (!webpackModule && !this.ours(url)) continue;
      const mapped = await (webpackModule
        ? this.mapEvalModule(href, Number(lineText), Number(columnText), raw)
        : this.mapOne(url, Number(lineText), Number(columnText), raw)
      ).catch(() => undefined);
      frames.push(
        mapped ?? {
          // Unmapped, a webpack module keeps its URL: its lines are the generated code's.
          file: webpackModule ? href : url.pathname.replace(/^\//, ''),
          line: Number(lineText),
          column: Number(columnText),
          raw,
        },
      );
    }
    return frames;
  }

  private async mapOne(
    url: URL,
    line: number,
    column: number,
    raw: string,
  ): Promise<SourceFrame | undefined> {
    const href = `${url.origin}${url.pathname}${url.search}`;
    // A script served again (a rebuilt bundle at the same URL) has its map read again.
    // (Proxies list their scripts at 127.0.0.1; a page may have been opened at localhost.)
    const own = href.replace(/^http:\/\/localhost:/, 'http://127.0.0.1:');
    const serial = this.served().find((s) => s.url === own)?.serial ?? 0;
    const trace = await this.cached(`${href}#${serial}`, () => this.load(url));
    return this.position(trace, line, column, raw, url);
  }

  /** A frame of a webpack `eval` module: its map is inside the newest served script holding it. */
  private async mapEvalModule(
    href: string,
    line: number,
    column: number,
    raw: string,
  ): Promise<SourceFrame | undefined> {
    for (const script of this.served()) {
      const trace = await this.cached(`${script.url}#${script.serial}|${href}`, async () => {
        const text = await this.fetchText(script.url);
        const json = text === undefined ? undefined : evalModuleMap(text, href);
        return json === undefined || json.length > MAX_SOURCE_CHARS
          ? undefined
          : new FlattenMap(json, href);
      });
      if (trace) return this.position(trace, line, column, raw, new URL(script.url));
    }
    return undefined;
  }

  private cached(
    key: string,
    load: () => Promise<TraceMap | undefined>,
  ): Promise<TraceMap | undefined> {
    let map = this.maps.get(key);
    if (!map) {
      map = load().catch(() => undefined);
      this.maps.set(key, map);
      if (this.maps.size > CACHED_MAPS) this.maps.delete(this.maps.keys().next().value!);
    }
    return map;
  }

  private position(
    trace: TraceMap | undefined,
    line: number,
    column: number,
    raw: string,
    url: URL,
  ): SourceFrame | undefined {
    if (!trace) return undefined;
    const position = originalPositionFor(trace, { line, column: Math.max(0, column - 1) });
    if (position.source === null || position.line === null) return undefined;
    const code = sourceContentFor(trace, position.source)
      ?.split(/\r?\n/)
      [position.line - 1]?.trim()
      .slice(0, 300);
    return {
      file: this.projectPath(position.source, url),
      line: position.line,
      column: (position.column ?? 0) + 1,
      ...(code ? { code } : {}),
      raw,
    };
  }

  /** The script's source map: inline (`data:`) or fetched beside it. */
  private async load(url: URL): Promise<TraceMap | undefined> {
    const script = await this.fetchText(url.href);
    if (script === undefined) return undefined;
    const m = /\/\/[#@] sourceMappingURL=(\S+)\s*$/.exec(script.slice(-MAX_SOURCE_CHARS));
    if (!m) return undefined;
    const ref = m[1]!;
    let json: string | undefined;
    if (ref.startsWith('data:')) {
      const comma = ref.indexOf(',');
      const meta = ref.slice(5, comma);
      const data = ref.slice(comma + 1);
      json = meta.endsWith(';base64')
        ? Buffer.from(data, 'base64').toString('utf8')
        : decodeURIComponent(data);
    } else {
      const mapUrl = new URL(ref, url);
      if (mapUrl.origin !== url.origin) return undefined;
      json = await this.fetchText(mapUrl.href);
    }
    if (json === undefined || json.length > MAX_SOURCE_CHARS) return undefined;
    // An index map (`sections`, as Turbopack serves) is flattened into one.
    return new FlattenMap(json, url.href);
  }

  /** A source as a project path: `src/main.ts`, or as the map names it when outside. */
  private projectPath(source: string, script: URL): string {
    const bundled = webpackSourcePath(source, this.root) ?? turbopackSourcePath(source, this.root);
    if (bundled !== undefined) return bundled;
    let pathname = source;
    try {
      const resolved = new URL(source, script);
      pathname = decodeURIComponent(resolved.pathname);
      // Vite serves files outside the root as /@fs/<absolute path>.
      if (pathname.startsWith('/@fs/')) pathname = pathname.slice(4);
      else if (resolved.protocol.startsWith('http')) return pathname.replace(/^\//, '');
    } catch {
      // Not a URL: a plain path.
    }
    if (path.isAbsolute(pathname)) {
      const relative = path.relative(this.root, pathname);
      if (!relative.startsWith('..') && !path.isAbsolute(relative)) return relative;
    }
    return pathname.replace(/^\//, '');
  }
}
