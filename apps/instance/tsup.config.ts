import { defineConfig } from 'tsup';

// The workspace packages are bundled in, so the packed app installs from its tarball alone
// (they are not on the registry yet); third-party dependencies stay external.
export default defineConfig({
  entry: ['src/index.ts', 'src/cli.ts', 'src/guardian.ts'],
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  clean: true,
  noExternal: [/^@mcp-beacon\//],
  dts: { resolve: [/^@mcp-beacon\//] },
});
