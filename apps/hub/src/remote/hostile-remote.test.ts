import { fileURLToPath } from 'node:url';
import type { InstanceSummary, RemoteSummary } from '@mcp-beacon/hub-mcp';
import { testNode, waitFor } from '@mcp-beacon/test-utils';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { useHubFixture } from '../_hub-fixture.js';

// A remote hub that lies about its instances: each is held to the local record rules at the
// edge, and what fails them is reported and left out whole.
const LIAR = fileURLToPath(new URL('../_fixtures/hostile-remote.mjs', import.meta.url));
const fx = useHubFixture();

describe('a remote hub that lies', () => {
  it('has its instances held to the record rules, the rejected ones reported, none half-used', async () => {
    const hub = await fx.startHubClient(['--remote', `liar=${testNode} ${LIAR}`]);
    const listed = async () =>
      ((await hub.client.callTool({ name: 'instances_list', arguments: {} })) as CallToolResult)
        .structuredContent as { instances: InstanceSummary[]; remotes?: RemoteSummary[] };
    await waitFor(async () => (await listed()).remotes?.[0]?.state === 'connected', {
      what: 'the liar connected',
    });
    await waitFor(() => (hub.stderr().match(/ignoring instance/g) ?? []).length >= 5, {
      what: 'the rejections reported',
    });
    const stderr = hub.stderr();
    expect(stderr).toMatch(/remote liar: ignoring instance \S+: started: /);
    expect(stderr).toMatch(
      /remote liar: ignoring instance \S+: pid: pid must be a positive integer/,
    );
    expect(stderr).toMatch(/remote liar: ignoring instance \S+: port: /);
    expect(stderr).toMatch(
      /remote liar: ignoring instance \.\.\/\.\.\/etc\/passwd: id: id must be a UUID v4/,
    );
    expect(stderr).toMatch(/remote liar: ignoring instance \S+: path: /);
    // Reported once each, in a line of bounded length: the 1 MiB path is not repeated.
    expect(stderr.length).toBeLessThan(64 * 1024);
    const { instances, remotes } = await listed();
    expect(instances).toEqual([]);
    // Only the valid description counts; it is still connecting there, so not added to the manager.
    expect(remotes).toEqual([expect.objectContaining({ name: 'liar', instances: 1 })]);
  });
});
