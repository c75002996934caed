// Test fixture: the built beacon-instance as a real process in a temp project and data home.
import { mkdir, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolvePaths } from '@mcp-beacon/paths';
import { type InstanceRecord, readValidRecords } from '@mcp-beacon/registry';
import {
  createTestScope,
  startProcess,
  type TempDir,
  type TestProcess,
  type TestScope,
  testNode,
  waitFor,
} from '@mcp-beacon/test-utils';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, beforeEach } from 'vitest';

/** The built CLI. */
export const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

/** The fixture's live state and helpers; fields are valid inside a test. */
export interface CliFixture {
  tmp: TempDir;
  home: string;
  project: string;
  startCli(
    args?: string[],
    env?: Record<string, string>,
    stdin?: 'ignore' | 'pipe',
    cwd?: string,
  ): TestProcess;
  records(): Promise<InstanceRecord[]>;
  startAndWaitForRecord(
    args?: string[],
    env?: Record<string, string>,
  ): Promise<{ proc: TestProcess; record: InstanceRecord }>;
  connectClient(record: InstanceRecord, token?: string): Promise<Client>;
  /** Registers a client to close after the test. */
  track<C extends { close(): Promise<void> }>(client: C): C;
}

/** What {@link rawPost} got back. */
export interface RawAnswer {
  status: number;
  session: string | undefined;
}

/** The body of an MCP `initialize` request. */
export const INITIALIZE = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: {
    protocolVersion: '2025-06-18',
    capabilities: {},
    clientInfo: { name: 'raw', version: '1' },
  },
};

/**
 * One raw HTTP request to an instance, with the MCP content headers plus `headers` (and a
 * bearer `token` when given); resolves with the status and the session id it answered.
 */
export function rawPost(
  url: string,
  options: {
    body?: unknown;
    token?: string | undefined;
    headers?: Record<string, string>;
    method?: string;
  } = {},
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: options.method ?? 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }),
          ...options.headers,
        },
      },
      (res) => {
        res.resume();
        const session = res.headers['mcp-session-id'];
        resolve({
          status: res.statusCode ?? 0,
          session: typeof session === 'string' ? session : undefined,
        });
      },
    );
    req.on('error', reject);
    req.end(options.body === undefined ? '' : JSON.stringify(options.body));
  });
}

/** Calls a tool and returns its result. */
export function call(client: Client, name: string, args: Record<string, unknown> = {}) {
  return client.callTool({ name, arguments: args }) as Promise<CallToolResult>;
}

/**
 * Sets up a temp project (`my-app` with `scripts`) and data home before each test, and after
 * it closes clients, kills every process it started and removes the folders.
 */
export function useCliFixture(scripts: Record<string, string>): CliFixture {
  let scope: TestScope;
  const fx = {} as CliFixture;

  beforeEach(async () => {
    scope = await createTestScope();
    fx.tmp = scope.tmp;
    fx.home = path.join(fx.tmp.path, 'home');
    fx.project = path.join(fx.tmp.path, 'my-app');
    await mkdir(fx.project);
    await writeFile(
      path.join(fx.project, 'package.json'),
      JSON.stringify({ name: 'my-app', scripts }),
    );
  });

  afterEach(() => scope.cleanup());

  fx.track = (client) => scope.trackClient(client);
  fx.startCli = (args = [], env = {}, stdin = 'ignore', cwd = fx.project) => {
    const proc = startProcess(testNode, [CLI, ...args], {
      cwd,
      env: { ...process.env, MCP_BEACON_HOME: fx.home, ...env },
      stdio: [stdin, 'pipe', 'pipe'],
    });
    return scope.track(proc);
  };
  fx.records = () => readValidRecords(resolvePaths({ home: fx.home }).instances);
  fx.startAndWaitForRecord = async (args = [], env = {}) => {
    const proc = fx.startCli(args, env);
    const [record] = await waitFor(
      async () => {
        const list = await fx.records();
        return list.length > 0 ? list : undefined;
      },
      { what: 'instance record' },
    );
    return { proc, record: record! };
  };
  fx.connectClient = async (record, token = record.token) => {
    const client = new Client({ name: 'test', version: '1.0.0' });
    const transport = new StreamableHTTPClientTransport(new URL(record.url), {
      requestInit: token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } },
    });
    await client.connect(transport);
    return fx.track(client);
  };
  return fx;
}
