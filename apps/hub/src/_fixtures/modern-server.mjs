// A modern-only MCP server (SDK 2, `createMcpHandler(..., { legacy: 'reject' })`): it answers
// 2026-07-28 requests and refuses `initialize`. Announced in $MCP_BEACON_HOME as `modern`, like
// any instance. `echo` answers its arguments; `confirm` asks the client (input_required
// elicitation) and answers with what it said; `wait` runs until cancelled, `waiting` says how
// many run now and `cancelled` how many were; `count` reports progress; `touch` says
// `note://pad` changed; the prompt `greet` greets.
// Usage: node modern-server.mjs <marker>

import { createServer } from 'node:http';
import { toNodeHandler } from '@modelcontextprotocol/node';
import {
  acceptedContent,
  createMcpHandler,
  inputRequired,
  McpServer,
} from '@modelcontextprotocol/server';
import { z } from 'zod';
import { listenAndAnnounce } from './_announce.mjs';

let cancelled = 0;
/** `wait` calls running now: a test cancels one once it is here, not after a guessed delay. */
let waiting = 0;
let touched = 0;

function build() {
  const server = new McpServer(
    { name: 'modern-fixture', version: '2.0.0' },
    { capabilities: { resources: { subscribe: true, listChanged: true } } },
  );
  server.registerTool(
    'echo',
    { description: 'answers its arguments', inputSchema: z.object({ text: z.string() }) },
    async ({ text }) => ({ content: [{ type: 'text', text: `echo ${text}` }] }),
  );
  server.registerTool('confirm', { description: 'asks the user' }, async (ctx) => {
    const schema = z.object({ ok: z.boolean() });
    const answer = acceptedContent(ctx.mcpReq.inputResponses, 'ok', schema);
    if (answer === undefined)
      return inputRequired({
        inputRequests: { ok: inputRequired.elicit({ message: 'ok?', requestedSchema: schema }) },
      });
    return { content: [{ type: 'text', text: `answer ${JSON.stringify(answer)}` }] };
  });
  server.registerTool('wait', { description: 'runs until cancelled' }, async (ctx) => {
    waiting++;
    await new Promise((resolve) =>
      ctx.mcpReq.signal.addEventListener('abort', resolve, { once: true }),
    );
    waiting--;
    cancelled++;
    return { content: [{ type: 'text', text: 'cancelled' }] };
  });
  server.registerTool('waiting', { description: 'wait calls running now' }, async () => ({
    content: [{ type: 'text', text: String(waiting) }],
  }));
  server.registerTool('cancelled', { description: 'cancelled calls so far' }, async () => ({
    content: [{ type: 'text', text: String(cancelled) }],
  }));
  server.registerTool('count', { description: 'reports progress three times' }, async (ctx) => {
    const token = ctx.mcpReq._meta?.progressToken;
    for (let i = 1; i <= 3 && token !== undefined; i++)
      await ctx.mcpReq.notify({
        method: 'notifications/progress',
        params: { progressToken: token, progress: i, total: 3 },
      });
    return { content: [{ type: 'text', text: 'counted' }] };
  });
  server.registerTool('touch', { description: 'changes note://pad' }, async () => {
    touched++;
    handler.notify.resourceUpdated('note://pad');
    return { content: [{ type: 'text', text: `touched ${touched}` }] };
  });
  server.registerResource(
    'pad',
    'note://pad',
    { description: 'a note', mimeType: 'text/plain' },
    async (uri) => ({ contents: [{ uri: uri.href, text: `pad touched ${touched} times` }] }),
  );
  server.registerPrompt(
    'greet',
    { description: 'greets', argsSchema: z.object({ who: z.string() }) },
    ({ who }) => ({
      messages: [{ role: 'user', content: { type: 'text', text: `hello ${who}` } }],
    }),
  );
  return server;
}

const handler = createMcpHandler(build, { legacy: 'reject' });
const serve = toNodeHandler(handler);
const http = createServer((req, res) => void serve(req, res));
await listenAndAnnounce(http, 'modern', () => handler.close());
