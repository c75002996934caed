import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { resolvePaths } from '@mcp-beacon/paths';
import { safeReadInstance } from '@mcp-beacon/registry';
import { createLogger } from '@mcp-beacon/runtime';
import { createTempDir, startMcpHttpServer, waitFor } from '@mcp-beacon/test-utils';
import { type NodeIncomingMessageLike, toNodeHandler } from '@modelcontextprotocol/node';
import { createMcpHandler, McpServer } from '@modelcontextprotocol/server';
import { describe, expect, it } from 'vitest';
import { type Announcement, type AnnouncementEnd, announce } from './announce.js';
import { startInstance } from './instance.js';

describe('announce close()', () => {
  it('resolves a second, concurrent close() only once the record is gone', async () => {
    await using tmp = await createTempDir();
    const project = path.join(tmp.path, 'p');
    await mkdir(project);
    await writeFile(path.join(project, 'package.json'), '{"name":"p"}');
    const logger = createLogger('silent');
    await using served = await startInstance({
      cwd: project,
      logger,
      register: false,
      auth: false,
    });
    const announced = await announce({
      url: served.url,
      logger,
      paths: resolvePaths({ home: path.join(tmp.path, 'home') }),
    });
    const first = announced.close();
    await announced.close();
    expect(await safeReadInstance(announced.registration.file)).toMatchObject({
      reason: 'NOT_FOUND',
    });
    expect(await first).toBeUndefined();
    expect(await announced.done).toEqual({ how: 'stopped' });
  });
});

describe('announce a server that speaks only MCP 2026-07-28', () => {
  it('announces it after server/discover, keeps pinging it, and ends when it stops answering', async () => {
    await using tmp = await createTempDir();
    const handler = createMcpHandler(
      () => new McpServer({ name: 'modern-only', version: '2.0.0' }),
      { legacy: 'reject' },
    );
    const serve = toNodeHandler(handler);
    const http = createServer((req, res) => void serve(req as NodeIncomingMessageLike, res));
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const stop = async () => {
      await handler.close();
      http.closeAllConnections();
      await new Promise((resolve) => http.close(resolve));
    };
    try {
      const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`;
      const announced = await announce({
        url,
        logger: createLogger('silent'),
        paths: resolvePaths({ home: path.join(tmp.path, 'home') }),
        intervalMs: 50,
        timeoutMs: 500,
      });
      const read = await safeReadInstance(announced.registration.file);
      expect(read).toMatchObject({ ok: true, value: { url } });
      await stop();
      expect(await announced.done).toMatchObject({ how: 'unreachable' });
      expect(await safeReadInstance(announced.registration.file)).toMatchObject({
        reason: 'NOT_FOUND',
      });
    } finally {
      if (http.listening) await stop();
    }
  });
});

/**
 * An SDK 2 server on 127.0.0.1 that serves both revisions, as `createMcpHandler` does by
 * default: 2026-07-28 per request and 2025-11-25 statelessly. It notes the
 * `mcp-protocol-version` header of every request it gets (`-` when there is none).
 */
async function serveBothRevisions() {
  const handler = createMcpHandler(
    () => new McpServer({ name: 'both-revisions', version: '2.0.0' }),
  );
  const serve = toNodeHandler(handler);
  const revisions: string[] = [];
  const http = createServer((req, res) => {
    revisions.push(String(req.headers['mcp-protocol-version'] ?? '-'));
    void serve(req as NodeIncomingMessageLike, res);
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const close = async () => {
    if (!http.listening) return;
    await handler.close();
    http.closeAllConnections();
    await new Promise((resolve) => http.close(resolve));
  };
  return {
    url: `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`,
    revisions,
    close,
    [Symbol.asyncDispose]: close,
  };
}

/**
 * Checks, every 250 ms for `ms` milliseconds, that the announcement goes on and its record
 * file is there and valid.
 */
async function expectAnnouncedFor(announced: Announcement, url: string, ms: number) {
  let ended: AnnouncementEnd | undefined;
  void announced.done.then((end) => {
    ended = end;
  });
  const until = Date.now() + ms;
  for (;;) {
    expect(ended).toBeUndefined();
    expect(await safeReadInstance(announced.registration.file)).toMatchObject({
      ok: true,
      value: { id: announced.registration.id, url },
    });
    if (Date.now() >= until) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Waits until the announcement's record file is gone, at most `ms` milliseconds. */
async function expectWithdrawnWithin(announced: Announcement, ms: number, since: number) {
  await waitFor(async () => (await safeReadInstance(announced.registration.file)).ok === false, {
    timeoutMs: ms,
    what: 'the record to be withdrawn',
  });
  expect(performance.now() - since).toBeLessThan(ms);
  expect(await safeReadInstance(announced.registration.file)).toMatchObject({
    reason: 'NOT_FOUND',
  });
  expect(await announced.done).toMatchObject({ how: 'unreachable' });
}

describe('announce keeps a live server announced in either revision', () => {
  it('keeps a server that serves 2025-11-25 and 2026-07-28 announced for 60 s over 2026-07-28, then withdraws it within 2 s of its end', async () => {
    await using tmp = await createTempDir();
    await using server = await serveBothRevisions();
    await using announced = await announce({
      url: server.url,
      logger: createLogger('silent'),
      paths: resolvePaths({ home: path.join(tmp.path, 'home') }),
      intervalMs: 100,
      timeoutMs: 500,
    });
    const before = server.revisions.length;
    await expectAnnouncedFor(announced, server.url, 60_000);
    // Many keep-alive requests were answered, all of them in 2026-07-28.
    const kept = server.revisions.slice(before);
    expect(kept.length).toBeGreaterThan(100);
    expect(new Set(kept)).toEqual(new Set(['2026-07-28']));

    const since = performance.now();
    await server.close();
    await expectWithdrawnWithin(announced, 2_000, since);
  }, 120_000);

  it('keeps a 2025-11-25-only server announced over its session, then withdraws it within 2 s of its end', async () => {
    await using tmp = await createTempDir();
    const server = await startMcpHttpServer([]);
    try {
      await using announced = await announce({
        url: server.url,
        logger: createLogger('silent'),
        paths: resolvePaths({ home: path.join(tmp.path, 'home') }),
        intervalMs: 50,
        timeoutMs: 500,
      });
      // About 60 pings.
      await expectAnnouncedFor(announced, server.url, 3_000);
      const since = performance.now();
      await server.close();
      await expectWithdrawnWithin(announced, 2_000, since);
    } finally {
      await server.close().catch(() => undefined);
    }
  });
});
