// Test fixture: a small MCP server over real HTTP on 127.0.0.1 whose every answer a test can
// script: refuse the GET stream, forget its sessions (a restart), hang a call, answer a list
// with any body. What it was asked is kept in order.

import { randomUUID } from 'node:crypto';
import { createServer, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** How the server answers one request: a result (JSON), a hang (an SSE head, then nothing) or a raw body. */
export type ScriptedAnswer = { result: unknown } | 'hang' | { body: string };

/** A running {@link startScriptedServer}. */
export interface ScriptedServer {
  url: string;
  /** Methods of the requests and notifications taken, in order (a GET is `GET`). */
  seen: string[];
  count(method: string): number;
  /** Answers a method differently (undefined: the default answer). */
  script(
    answer: (method: string, params: Record<string, unknown>) => ScriptedAnswer | undefined,
  ): void;
  /** The status of the next GET streams: 200 opens one, anything else refuses it. */
  streamStatus: (attempt: number) => number;
  /** Writes a message to every open GET stream. */
  push(message: unknown): void;
  /** Open GET streams. */
  streams(): number;
  /** Forgets every session, as a restarted server would: their requests get 404. */
  forgetSessions(): void;
  /** Sockets open on the server side. */
  sockets(): number;
  /** Hung requests whose socket is still open. */
  hanging(): number;
  tools: unknown[];
  close(): Promise<void>;
}

/** Starts a {@link ScriptedServer} listing `tools`. */
export async function startScriptedServer(tools: unknown[] = []): Promise<ScriptedServer> {
  const sessions = new Set<string>();
  const streams = new Set<ServerResponse>();
  const sockets = new Set<Socket>();
  const hung = new Set<Socket>();
  let scripted: Parameters<ScriptedServer['script']>[0] = () => undefined;
  let getAttempts = 0;
  const state: ScriptedServer = {
    url: '',
    seen: [],
    tools,
    count: (method) => state.seen.filter((m) => m === method).length,
    script(answer) {
      scripted = answer;
    },
    streamStatus: () => 200,
    push(message) {
      for (const res of streams) res.write(`data: ${JSON.stringify(message)}\n\n`);
    },
    streams: () => streams.size,
    forgetSessions() {
      sessions.clear();
      for (const res of streams) res.end();
    },
    sockets: () => sockets.size,
    hanging: () => hung.size,
    close: async () => {
      for (const res of streams) res.end();
      await new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      });
    },
  };
  const defaults = (method: string): ScriptedAnswer | undefined => {
    if (method === 'initialize')
      return {
        result: {
          protocolVersion: '2025-06-18',
          capabilities: {
            tools: { listChanged: true },
            resources: { subscribe: true },
            logging: {},
          },
          serverInfo: { name: 'scripted', version: '1.0.0' },
        },
      };
    if (method === 'tools/list') return { result: { tools: state.tools } };
    if (method === 'resources/list') return { result: { resources: [] } };
    if (method === 'resources/templates/list') return { result: { resourceTemplates: [] } };
    if (method === 'tools/call') return { result: { content: [{ type: 'text', text: 'called' }] } };
    return { result: {} };
  };
  const http = createServer((req, res) => {
    const session = req.headers['mcp-session-id'] as string | undefined;
    if (req.method === 'GET') {
      state.seen.push('GET');
      if (session === undefined || !sessions.has(session)) return void res.writeHead(404).end();
      const status = state.streamStatus(getAttempts++);
      if (status !== 200) return void res.writeHead(status).end();
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.flushHeaders();
      streams.add(res);
      res.on('close', () => streams.delete(res));
      return;
    }
    if (req.method === 'DELETE') {
      if (session) sessions.delete(session);
      return void res.writeHead(200).end();
    }
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => {
      body += c;
    });
    req.on('end', () => {
      const message = JSON.parse(body) as {
        id?: string | number;
        method?: string;
        params?: Record<string, unknown>;
      };
      const method = message.method ?? 'response';
      const isInit = method === 'initialize';
      if (!isInit && (session === undefined || !sessions.has(session)))
        return void res
          .writeHead(404)
          .end('{"jsonrpc":"2.0","error":{"code":-32001,"message":"Session not found"},"id":null}');
      state.seen.push(method);
      if (message.id === undefined) return void res.writeHead(202).end();
      const headers: Record<string, string> = {};
      if (isInit) {
        const id = randomUUID();
        sessions.add(id);
        headers['mcp-session-id'] = id;
      }
      const answer = scripted(method, message.params ?? {}) ?? defaults(method)!;
      if (answer === 'hang') {
        res.writeHead(200, { ...headers, 'content-type': 'text/event-stream' });
        res.flushHeaders();
        hung.add(req.socket);
        req.socket.on('close', () => hung.delete(req.socket));
        return;
      }
      res.writeHead(200, { ...headers, 'content-type': 'application/json' });
      if ('body' in answer) return void res.end(answer.body);
      res.end(JSON.stringify({ jsonrpc: '2.0', id: message.id, result: answer.result }));
    });
  });
  http.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(http.address() as { port: number }).port}/mcp`;
  return state;
}
