import { constants, existsSync } from 'node:fs';
import { open, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { cleanText } from '@mcp-beacon/runtime';

/** Package managers Beacon can run scripts with. */
export type PackageManager = 'pnpm' | 'npm' | 'yarn' | 'bun';

const LOCKFILES: ReadonlyArray<[string, PackageManager]> = [
  ['pnpm-lock.yaml', 'pnpm'],
  ['bun.lockb', 'bun'],
  ['bun.lock', 'bun'],
  ['yarn.lock', 'yarn'],
  ['package-lock.json', 'npm'],
  ['npm-shrinkwrap.json', 'npm'],
];

/** What beacon-instance knows about the project it serves. */
export interface ProjectInfo {
  name: string;
  path: string;
  hasPackageJson: boolean;
  packageManager: PackageManager;
  scripts: Record<string, string>;
}

/**
 * The package manager a project uses, from its lockfile; `packageManager` in package.json
 * decides when there is none, and npm is the default.
 */
export function detectPackageManager(
  dir: string,
  packageJson?: { packageManager?: unknown },
): PackageManager {
  for (const [file, manager] of LOCKFILES) if (existsSync(path.join(dir, file))) return manager;
  const declared =
    typeof packageJson?.packageManager === 'string' ? packageJson.packageManager.split('@')[0] : '';
  return declared === 'pnpm' || declared === 'yarn' || declared === 'bun' ? declared : 'npm';
}

/**
 * Reads the project's package.json (if any) afresh, so edits to scripts are seen without a
 * restart. The name defaults to package.json `name`, else the folder name; control
 * characters in it are escaped (see `cleanText`).
 */
export async function readProject(dir: string, nameOverride?: string): Promise<ProjectInfo> {
  let pkg: { name?: unknown; scripts?: unknown; packageManager?: unknown } | undefined;
  try {
    pkg = JSON.parse(await readFile(path.join(dir, 'package.json'), 'utf8'));
  } catch {
    pkg = undefined;
  }
  const scripts: Record<string, string> = {};
  if (pkg && typeof pkg.scripts === 'object' && pkg.scripts !== null) {
    for (const [key, value] of Object.entries(pkg.scripts))
      if (typeof value === 'string') scripts[key] = value;
  }
  const pkgName = typeof pkg?.name === 'string' && pkg.name.length > 0 ? pkg.name : undefined;
  return {
    name: cleanText(nameOverride ?? pkgName ?? (path.basename(dir) || 'project')),
    path: dir,
    hasPackageJson: pkg !== undefined,
    packageManager: detectPackageManager(dir, pkg),
    scripts,
  };
}

/** Folders walked up from a project to find its repository. */
const MAX_GIT_DEPTH = 32;

/**
 * The checked-out git branch (`HEAD` when detached), or `undefined` outside a repository. Read
 * from `.git/HEAD` (or the `gitdir:` a worktree's `.git` file names) in the project or a folder
 * above it: no program is run, so a repository's own config (hooks, fsmonitor) or a `git`
 * planted in the project never runs.
 */
export async function gitBranch(dir: string): Promise<string | undefined> {
  const folders: string[] = [];
  for (let folder = path.resolve(dir); folders.length < MAX_GIT_DEPTH; ) {
    folders.push(folder);
    const parent = path.dirname(folder);
    if (parent === folder) break;
    folder = parent;
  }
  // Every folder is looked at together and the nearest repository wins: one round of file
  // system calls instead of one per folder, so the answer is quick even while a scan shares
  // the event loop.
  const heads = await Promise.all(folders.map((folder) => readGitHead(path.join(folder, '.git'))));
  const head = heads.find((h) => h !== undefined);
  if (head === undefined) return undefined;
  const ref = /^ref: refs\/heads\/(.+)$/.exec(head);
  return ref ? ref[1] : /^[0-9a-f]{40,64}$/.test(head) ? 'HEAD' : undefined;
}

/** The first line of a repository's HEAD, from a `.git` folder or a `gitdir:` file; bounded. */
async function readGitHead(dotGit: string): Promise<string | undefined> {
  const firstLine = async (file: string) => {
    try {
      // Non-blocking: a FIFO named HEAD must not hang the call.
      const handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
      try {
        if (!(await handle.stat()).isFile()) return undefined;
        const { buffer, bytesRead } = await handle.read(Buffer.alloc(512), 0, 512, 0);
        return buffer.toString('utf8', 0, bytesRead).split('\n')[0]?.trim();
      } finally {
        await handle.close();
      }
    } catch {
      return undefined;
    }
  };
  const info = await stat(dotGit).catch(() => undefined);
  if (info?.isDirectory()) return firstLine(path.join(dotGit, 'HEAD'));
  if (!info?.isFile()) return undefined;
  const pointer = /^gitdir: (.+)$/.exec((await firstLine(dotGit)) ?? '');
  if (!pointer) return undefined;
  return firstLine(path.join(path.resolve(path.dirname(dotGit), pointer[1]!), 'HEAD'));
}

/** argv for running `script` with `args` under `manager`; arguments are never joined into a shell string. */
export function scriptCommand(
  manager: PackageManager,
  script: string,
  args: readonly string[],
): [string, string[]] {
  // npm needs `--` before arguments meant for the script; the others pass them through.
  if (manager === 'npm')
    return ['npm', ['run', script, ...(args.length > 0 ? ['--', ...args] : [])]];
  return [manager, ['run', script, ...args]];
}
