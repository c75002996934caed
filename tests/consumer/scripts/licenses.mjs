#!/usr/bin/env node
// Every publishable package carries the root LICENSE (npm packs a package folder's LICENSE
// whatever its `files` say): each copy must exist and match the root file byte for byte.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const license = readFileSync(path.join(root, 'LICENSE'), 'utf8');
const problems = [];
for (const group of ['packages', 'apps']) {
  for (const name of readdirSync(path.join(root, group))) {
    const dir = path.join(root, group, name);
    let manifest;
    try {
      manifest = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
    } catch {
      continue;
    }
    if (manifest.private) continue;
    let copy;
    try {
      copy = readFileSync(path.join(dir, 'LICENSE'), 'utf8');
    } catch {
      problems.push(`${group}/${name}: no LICENSE`);
      continue;
    }
    if (copy !== license) problems.push(`${group}/${name}: LICENSE differs from the root one`);
    if (manifest.license !== 'MIT') problems.push(`${group}/${name}: license field is not MIT`);
  }
}
if (problems.length > 0) {
  process.stderr.write(`${problems.join('\n')}\n`);
  process.exit(1);
}
process.stdout.write('every publishable package carries the root LICENSE\n');
