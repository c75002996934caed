import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { resolvePaths } from '@mcp-beacon/paths';
import { createLogger, safeReadInstance } from '@mcp-beacon/registry';
import { createTempDir } from '@mcp-beacon/test-utils';
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
