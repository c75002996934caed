// The same-run baseline for hub start-up: the smallest useful MCP server over stdio, built
// with the same SDK, so the difference to beacon-hub is what the hub itself adds.
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';

const server = new McpServer({ name: 'baseline', version: '1.0.0' });
server.registerTool('noop', { description: 'does nothing' }, async () => ({ content: [] }));
await server.connect(new StdioServerTransport());
