#!/usr/bin/env node
// Fails when a package's source imports itself in a circle (type imports count: a type cycle
// is still two files that cannot be read one before the other). Relative imports only: the
// packages point down at each other by name, which the workspace already keeps acyclic.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const IMPORT = /(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s*['"](\.{1,2}\/[^'"]+)['"]/g;

function sources(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : sources(full);
    return /\.(ts|tsx)$/.test(entry.name) && !/\.(test|fixture)\.ts$/.test(entry.name)
      ? [full]
      : [];
  });
}

function resolve(from, specifier) {
  const base = path.resolve(path.dirname(from), specifier);
  for (const candidate of [
    base.replace(/\.js$/, '.ts'),
    base.replace(/\.js$/, '.tsx'),
    `${base}.ts`,
    path.join(base, 'index.ts'),
  ])
    if (existsSync(candidate)) return candidate;
  return undefined;
}

/** Strongly connected components of more than one file (or a file importing itself). */
function cycles(graph) {
  let index = 0;
  const stack = [];
  const meta = new Map();
  const found = [];
  const visit = (v) => {
    meta.set(v, { index, low: index, onStack: true });
    index++;
    stack.push(v);
    for (const w of graph.get(v) ?? []) {
      if (!meta.has(w)) {
        visit(w);
        meta.get(v).low = Math.min(meta.get(v).low, meta.get(w).low);
      } else if (meta.get(w).onStack)
        meta.get(v).low = Math.min(meta.get(v).low, meta.get(w).index);
    }
    if (meta.get(v).low !== meta.get(v).index) return;
    const component = [];
    let w;
    do {
      w = stack.pop();
      meta.get(w).onStack = false;
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || graph.get(v)?.includes(v)) found.push(component);
  };
  for (const v of graph.keys()) if (!meta.has(v)) visit(v);
  return found;
}

let failed = 0;
let files = 0;
for (const group of ['packages', 'apps']) {
  for (const name of readdirSync(path.join(root, group))) {
    const src = path.join(root, group, name, 'src');
    if (!existsSync(src)) continue;
    const graph = new Map();
    for (const file of sources(src)) {
      files++;
      const text = readFileSync(file, 'utf8');
      const targets = [...text.matchAll(IMPORT)].flatMap((m) => resolve(file, m[1]) ?? []);
      graph.set(file, [...new Set(targets)]);
    }
    for (const component of cycles(graph)) {
      failed++;
      const names = component.map((f) => path.relative(root, f)).sort();
      console.error(`import cycle in ${group}/${name}: ${names.join(' <-> ')}`);
    }
  }
}
if (failed > 0) process.exit(1);
console.log(`no import cycles (${files} source files)`);
