// One MCP server as a session (2025) or a request (2026-07-28) gets it: the project's tools, the
// browser half's tools and the runs' log resources. Loaded at the first MCP request, with the SDK
// and the tools' schemas (zod), so an instance nobody has asked anything does not hold them.

import { McpServer } from '@modelcontextprotocol/server';
import type { BrowserPages } from './browser/pages.js';
import { registerBrowserTools } from './browser/tools.js';
import { registerLogResources } from './resources.js';
import { registerTools, type ToolContext } from './tools.js';

/** Builds the MCP server of one session (or one 2026-07-28 request). */
export function createSessionServer(
  info: { name: string; version: string },
  context: ToolContext & { pages: BrowserPages },
): McpServer {
  const server = new McpServer(info, { capabilities: { logging: {} } });
  registerTools(server, context);
  registerBrowserTools(server, context.pages);
  const stopResources = registerLogResources(server, context.runner);
  server.server.onclose = stopResources;
  return server;
}
