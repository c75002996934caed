// Nothing lost through the real hub: an instance whose event stream is refused is shown
// degraded, the stream is reopened by the health check, and what it then says reaches the client.
import { fileURLToPath } from 'node:url';
import type { InstanceSummary } from '@mcp-beacon/hub-mcp';
import { waitFor } from '@mcp-beacon/test-utils';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { useHubFixture } from './_hub-fixture.js';

const FLAKY = fileURLToPath(new URL('./_fixtures/flaky-stream.mjs', import.meta.url));
const fx = useHubFixture();

describe('the event stream is part of health', () => {
  it('shows an instance whose stream is refused 5 times as degraded, then takes its list_changed', async () => {
    const { proc: flaky } = await fx.announceFixture(FLAKY, 'flaky', { REFUSALS: '5' });

    const hub = await fx.startHubClient();
    const flakyInfo = async () =>
      (
        ((await hub.client.callTool({ name: 'instances_list', arguments: {} })) as CallToolResult)
          .structuredContent as { instances: InstanceSummary[] }
      ).instances.find((i) => i.name === 'flaky');
    const degraded = await waitFor(async () => (await flakyInfo())?.degraded ?? undefined, {
      what: 'flaky degraded',
    });
    expect(degraded).toMatch(/event stream lost, \d+ reopens? failed .*HTTP 503.*not arriving/);
    expect((await flakyInfo())?.state).toBe('active');
    // The client has seen the list as it is while the stream is still refused.
    const shown = (await hub.client.listTools()).tools.map((t) => t.name);
    expect(shown).toContain('early_tool');
    expect(shown).not.toContain('late_tool');
    const before = hub.listChanged();
    // Reopened by the health check (200 ms pings here) well before the transport's own 15 s
    // step; what the instance then says on the stream reaches the client.
    await waitFor(() => hub.listChanged() > before, { what: 'list_changed', timeoutMs: 8_000 });
    expect((await hub.client.listTools()).tools.map((t) => t.name)).toContain('late_tool');
    expect((await flakyInfo())?.degraded).toBeNull();
    expect(flaky.stderr().match(/GET 503/g)).toHaveLength(5);
    expect(flaky.stderr()).toMatch(/GET 200/);
  });
});
