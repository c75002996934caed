import { defineConfig } from 'tsup';

// The workspace packages are bundled in, so the packed app installs from its tarball alone
// (they are not on the registry yet); third-party dependencies stay external.
export default defineConfig([
  {
    entry: ['src/index.ts', 'src/cli.ts'],
    format: 'esm',
    target: 'node20',
    sourcemap: true,
    noExternal: [/^@mcp-beacon\//],
    dts: { resolve: [/^@mcp-beacon\//] },
  },
  // The guardian starts once per script run: built on its own, it loads only the few
  // functions it uses, not the chunk the CLI shares (valibot, the SDK).
  {
    entry: ['src/guardian.ts'],
    format: 'esm',
    target: 'node20',
    sourcemap: true,
    splitting: false,
    noExternal: [/^@mcp-beacon\//],
  },
]);
