// A stdio MCP server that is not a hub that serves remotes: it answers initialize as
// `<name> <version>` and offers nothing else (an older beacon-hub, or another program).
// Usage: node stdio-server.mjs <name> <version>
import { Server } from '@modelcontextprotocol/server';
import { StdioServerTransport } from '@modelcontextprotocol/server/stdio';

const [name = 'other', version = '1.0.0'] = process.argv.slice(2);
const server = new Server({ name, version }, { capabilities: { tools: {} } });
await server.connect(new StdioServerTransport());
process.stdin.on('end', () => process.exit(0));
