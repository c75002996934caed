import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { resolvePaths } from '@mcp-beacon/paths';
import { createLogger, safeReadInstance } from '@mcp-beacon/registry';
import { createTempDir } from '@mcp-beacon/test-utils';
import { type NodeIncomingMessageLike, toNodeHandler } from '@modelcontextprotocol/node';
import { createMcpHandler, McpServer } from '@modelcontextprotocol/server';
import { describe, expect, it } from 'vitest';
import { announce } from './announce.js';
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
