import { fileURLToPath } from 'node:url';
import { defineConfig } from 'tsup';

/** A workspace package's source, so the bridge's bundle keeps only the modules it uses. */
const source = (name: string) =>
  fileURLToPath(new URL(`../../packages/${name}/src/index.ts`, import.meta.url));

// The workspace packages are bundled in, so the packed app installs from its tarball alone
// (they are not on the registry yet); third-party dependencies stay external.
export default defineConfig([
  {
    entry: ['src/index.ts', 'src/main.ts', 'src/daemon-entry.ts'],
    format: 'esm',
    target: 'node20',
    sourcemap: true,
    noExternal: [/^@mcp-beacon\//],
    dts: { entry: ['src/index.ts'], resolve: [/^@mcp-beacon\//] },
  },
  // What every client launches: the bridge, in one file of its own with only the functions it
  // uses (no SDK, watcher, undici or valibot); the hub's code is loaded from the chunks above
  // only by `main.js` (--standalone and the other commands) and `daemon-entry.js`.
  {
    entry: ['src/cli.ts'],
    format: 'esm',
    target: 'node20',
    sourcemap: true,
    splitting: false,
    noExternal: [/^@mcp-beacon\//],
    esbuildPlugins: [
      {
        name: 'hub-entries-stay-apart',
        setup(build) {
          build.onResolve({ filter: /^\.\/(main|daemon-entry)\.js$/ }, (args) => ({
            path: args.path,
            external: true,
          }));
          // Built from their sources, module by module, so that what the bridge does not use
          // (the record schema and valibot with it) is left out.
          build.onResolve({ filter: /^@mcp-beacon\/(paths|registry|runtime)$/ }, (args) => ({
            path: source(args.path.slice('@mcp-beacon/'.length)),
          }));
        },
      },
    ],
  },
]);
