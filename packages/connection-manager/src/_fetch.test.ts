import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { boundedFetch } from './_fetch.js';

// The fetch given to the SDK's transport for 2026-07-28 instances: every answer read within a
// bound, a JSON body whole and an event stream one event at a time, with the record's token.

const BOUND = 1_000;
let http: Server;
let base: string;
let authorizations: Array<string | undefined> = [];
const agent = new Agent({ connections: 4 });

beforeAll(async () => {
  http = createServer((req, res) => {
    authorizations.push(req.headers.authorization);
    const event = (size: number) => `data: ${'x'.repeat(size)}\n\n`;
    if (req.url === '/json') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ text: 'y'.repeat(BOUND * 2) }));
    } else if (req.url === '/small-json') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ text: 'ok' }));
    } else if (req.url === '/events') {
      // Ten events, each well within the bound, ten times it in all.
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      for (let i = 0; i < 10; i++) res.write(event(BOUND / 2));
      res.end();
    } else {
      // One event over the bound, sent in pieces, then a stream that stays open.
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: ');
      for (let i = 0; i < 4; i++) res.write('z'.repeat(BOUND / 2));
    }
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await agent.close();
  http.closeAllConnections();
  await new Promise((resolve) => http.close(resolve));
});

describe('boundedFetch', () => {
  const fetch = boundedFetch({ maxLength: BOUND, agent: async () => agent, token: 't0ken' });

  it('reads an answer within the bound, sending the token', async () => {
    authorizations = [];
    const response = await fetch(`${base}/small-json`);
    expect(await response.json()).toEqual({ text: 'ok' });
    expect(authorizations).toEqual(['Bearer t0ken']);
  });

  it('cuts a JSON body past the bound while it is read', async () => {
    const response = await fetch(`${base}/json`);
    await expect(response.text()).rejects.toThrow(`passed ${BOUND} bytes; its response was closed`);
  });

  it('bounds an event stream one event at a time', async () => {
    const response = await fetch(`${base}/events`);
    const text = await response.text();
    expect(text.length).toBeGreaterThan(BOUND * 5);
  });

  it('ends a stream whose one event passes the bound, however it is split', async () => {
    const response = await fetch(`${base}/endless`);
    await expect(response.text()).rejects.toThrow(/passed 1000 bytes/);
  });
});
