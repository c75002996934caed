// An instance's agent tools and log resources, driven through the real hub over stdio.
import { fileURLToPath } from 'node:url';
import { waitFor } from '@mcp-beacon/test-utils';
import {
  type CallToolResult,
  CallToolResultSchema,
  ResourceUpdatedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { useHubFixture } from './_hub-fixture.js';

const DEV = JSON.stringify(
  fileURLToPath(new URL('../../instance/fixtures/devserver.mjs', import.meta.url)),
);

const fx = useHubFixture();

/** A project `web` with a dev server and a chatty script, its instance, and a hub client. */
async function setup() {
  await fx.startInstance('web', [], {
    dev: `node ${DEV}`,
    chatty:
      'node -e "let n = 0; const t = setInterval(() => { console.log(\'line \' + ++n); if (n === 100) clearInterval(t); }, 10)"',
    ticker:
      'node -e "let n = 0; const t = setInterval(() => { console.log(\'tick \' + ++n); if (n === 300) clearInterval(t); }, 50)"',
  });
  return (await fx.startHubClient()).client;
}

const structured = <T>(result: unknown) => {
  const r = result as CallToolResult;
  expect(r.isError, JSON.stringify(r.content)).toBeFalsy();
  return r.structuredContent as T;
};

describe('agent tools through the hub', () => {
  it('starts the dev server, waits for its URL with progress, and the URL answers', async () => {
    const client = await setup();
    const progress: number[] = [];
    const run = structured<{ id: string; waited: string; urls: string[] }>(
      await client.callTool(
        // The default surface: one scripts_run for every project, the project named by instance.
        {
          name: 'scripts_run',
          arguments: { instance: 'web', name: 'dev', waitFor: { url: true } },
        },
        CallToolResultSchema,
        { onprogress: (p) => void progress.push(p.progress) },
      ),
    );
    expect(run.waited).toBe('url');
    expect(run.urls).toEqual([expect.stringMatching(/^http:\/\/localhost:\d+\/$/)]);
    expect(await (await fetch(run.urls[0]!)).text()).toMatch(/^hello from dev/);
    const info = structured<{ urls: string[] }>(
      await client.callTool({ name: 'project_info', arguments: { instance: 'web' } }),
    );
    expect(info.urls).toEqual(run.urls);

    // A wait long enough for progress: progress notifications reach the client through the hub.
    const timeout = structured<{ waited: string }>(
      await client.callTool(
        {
          name: 'scripts_run',
          arguments: {
            instance: 'web',
            name: 'dev',
            waitFor: { pattern: 'never printed', timeoutMs: 2_500 },
          },
        },
        CallToolResultSchema,
        { onprogress: (p) => void progress.push(p.progress) },
      ),
    );
    expect(timeout.waited).toBe('timeout');
    expect(progress.length).toBeGreaterThanOrEqual(1);
  });

  it('offers each run as beacon://web/logs://<run>, readable and subscribable', async () => {
    const client = await setup();
    const updates: string[] = [];
    client.setNotificationHandler(ResourceUpdatedNotificationSchema, async (n) => {
      updates.push(n.params.uri);
    });
    const run = structured<{ id: string }>(
      await client.callTool({
        name: 'scripts_run',
        arguments: { name: 'chatty', waitFor: { pattern: '^line 1$' } },
      }),
    );
    const uri = `beacon://web/logs://${run.id}`;
    await waitFor(async () => (await client.listResources()).resources.some((r) => r.uri === uri), {
      what: 'resource listed',
    });
    await client.subscribeResource({ uri });
    await waitFor(() => updates.length >= 2, { what: 'updates through the hub' });
    expect(new Set(updates)).toEqual(new Set([uri]));
    await waitFor(
      async () => {
        const read = await client.readResource({ uri });
        expect(read.contents[0]?.uri).toBe(uri);
        return (read.contents[0] as { text: string }).text.includes('line 100');
      },
      { what: 'all lines readable' },
    );
    await client.unsubscribeResource({ uri });
  });

  it('keeps a subscription through a forced reconnect: the new session is subscribed again', async () => {
    const client = await setup();
    const updates: string[] = [];
    client.setNotificationHandler(ResourceUpdatedNotificationSchema, async (n) => {
      updates.push(n.params.uri);
    });
    const run = structured<{ id: string }>(
      await client.callTool({
        name: 'scripts_run',
        arguments: { instance: 'web', name: 'ticker', waitFor: { pattern: '^tick 1$' } },
      }),
    );
    const uri = `beacon://web/logs://${run.id}`;
    await client.subscribeResource({ uri });
    await waitFor(() => updates.length >= 2, { what: 'updates before the reconnect' });
    // A new session on the instance: it knows nothing of the subscription until told again.
    structured(
      await client.callTool({ name: 'instances_disconnect', arguments: { instance: 'web' } }),
    );
    structured(
      await client.callTool({ name: 'instances_connect', arguments: { instance: 'web' } }),
    );
    const after = updates.length;
    // The hub says the resource was updated once it subscribed again, then the instance's own
    // updates (at most 4 a second while the ticker prints) keep coming.
    await waitFor(() => updates.length >= after + 4, { what: 'updates after the reconnect' });
    expect(new Set(updates)).toEqual(new Set([uri]));
  });
});
