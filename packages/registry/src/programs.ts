import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';

/** Options of {@link findProgram}. */
export interface FindProgramOptions {
  /** The search path (default `process.env.PATH`). */
  path?: string | undefined;
  /** Windows: the extensions tried (default `process.env.PATHEXT`, else `.COM;.EXE;.BAT;.CMD`). */
  pathExt?: string | undefined;
  platform?: NodeJS.Platform;
}

function isExecutable(file: string, windows: boolean): boolean {
  try {
    if (!statSync(file).isFile()) return false;
    if (!windows) accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The absolute path of program `name` found on the search path, or undefined. Empty and
 * relative entries (`.`, `./node_modules/.bin`, a stray `::`) are skipped, and the working
 * directory is never searched (Windows searches it first on its own): they would be resolved
 * inside whatever folder a process runs in, and a project folder is not trusted to supply
 * `git`, `npm` or `beacon-instance`. A `name` with a path separator is refused (undefined).
 */
export function findProgram(name: string, options: FindProgramOptions = {}): string | undefined {
  const platform = options.platform ?? process.platform;
  const windows = platform === 'win32';
  const paths = windows ? path.win32 : path.posix;
  if (name.includes('/') || (windows && name.includes('\\'))) return undefined;
  const search = options.path ?? process.env.PATH ?? '';
  const extensions = windows
    ? ['', ...(options.pathExt ?? process.env.PATHEXT ?? '.COM;.EXE;.BAT;.CMD').split(';')]
    : [''];
  for (const entry of search.split(windows ? ';' : ':')) {
    const dir = entry.replace(/^"(.*)"$/, '$1');
    if (dir === '' || !paths.isAbsolute(dir)) continue;
    for (const ext of extensions) {
      const file = paths.join(dir, `${name}${ext}`);
      if (isExecutable(file, windows)) return file;
    }
  }
  return undefined;
}
