import { createRequire } from 'node:module';

/** This package's version, shown by `--version`, in the MCP server info and by `status`. */
export const VERSION: string = createRequire(import.meta.url)('../package.json').version;
