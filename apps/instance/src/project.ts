import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { cleanText } from '@mcp-beacon/registry';

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

/** The checked-out git branch, or `undefined` outside a repository or when git is missing. */
export async function gitBranch(dir: string): Promise<string | undefined> {
  try {
    const { stdout } = await promisify(execFile)('git', ['rev-parse', '--abbrev-ref', 'HEAD'], {
      cwd: dir,
      timeout: 2_000,
    });
    const branch = stdout.trim();
    return branch.length > 0 ? branch : undefined;
  } catch {
    return undefined;
  }
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
