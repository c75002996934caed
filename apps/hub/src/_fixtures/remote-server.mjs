// An MCP server for the remote tests, announced in $MCP_BEACON_HOME like any instance: `confirm`
// asks the client (elicitation) and answers with what it said; `roots` lists the client's
// roots; `wait` runs until cancelled, `waiting` says how many run now, and `cancelled` says how
// many calls were; `big` answers with `chars` characters; `count` reports progress; `log` sends
// a log message with the call's result and another on the session 100 ms after it (then, given
// `mark`, lists a tool of that name); the prompt `greet` completes its argument. It listens on
// 127.0.0.1 of whatever network namespace it runs in.
// Usage: node remote-server.mjs <marker>

import { completable, McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { listenAndAnnounce, sessionServer } from './_announce.mjs';

let cancelled = 0;
/** `wait` calls running now: a test cancels one once it is here, not after a guessed delay. */
let waiting = 0;

function makeServer() {
  const server = new McpServer(
    { name: 'remote-fixture', version: '1.0.0' },
    { capabilities: { logging: {} } },
  );
  server.registerTool(
    'log',
    {
      description: 'logs during the call and after it',
      inputSchema: z.object({ mark: z.string().optional() }),
    },
    async ({ mark }, ctx) => {
      // The first as a notification of the call (ahead of its result), the second on the session.
      await ctx.mcpReq.notify({
        method: 'notifications/message',
        params: { level: 'info', logger: 'fx', data: 'during the call' },
      });
      setTimeout(async () => {
        await server
          .sendLoggingMessage({ level: 'info', logger: 'fx', data: 'after the call' })
          .catch(() => undefined);
        // Then, on the same session stream, a tool named `mark` appears: once a client sees it
        // listed, whoever reads that stream has read the message before it.
        if (mark)
          server.registerTool(mark, { description: 'listed after the log' }, async () => ({
            content: [{ type: 'text', text: mark }],
          }));
      }, 100);
      return { content: [{ type: 'text', text: 'logged' }] };
    },
  );
  server.registerTool('confirm', { description: 'asks the user' }, async () => {
    const answer = await server.server.elicitInput({
      message: 'ok?',
      requestedSchema: { type: 'object', properties: { ok: { type: 'boolean' } } },
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
  server.registerTool(
    'cancelled',
    { description: 'cancelled calls so far', inputSchema: z.object({ x: z.string().optional() }) },
    async () => ({
      content: [{ type: 'text', text: String(cancelled) }],
    }),
  );
  server.registerTool('roots', { description: 'lists the roots the client gave' }, async () => {
    const { roots } = await server.server.listRoots();
    return { content: [{ type: 'text', text: `roots: ${JSON.stringify(roots)}` }] };
  });
  server.registerTool(
    'big',
    {
      description: 'answers with `chars` characters',
      inputSchema: z.object({ chars: z.number() }),
    },
    async ({ chars }) => ({ content: [{ type: 'text', text: 'x'.repeat(chars) }] }),
  );
  server.registerTool('count', { description: 'reports progress three times' }, async (ctx) => {
    const token = ctx.mcpReq._meta?.progressToken;
    for (let i = 1; i <= 3 && token !== undefined; i++)
      await ctx.mcpReq.notify({
        method: 'notifications/progress',
        params: { progressToken: token, progress: i, total: 3 },
      });
    return { content: [{ type: 'text', text: 'counted' }] };
  });
  server.registerPrompt(
    'greet',
    {
      description: 'greets',
      argsSchema: z.object({
        who: completable(z.string(), (value) =>
          ['world', 'wide'].filter((w) => w.startsWith(value)),
        ),
      }),
    },
    ({ who }) => ({
      messages: [{ role: 'user', content: { type: 'text', text: `hello ${who}` } }],
    }),
  );
  return server;
}

const http = sessionServer(makeServer);
await listenAndAnnounce(http, 'fixture');
