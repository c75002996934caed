#!/usr/bin/env node
// Writes every ```ts block of every package and app README to src/readme/, so the consumer's
// strict type-check compiles the examples against the built packages and they cannot rot.
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.join(here, '../../..');
const out = path.join(here, '../src/readme');
await rm(out, { recursive: true, force: true });
await mkdir(out, { recursive: true });
let count = 0;
for (const group of ['packages', 'apps']) {
  for (const dir of await readdir(path.join(root, group))) {
    const text = await readFile(path.join(root, group, dir, 'README.md'), 'utf8').catch(() => '');
    const blocks = [...text.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
    for (const [i, code] of blocks.entries()) {
      await writeFile(
        path.join(out, `${dir}-${i + 1}.ts`),
        `// From ${group}/${dir}/README.md\n${code}export {};\n`,
      );
      count++;
    }
  }
}
console.log(`${count} README examples written to ${path.relative(root, out)}`);
