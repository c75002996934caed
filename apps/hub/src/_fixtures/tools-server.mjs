// A streamable-HTTP MCP server on 127.0.0.1:$PORT that lists the tools given (as JSON) and
// answers every call with `<label> ran <tool> <arguments>`, writing `called <tool>` to stderr:
// a stand-in for another project's server, an older or newer beacon-instance, or a hostile one.
// Usage: PORT=n node tools-server.mjs <label> '<tools as JSON>'

import { startMcpHttpServer } from '@mcp-beacon/test-utils';

const [label, toolsJson] = process.argv.slice(2);
const server = await startMcpHttpServer(JSON.parse(toolsJson), {
  port: Number(process.env.PORT),
  name: label,
  answer: (name, args) => {
    process.stderr.write(`called ${name}\n`);
    return `${label} ran ${name} ${JSON.stringify(args ?? {})}`;
  },
});
process.stderr.write(`listening on ${server.port}\n`);
process.on('SIGTERM', () => void server.close().then(() => process.exit(0)));
