// What the MCP endpoint takes from the SDK, both protocol eras: loaded by the HTTP server at
// the first MCP request, so an instance nobody has asked anything does not hold the SDK.

export { NodeStreamableHTTPServerTransport, toNodeHandler } from '@modelcontextprotocol/node';
export {
  createMcpHandler,
  InMemoryServerEventBus,
  isInitializeRequest,
  isLegacyRequest,
} from '@modelcontextprotocol/server';
