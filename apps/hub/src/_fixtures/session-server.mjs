// An MCP server for the shared-hub tests, announced in $MCP_BEACON_HOME as <name> from its own
// folder: `work {tag}` reports progress three times, asks the client to confirm `<tag>` within
// the call (elicitation on the call's own stream) and answers `done <tag> at <name>: <answer>`;
// `wait` runs until cancelled, `waiting` says how many run now and `cancelled` how many were;
// `sessions` says how many MCP sessions clients opened on it.
// Usage: node session-server.mjs <marker> <name>

import { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { listenAndAnnounce, sessionServer } from './_announce.mjs';

const name = process.argv[3] ?? 'session-fixture';
let cancelled = 0;
/** `wait` calls running now: a test cancels one once it is here, not after a guessed delay. */
let waiting = 0;
let opened = 0;

function makeServer() {
  const server = new McpServer({ name, version: '1.0.0' });
  server.registerTool(
    'work',
    { description: 'reports progress, asks, answers', inputSchema: z.object({ tag: z.string() }) },
    async ({ tag }, ctx) => {
      const token = ctx.mcpReq._meta?.progressToken;
      for (let i = 1; i <= 3 && token !== undefined; i++)
        await ctx.mcpReq.notify({
          method: 'notifications/progress',
          params: { progressToken: token, progress: i, total: 3, message: `${tag} ${i}` },
        });
      const answer = await ctx.mcpReq.send({
        method: 'elicitation/create',
        params: {
          message: `confirm ${tag}`,
          requestedSchema: { type: 'object', properties: { who: { type: 'string' } } },
        },
      });
      return {
        content: [
          { type: 'text', text: `done ${tag} at ${name}: ${JSON.stringify(answer.content)}` },
        ],
      };
    },
  );
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
  server.registerTool('sessions', { description: 'sessions opened so far' }, async () => ({
    content: [{ type: 'text', text: String(opened) }],
  }));
  return server;
}

const http = sessionServer(makeServer, () => {
  opened++;
});
await listenAndAnnounce(http, name);
