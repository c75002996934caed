import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { InstanceSummary } from '@mcp-beacon/hub-mcp';
import { resolvePaths } from '@mcp-beacon/paths';
import { type InstanceRecord, readValidRecords } from '@mcp-beacon/registry';
import { startProcess, type TestProcess, testNode, waitFor } from '@mcp-beacon/test-utils';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  type CallToolResult,
  type JSONRPCMessage,
  JSONRPCMessageSchema,
} from '@modelcontextprotocol/sdk/types.js';

export const HUB = fileURLToPath(new URL('../../../apps/hub/dist/cli.js', import.meta.url));
export const INSTANCE = fileURLToPath(
  new URL('../../../apps/instance/dist/cli.js', import.meta.url),
);

/**
 * A stdio client transport that starts the hub itself and checks every line the hub writes to
 * stdout: each must be one JSON-RPC message. Lines that are not are kept in `violations`.
 */
export class CheckedStdioTransport implements Transport {
  onmessage?: (message: JSONRPCMessage) => void;
  onclose?: () => void;
  onerror?: (error: Error) => void;
  readonly violations: string[] = [];
  lines = 0;
  stderr = '';
  child: ChildProcess | undefined;
  private buffer = '';

  constructor(
    private readonly args: string[],
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  async start(): Promise<void> {
    const child = spawn(testNode, [HUB, '--standalone', ...this.args], {
      env: this.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child = child;
    child.stderr?.setEncoding('utf8').on('data', (c: string) => {
      this.stderr += c;
    });
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      this.buffer += chunk;
      let newline = this.buffer.indexOf('\n');
      while (newline >= 0) {
        const line = this.buffer.slice(0, newline).replace(/\r$/, '');
        this.buffer = this.buffer.slice(newline + 1);
        this.lines++;
        this.accept(line);
        newline = this.buffer.indexOf('\n');
      }
    });
    child.once('exit', () => this.onclose?.());
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
  }

  private accept(line: string): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      this.violations.push(line);
      return;
    }
    const message = JSONRPCMessageSchema.safeParse(parsed);
    if (!message.success) {
      this.violations.push(line);
      return;
    }
    this.onmessage?.(message.data);
  }

  async send(message: JSONRPCMessage): Promise<void> {
    this.child?.stdin?.write(`${JSON.stringify(message)}\n`);
  }

  async close(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    child.stdin?.end();
    await new Promise((resolve) => child.once('exit', resolve));
  }

  /** Whatever remains unterminated in the buffer when the hub exits counts too. */
  leftover(): string {
    return this.buffer;
  }
}

/** The fault suite's world: one data root, one hub, any number of instances. */
export class World {
  readonly instances: TestProcess[] = [];
  hub!: Client;
  transport!: CheckedStdioTransport;

  constructor(readonly root: string) {}

  get home(): string {
    return path.join(this.root, 'home');
  }

  get paths() {
    return resolvePaths({ home: this.home });
  }

  async startHub(args: string[] = []): Promise<void> {
    this.transport = new CheckedStdioTransport(
      [
        '--log-level',
        'info',
        '--ping-interval',
        '200',
        '--ping-timeout',
        '400',
        '--call-timeout',
        '1500',
        ...args,
      ],
      { ...process.env, MCP_BEACON_HOME: this.home },
    );
    this.hub = new Client({ name: 'fault-suite', version: '1.0.0' });
    await this.hub.connect(this.transport);
  }

  async project(
    name: string,
    scripts: Record<string, string> = { hello: 'node -e "console.log(1)"' },
  ): Promise<string> {
    const dir = path.join(this.root, 'projects', `${name}-${this.instances.length}`);
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'package.json'), JSON.stringify({ name, scripts }));
    return dir;
  }

  /** Starts beacon-instance in a fresh project and waits for its record. */
  async startInstance(
    name: string,
    args: string[] = [],
    scripts?: Record<string, string>,
  ): Promise<{ proc: TestProcess; record: InstanceRecord }> {
    const cwd = await this.project(name, scripts);
    const proc = startProcess(testNode, [INSTANCE, '--log-level', 'warn', ...args], {
      cwd,
      env: { ...process.env, MCP_BEACON_HOME: this.home },
    });
    this.instances.push(proc);
    const record = await waitFor(
      async () => (await this.records()).find((r) => r.pid === proc.pid),
      { what: `${name} record`, timeoutMs: 30_000 },
    );
    return { proc, record };
  }

  records(): Promise<InstanceRecord[]> {
    return readValidRecords(this.paths.instances);
  }

  async list(): Promise<InstanceSummary[]> {
    const result = (await this.hub.callTool({
      name: 'instances_list',
      arguments: {},
    })) as CallToolResult;
    return (result.structuredContent as { instances: InstanceSummary[] }).instances;
  }

  async stateOf(id: string): Promise<string | undefined> {
    return (await this.list()).find((i) => i.id === id)?.state;
  }

  call(name: string, args: Record<string, unknown> = {}): Promise<CallToolResult> {
    return this.hub.callTool({ name, arguments: args }) as Promise<CallToolResult>;
  }
}
