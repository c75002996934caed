// Turbopack (Next.js 15+) names sources in its maps `turbopack:///[project]/<path>`, where the
// path is relative to Turbopack's root: the project folder, a monorepo's root above it, or a
// root set in next.config (`turbopack.root`). Which one is not in the map, so the path is
// matched against the project folder.

import { existsSync } from 'node:fs';
import path from 'node:path';

const PROJECT_SOURCE = /^turbopack:\/\/\/\[project\]\/([^?#]*)/;
const OTHER_SOURCE = /^turbopack:\/\/\/([^?#]*)/;
/** Path segments tried when looking for the project's part of a source path. */
const MAX_SEGMENTS = 64;

/**
 * A Turbopack source as a path in the project folder `root` (`app/page.tsx`), or, for a file
 * outside it, as Turbopack names it (`[project]/node_modules/...`); undefined when `source` is
 * not a Turbopack source.
 */
export function turbopackSourcePath(source: string, root: string): string | undefined {
  const project = PROJECT_SOURCE.exec(source);
  if (!project) {
    const other = OTHER_SOURCE.exec(source);
    return other ? safeDecode(other[1]!) : undefined;
  }
  const rest = safeDecode(project[1]!);
  // Turbopack's root is the file system's: the path is absolute.
  const absolute = path.resolve('/', rest);
  const inRoot = path.relative(root, absolute);
  if (inRoot !== '' && !inRoot.startsWith('..') && !path.isAbsolute(inRoot)) return inRoot;
  // Its root is the project or a folder above it: the longest tail naming a file in it.
  const segments = rest.split('/').filter((s) => s !== '' && s !== '.' && s !== '..');
  for (let i = 0; i < Math.min(segments.length, MAX_SEGMENTS); i++) {
    const tail = segments.slice(i).join('/');
    if (existsSync(path.join(root, tail))) return tail;
  }
  return `[project]/${rest}`;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
