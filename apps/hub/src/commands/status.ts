// `beacon-hub status [--json]`: the shared hubs running for this user, asked on their private
// endpoints: version, uptime, memory, instances, and each client session.
import { readdir } from 'node:fs/promises';
import { connect } from 'node:net';
import path from 'node:path';
import type { BeaconPaths } from '@mcp-beacon/paths';
import { cleanText, type OptionValues } from '@mcp-beacon/runtime';
import type { HUB_OPTIONS } from '../options.js';
import { checkPrivate, endpointOfKey, type HubEndpoint } from '../shared/endpoint.js';
import { type HubStatus, lineReader, parseLine } from '../shared/wire.js';
import { VERSION } from '../version.js';

/** How long a hub may take to answer `status`, in ms. */
const STATUS_TIMEOUT_MS = 3_000;

/** A hub's answer, or why there is none. */
type Answer = { endpoint: HubEndpoint } & (
  | { ok: true; version: string; status: HubStatus }
  | { ok: false; reason: string }
);

/** Asks the hub at `endpoint` for its status. */
function ask(endpoint: HubEndpoint): Promise<Answer> {
  return new Promise((resolve) => {
    const socket = connect(endpoint.address);
    const done = (answer: Answer) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    const timer = setTimeout(
      () => done({ endpoint, ok: false, reason: 'no answer' }),
      STATUS_TIMEOUT_MS,
    );
    socket.once('error', (error: NodeJS.ErrnoException) =>
      done({
        endpoint,
        ok: false,
        reason:
          error.code === 'ECONNREFUSED' || error.code === 'ENOENT'
            ? 'no hub answers: one stopped without cleaning up; the next client replaces it'
            : error.message,
      }),
    );
    socket.on(
      'data',
      lineReader(
        (line) => {
          const message = parseLine(line);
          if (message?.beacon === 'status' && typeof message.version === 'string')
            done({ endpoint, ok: true, version: message.version, status: message as never });
          else if (message?.beacon === 'refused' && typeof message.version === 'string')
            done({ endpoint, ok: false, reason: `a hub of version ${message.version}` });
          else done({ endpoint, ok: false, reason: 'not a Beacon hub' });
        },
        () => done({ endpoint, ok: false, reason: 'not a Beacon hub' }),
      ),
    );
    socket.once('connect', () =>
      socket.write(`${JSON.stringify({ beacon: 'status', version: VERSION })}\n`),
    );
  });
}

const duration = (ms: number) => {
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s} s`;
  const m = Math.round(s / 60);
  return m < 120 ? `${m} min` : `${Math.round(m / 60)} h`;
};

/** Prints the status of every shared hub of this Beacon version under the data folder. */
export async function runStatus(
  values: OptionValues<typeof HUB_OPTIONS>,
  paths: BeaconPaths,
): Promise<void> {
  const dir = path.join(paths.root, 'hub');
  const names = await readdir(dir).catch(() => [] as string[]);
  const keys = names.filter((n) => /^[0-9a-f]{16}\.lock$/.test(n)).map((n) => n.slice(0, 16));
  const answers: Answer[] = [];
  for (const key of keys) {
    const endpoint = endpointOfKey(paths.root, key);
    try {
      await checkPrivate(endpoint.address, 'socket');
    } catch (error) {
      answers.push({ endpoint, ok: false, reason: (error as Error).message });
      continue;
    }
    answers.push(await ask(endpoint));
  }
  if (values.json) {
    process.stdout.write(
      `${JSON.stringify(
        answers.map((a) =>
          a.ok
            ? { address: a.endpoint.address, version: a.version, ...a.status }
            : { address: a.endpoint.address, error: a.reason },
        ),
        null,
        2,
      )}\n`,
    );
    return;
  }
  if (answers.length === 0) {
    process.stdout.write('No shared Beacon hub is running.\n');
    return;
  }
  const lines: string[] = [];
  for (const a of answers) {
    if (!a.ok) {
      lines.push(`${a.endpoint.address}: ${cleanText(a.reason)}`);
      continue;
    }
    const s = a.status;
    lines.push(
      `Beacon hub ${a.version}, pid ${s.pid}, up ${duration(s.uptimeMs)}, ${Math.round(s.rssBytes / 1048576)} MiB, ${s.instances} instances${s.args.length > 0 ? `, ${s.args.join(' ')}` : ''}`,
    );
    lines.push(`  ${a.endpoint.address}`);
    if (s.sessions.length === 0) lines.push('  no client connected');
    for (const session of s.sessions) {
      const client = session.client
        ? `${cleanText(session.client.name)} ${cleanText(session.client.version)}`
        : 'client not yet known';
      const era = session.era === 'modern' ? '2026-07-28' : session.era === 'legacy' ? '2025' : '-';
      lines.push(
        `  #${session.id} ${client}, MCP ${era}, since ${session.since}${session.workingFolder ? `, in ${cleanText(session.workingFolder)}` : ''}`,
      );
    }
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}
