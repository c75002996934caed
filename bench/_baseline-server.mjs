// The same-run baseline for hub start-up: the smallest useful MCP server over stdio, built
// with the SDK the hub serves with (SDK 2), so the difference to beacon-hub is what the hub
// itself adds.
import { McpServer } from '@modelcontextprotocol/server';
import { StdioServerTransport } from '@modelcontextprotocol/server/stdio';

const server = new McpServer({ name: 'baseline', version: '1.0.0' });
server.registerTool('noop', { description: 'does nothing' }, async () => ({ content: [] }));
await server.connect(new StdioServerTransport());
