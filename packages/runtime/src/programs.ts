import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';

/** Options of {@link findProgram}. */
export interface FindProgramOptions {
  /** The search path (default `process.env.PATH`). */
  path?: string | undefined;
  /** Windows: the extensions tried, in order (default `process.env.PATHEXT`, else `.COM;.EXE;.BAT;.CMD`). */
  pathExt?: string | undefined;
  /** The rules followed: Windows (`;`, PATHEXT) or POSIX (default `process.platform`). */
  platform?: NodeJS.Platform;
  /**
   * The fs edge: whether `file` is a program this user can start (default: a regular file, and
   * on POSIX one with an execute bit for this user). Tests of another platform's rules inject it.
   */
  isProgram?: (file: string, platform: NodeJS.Platform) => boolean;
}

function isExecutable(file: string, platform: NodeJS.Platform): boolean {
  try {
    if (!statSync(file).isFile()) return false;
    if (platform !== 'win32') accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The file names tried in each folder on Windows, in the order Windows tries them: `name` as
 * given only when its extension is one of PATHEXT (`node.exe`), then `name` + each PATHEXT
 * extension in order. Never the bare `name` otherwise: Windows cannot start an extensionless
 * file, and the one npm installs beside `npm.cmd` is the sh script for Git Bash and Cygwin.
 */
function windowsCandidates(name: string, pathExt: string): string[] {
  const extensions = pathExt
    .split(';')
    .map((ext) => ext.trim().toLowerCase())
    .filter((ext) => ext.startsWith('.') && ext.length > 1);
  const own = path.win32.extname(name).toLowerCase();
  return [
    ...(own !== '' && extensions.includes(own) ? [name] : []),
    ...extensions.map((ext) => `${name}${ext}`),
  ];
}

/**
 * The absolute path of program `name` found on the search path, or undefined. Empty and
 * relative entries (`.`, `./node_modules/.bin`, a stray `::`) are skipped, and the working
 * directory is never searched (Windows searches it first on its own): they would be resolved
 * inside whatever folder a process runs in, and a project folder is not trusted to supply
 * `git`, `npm` or `beacon-instance`. A `name` with a path separator (or, on Windows, a drive) is
 * refused (undefined).
 * On Windows each folder is searched for the PATHEXT extensions in order (`npm.cmd`, never the
 * extensionless `npm` sh script beside it); a `.cmd` or `.bat` found this way needs cmd.exe to
 * run (cross-spawn does that with its arguments escaped; Node refuses it without a shell).
 */
export function findProgram(name: string, options: FindProgramOptions = {}): string | undefined {
  const platform = options.platform ?? process.platform;
  const windows = platform === 'win32';
  const paths = windows ? path.win32 : path.posix;
  const isProgram = options.isProgram ?? isExecutable;
  // On Windows `\` separates folders too, and `C:tool` names a file relative to drive C.
  if (name === '' || name.includes('/') || (windows && /[\\:]/.test(name))) return undefined;
  const search = options.path ?? process.env.PATH ?? '';
  const names = windows
    ? windowsCandidates(name, options.pathExt ?? process.env.PATHEXT ?? '.COM;.EXE;.BAT;.CMD')
    : [name];
  for (const entry of search.split(windows ? ';' : ':')) {
    const dir = entry.replace(/^"(.*)"$/, '$1');
    if (dir === '' || !paths.isAbsolute(dir)) continue;
    for (const candidate of names) {
      const file = paths.join(dir, candidate);
      if (isProgram(file, platform)) return file;
    }
  }
  return undefined;
}
