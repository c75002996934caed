// Test fixture: the built beacon-hub over stdio with a real SDK client, and built
// beacon-instances in temp projects, all sharing one temp data home.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { resolvePaths } from '@mcp-beacon/paths';
import { type InstanceRecord, readValidRecords, writeInstance } from '@mcp-beacon/registry';
import {
  createTestScope,
  makeRecord,
  startProcess,
  type TempDir,
  type TestProcess,
  type TestScope,
  testNode,
  waitFor,
} from '@mcp-beacon/test-utils';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import {
  ElicitRequestSchema,
  type ElicitResult,
  ListRootsRequestSchema,
  ToolListChangedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { afterEach, beforeEach } from 'vitest';

/** The built hub and instance CLIs. */
export const HUB = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
export const INSTANCE = fileURLToPath(new URL('../../instance/dist/cli.js', import.meta.url));
/** The hub as the tests' clients launch it: in their process, with debug logs and 200 ms pings. */
export const HUB_TEST_ARGS = [
  HUB,
  '--standalone',
  '--log-level',
  'debug',
  '--ping-interval',
  '200',
  '--ping-timeout',
  '300',
];

/** A hub started by {@link HubFixture.startHubClient}, with what its client saw. */
export interface HubHandle {
  client: Client;
  /** The hub process's pid. */
  pid: number;
  stderr: () => string;
  listChanged: () => number;
  transportErrors: Error[];
}

/** The fixture's live state and helpers; fields are valid inside a test. */
export interface HubFixture {
  tmp: TempDir;
  /** The data home (`MCP_BEACON_HOME`) of every process the fixture starts. */
  home: string;
  /** A project folder `<name>-<n>` whose package.json has `scripts` (default: `hello`). */
  makeProject(name: string, scripts?: Record<string, string>): Promise<string>;
  /** The valid records in the data home. */
  records(): Promise<InstanceRecord[]>;
  /** Starts beacon-instance in a new project and waits for its record. */
  startInstance(
    name: string,
    args?: string[],
    scripts?: Record<string, string>,
  ): Promise<{ proc: TestProcess; record: InstanceRecord }>;
  /**
   * Starts beacon-hub (debug logs, 200 ms pings) with an SDK client connected to it; with
   * `roots`, the client declares roots and answers `roots/list` with those folders.
   */
  startHubClient(
    args?: string[],
    options?: {
      roots?: string[];
      /** Answers elicitation requests (the client then declares the capability). */
      onElicit?: (message: string) => ElicitResult;
    },
  ): Promise<HubHandle>;
  /**
   * Starts a fixture server (`node <script>`, which prints `listening on <port>` on stderr) and
   * announces it in the data home under `name`, with its own pid; both are tracked.
   */
  announceFixture(
    script: string,
    name: string,
    env?: Record<string, string>,
  ): Promise<{ proc: TestProcess; record: InstanceRecord }>;
  /** Registers a process to kill after the test. */
  track(proc: TestProcess): TestProcess;
  /** Registers a client to close after the test. */
  trackClient<C extends { close(): Promise<void> }>(client: C): C;
}

/**
 * Sets up a temp data home before each test, and after it closes the clients, kills every
 * process it started and removes the folders.
 */
export function useHubFixture(): HubFixture {
  let scope: TestScope;
  let projects = 0;
  const fx = {} as HubFixture;

  beforeEach(async () => {
    scope = await createTestScope();
    fx.tmp = scope.tmp;
    fx.home = path.join(fx.tmp.path, 'home');
  });
  afterEach(() => scope.cleanup());

  fx.track = (proc) => scope.track(proc);
  fx.trackClient = (client) => scope.trackClient(client);
  fx.makeProject = async (name, scripts) => {
    const dir = path.join(fx.tmp.path, `${name}-${projects++}`);
    await mkdir(dir, { recursive: true });
    await writeFile(
      path.join(dir, 'package.json'),
      JSON.stringify({
        name,
        scripts: scripts ?? { hello: `node -e "console.log('hello from ${name}')"` },
      }),
    );
    return dir;
  };
  fx.records = () => readValidRecords(resolvePaths({ home: fx.home }).instances);
  fx.announceFixture = async (script, name, env = {}) => {
    const proc = fx.track(startProcess(testNode, [script], { env: { ...process.env, ...env } }));
    const port = Number((await proc.waitForStderr(/listening on (\d+)/)).match(/(\d+)/)?.[1]);
    const record = makeRecord({ port, url: `http://127.0.0.1:${port}/mcp`, name, pid: proc.pid });
    await writeInstance(resolvePaths({ home: fx.home }), record);
    return { proc, record };
  };
  fx.startInstance = async (name, args = [], scripts) => {
    const cwd = await fx.makeProject(name, scripts);
    const before = new Set((await fx.records()).map((r) => r.id));
    const proc = fx.track(
      startProcess(testNode, [INSTANCE, ...args], {
        cwd,
        env: { ...process.env, MCP_BEACON_HOME: fx.home },
      }),
    );
    const record = await waitFor(
      async () => (await fx.records()).find((r) => !before.has(r.id) && r.pid === proc.pid),
      { what: `${name} record` },
    );
    return { proc, record };
  };
  fx.startHubClient = async (args = [], options = {}) => {
    let stderr = '';
    const transport = new StdioClientTransport({
      command: testNode,
      args: [...HUB_TEST_ARGS, ...args],
      env: { ...(process.env as Record<string, string>), MCP_BEACON_HOME: fx.home },
      stderr: 'pipe',
    });
    transport.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const transportErrors: Error[] = [];
    const { roots, onElicit } = options;
    const client = new Client(
      { name: 'hub-test', version: '1.0.0' },
      {
        capabilities: {
          ...(roots ? { roots: { listChanged: true } } : {}),
          ...(onElicit ? { elicitation: {} } : {}),
        },
      },
    );
    if (onElicit)
      client.setRequestHandler(ElicitRequestSchema, async (request) =>
        onElicit((request.params as { message: string }).message),
      );
    if (roots)
      client.setRequestHandler(ListRootsRequestSchema, async () => ({
        roots: roots.map((folder) => ({ uri: pathToFileURL(folder).href })),
      }));
    client.onerror = (error) => transportErrors.push(error);
    let changes = 0;
    client.setNotificationHandler(ToolListChangedNotificationSchema, async () => {
      changes++;
    });
    await client.connect(transport);
    fx.trackClient(client);
    return {
      client,
      pid: transport.pid ?? 0,
      stderr: () => stderr,
      listChanged: () => changes,
      transportErrors,
    };
  };
  return fx;
}
