import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { connect, createServer, type Server } from 'node:net';
import path from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createTempDir, startProcess, type TestProcess, testNode } from '@mcp-beacon/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { runCommand } from './_port-tools.js';
import { type CommandRunner, checkPortOwner, findPortOwner, ownedLoopbacks } from './sockets.js';

const servers: Server[] = [];
const fresh = { maxAgeMs: 0 };
const children: TestProcess[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
  await Promise.all(children.splice(0).map((child) => child.kill()));
});

async function listen(host = '127.0.0.1'): Promise<number> {
  const server = createServer();
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return (server.address() as AddressInfo).port;
}

describe.runIf(process.platform === 'linux')('checkPortOwner (Linux /proc)', () => {
  it('knows the pid that listens, on IPv4 and IPv6', async () => {
    const v4 = await listen();
    expect(await checkPortOwner(process.pid, v4, fresh)).toBe('owner');
    expect(await findPortOwner(v4)).toBe(process.pid);
    const v6 = await listen('::1').catch(() => undefined);
    if (v6 !== undefined) expect(await checkPortOwner(process.pid, v6, fresh)).toBe('owner');
  });

  it('tells another process on the port from nothing on it', async () => {
    const port = await listen();
    await using other = startProcess(testNode, ['-e', 'setInterval(() => {}, 1000)']);
    expect(await checkPortOwner(other.pid, port, fresh)).toBe('other');
    const free = await listen();
    await new Promise((resolve) => servers.pop()!.close(resolve));
    expect(await checkPortOwner(process.pid, free, fresh)).toBe('none');
    expect(await checkPortOwner(999_999_999, port, fresh)).toBe('other');
  });
});

describe.runIf(process.platform === 'linux')('checkPortOwner in a burst', () => {
  it('answers many checks against one process with many sockets, each right', async () => {
    const ports = await Promise.all(Array.from({ length: 50 }, () => listen()));
    const answers = await Promise.all(ports.map((port) => checkPortOwner(process.pid, port)));
    expect(new Set(answers)).toEqual(new Set(['owner']));
    // A socket opened after the burst's scan is found: a miss scans afresh.
    const late = await listen();
    expect(await checkPortOwner(process.pid, late)).toBe('owner');
  });
});

describe('checkPortOwner with a proc root', () => {
  it('reads it on any OS, and finds nothing where there is none', async () => {
    expect(await checkPortOwner(process.pid, 1, { proc: '/nonexistent' })).toBe('none');
  });
});

// On the CI's macOS and Windows runners: the real lsof and netstat.
describe.runIf(process.platform === 'darwin' || process.platform === 'win32')(
  'checkPortOwner from the OS tool',
  () => {
    it('knows the pid that listens, and that another does not', async () => {
      const lines: string[] = [];
      const options = { ...fresh, log: (line: string) => lines.push(line) };
      const port = await listen();
      expect(await checkPortOwner(process.pid, port, options)).toBe('owner');
      expect(await ownedLoopbacks(process.pid, port, options)).toEqual(['127.0.0.1']);
      expect(await findPortOwner(port, options)).toBe(process.pid);
      await using other = startProcess(testNode, ['-e', 'setInterval(() => {}, 1000)']);
      expect(await checkPortOwner(other.pid, port, options)).toBe('other');
      expect(lines).toEqual([]);
    });
  },
);

/** Another process listening on `host` (and `port`, else any free one); its pid and port. */
async function listenElsewhere(host: string, port = 0): Promise<{ pid: number; port: number }> {
  const script = `const s = require('node:net').createServer();
s.listen(${port}, ${JSON.stringify(host)}, () => console.error('port ' + s.address().port));`;
  const child = startProcess(testNode, ['-e', script]);
  children.push(child);
  const said = await child.waitForStderr(/port \d+/);
  return { pid: child.pid, port: Number(/port (\d+)/.exec(said)?.[1]) };
}

const canListenOnIPv6Loopback = async () => {
  try {
    await listen('::1');
    return true;
  } catch {
    return false;
  }
};

describe.runIf(process.platform === 'linux')('ownedLoopbacks (Linux /proc)', () => {
  it('finds the loopback address a socket of the process listens on', async () => {
    expect(await ownedLoopbacks(process.pid, await listen('127.0.0.1'))).toEqual(['127.0.0.1']);
    if (await canListenOnIPv6Loopback())
      expect(await ownedLoopbacks(process.pid, await listen('::1'))).toEqual(['::1']);
  });

  it('finds none on a free port, for a pid that is gone, or for a socket that only connects', async () => {
    const free = await listen();
    await new Promise((resolve) => servers.pop()!.close(resolve));
    expect(await ownedLoopbacks(process.pid, free)).toEqual([]);
    const port = await listen();
    expect(await ownedLoopbacks(999_999_999, port)).toEqual([]);
    const client = connect(port, '127.0.0.1');
    await once(client, 'connect');
    try {
      expect(await ownedLoopbacks(process.pid, client.localPort!)).toEqual([]);
    } finally {
      client.destroy();
    }
  });

  it("finds none for another process's socket, and that process's own", async () => {
    const other = await listenElsewhere('127.0.0.1');
    expect(await ownedLoopbacks(process.pid, other.port)).toEqual([]);
    expect(await ownedLoopbacks(other.pid, other.port)).toEqual(['127.0.0.1']);
    // A live process that holds no socket on the port.
    expect(await ownedLoopbacks(other.pid, await listen())).toEqual([]);
  });

  it('tells apart two processes on one port number, one per loopback family', async () => {
    if (!(await canListenOnIPv6Loopback())) return;
    const port = await listen('127.0.0.1');
    const other = await listenElsewhere('::1', port);
    expect(await ownedLoopbacks(process.pid, port)).toEqual(['127.0.0.1']);
    expect(await ownedLoopbacks(other.pid, port)).toEqual(['::1']);
  });
});

/** A line of /proc/net/tcp or tcp6: `address` in its hex words, `state` 0A is LISTEN. */
const procLine = (address: string, port: number, inode: number, state = '0A') =>
  `   0: ${address}:${port.toString(16).toUpperCase().padStart(4, '0')} ` +
  `00000000:0000 ${state} 00000000:00000000 00:00000000 00000000  1000        0 ${inode} 1 0 100 0 0 10 0`;
const PROC_HEADER =
  '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode';
const HEX = {
  '127.0.0.1': '0100007F',
  '0.0.0.0': '00000000',
  '192.168.1.5': '0501A8C0',
  '::': '0'.repeat(32),
  '::1': '00000000000000000000000001000000',
  '::ffff:127.0.0.1': '0000000000000000FFFF00000100007F',
} as const;

/**
 * A stand-in /proc: the listening sockets of `sockets` (address, inode, and whose they are) on
 * port 8080, each process holding its own through a descriptor link `socket:[inode]`.
 */
async function fakeProc(
  dir: string,
  sockets: Array<{ address: keyof typeof HEX; inode: number; pid: number; state?: string }>,
): Promise<void> {
  await mkdir(path.join(dir, 'net'), { recursive: true });
  for (const file of ['tcp', 'tcp6']) {
    const lines = sockets
      .filter(({ address }) => address.includes(':') === (file === 'tcp6'))
      .map(({ address, inode, state }) => procLine(HEX[address], 8080, inode, state));
    await writeFile(path.join(dir, 'net', file), `${[PROC_HEADER, ...lines].join('\n')}\n`);
  }
  for (const { pid, inode } of sockets) {
    await mkdir(path.join(dir, String(pid), 'fd'), { recursive: true });
    await symlink(`socket:[${inode}]`, path.join(dir, String(pid), 'fd', String(inode)));
  }
}

describe.runIf(process.platform !== 'win32')('ownedLoopbacks on a stand-in /proc', () => {
  // Wildcard binds listen on every interface: their cases are read from files, not opened.
  const answers = async (sockets: Parameters<typeof fakeProc>[1], pids: number[]) => {
    await using dir = await createTempDir();
    await fakeProc(dir.path, sockets);
    return Promise.all(pids.map((pid) => ownedLoopbacks(pid, 8080, { proc: dir.path })));
  };

  it('reads wildcard, mapped and other binds', async () => {
    const one = (address: keyof typeof HEX, state?: string) =>
      answers([{ address, inode: 11, pid: 100, ...(state ? { state } : {}) }], [100]);
    expect(await one('0.0.0.0')).toEqual([['127.0.0.1']]);
    expect(await one('::')).toEqual([['127.0.0.1', '::1']]);
    expect(await one('::ffff:127.0.0.1')).toEqual([['127.0.0.1']]);
    expect(await one('192.168.1.5')).toEqual([[]]);
    expect(await one('127.0.0.1', '01')).toEqual([[]]); // established, not listening
    expect(await answers([{ address: '127.0.0.1', inode: 11, pid: 100 }], [200])).toEqual([[]]);
  });

  it('gives a loopback address to the process whose socket takes its connections', async () => {
    // An IPv6-only socket on :: beside another user's on 127.0.0.1: 127.0.0.1 goes there.
    expect(
      await answers(
        [
          { address: '::', inode: 11, pid: 100 },
          { address: '127.0.0.1', inode: 12, pid: 200 },
        ],
        [100, 200],
      ),
    ).toEqual([['::1'], ['127.0.0.1']]);
    // 0.0.0.0 takes 127.0.0.1's connections before ::.
    expect(
      await answers(
        [
          { address: '::', inode: 11, pid: 100 },
          { address: '0.0.0.0', inode: 12, pid: 200 },
        ],
        [100, 200],
      ),
    ).toEqual([['::1'], ['127.0.0.1']]);
    // SO_REUSEPORT siblings of two processes share the connections: neither is given them.
    expect(
      await answers(
        [
          { address: '127.0.0.1', inode: 11, pid: 100 },
          { address: '127.0.0.1', inode: 12, pid: 200 },
          { address: '127.0.0.1', inode: 13, pid: 100 },
        ],
        [100, 200],
      ),
    ).toEqual([[], []]);
  });
});

describe.runIf(process.platform !== 'win32')('the socket table', () => {
  it('holds the addresses of its last read only, however many sockets came and went', async () => {
    // The bound is on retained memory, so it is measured after a full collection.
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const heap = () => {
      gc();
      return process.memoryUsage().heapUsed;
    };
    await using dir = await createTempDir();
    await mkdir(path.join(dir.path, 'net'));
    const sockets = 20_000;
    const read = async (round: number) => {
      const lines = Array.from({ length: sockets }, (_, i) =>
        procLine(HEX['127.0.0.1'], 1024 + i, round * sockets + i),
      );
      await writeFile(path.join(dir.path, 'net', 'tcp'), [PROC_HEADER, ...lines].join('\n'));
      await ownedLoopbacks(1, 1024, { proc: dir.path });
    };
    await read(0);
    const before = heap();
    // A hub's days in brief: 25 tables of 20,000 sockets each, none outliving its table.
    for (let round = 1; round <= 25; round++) await read(round);
    expect((heap() - before) / 2 ** 20).toBeLessThan(8);
  });
});

// The samples below follow the tools' documented formats. lsof -F (lsof(8), OUTPUT FOR OTHER
// PROGRAMS): one field per line, its letter first; `p` starts a process, `f` a file of it, `t`
// is the file's type and `n` its name, `*` for a wildcard address, IPv6 in brackets.
const LSOF_SAMPLE = [
  'p512',
  'f6',
  'tIPv4',
  'n127.0.0.1:8080',
  'p733',
  'f21',
  'tIPv6',
  'n[::1]:8080',
  'f22',
  'tIPv6',
  'n*:9090',
  'p901',
  'f5',
  'tIPv4',
  'n*:7070',
  '',
].join('\n');

// netstat -ano (Windows): CRLF lines, an address and port per endpoint (IPv6 in brackets, a zone
// after `%`), the owning PID last; UDP lines have no state.
const NETSTAT_SAMPLE = [
  '',
  'Active Connections',
  '',
  '  Proto  Local Address          Foreign Address        State           PID',
  '  TCP    0.0.0.0:135            0.0.0.0:0              LISTENING       1004',
  '  TCP    127.0.0.1:8080         0.0.0.0:0              LISTENING       4321',
  '  TCP    127.0.0.1:8080         127.0.0.1:52311        ESTABLISHED     4321',
  '  TCP    127.0.0.1:52311        127.0.0.1:8080         ESTABLISHED     9876',
  '  TCP    [::]:135               [::]:0                 LISTENING       1004',
  '  TCP    [::1]:8080             [::]:0                 LISTENING       5555',
  '  UDP    0.0.0.0:500            *:*                                    3456',
  '',
].join('\r\n');

/** A stand-in for running the OS's tool: answers `reply`, records what was run. */
function fakeRunner(
  reply: (file: string) => Promise<{ status: number; stdout: string; stderr: string }>,
) {
  const calls: Array<{ file: string; args: readonly string[] }> = [];
  const run = async (file: string, args: readonly string[]) => {
    calls.push({ file, args });
    return reply(file);
  };
  return { run, calls };
}
const answer =
  (stdout: string, status = 0, stderr = '') =>
  async () => ({ status, stdout, stderr });

describe('checkPortOwner on macOS, from lsof', () => {
  it('runs /usr/sbin/lsof for listening TCP sockets and reads its fields', async () => {
    const { run, calls } = fakeRunner(answer(LSOF_SAMPLE));
    const mac = { platform: 'darwin' as const, run, log: () => undefined, maxAgeMs: 60_000 };
    expect(await checkPortOwner(512, 8080, mac)).toBe('owner');
    expect(await checkPortOwner(733, 8080, mac)).toBe('owner');
    expect(await checkPortOwner(901, 8080, mac)).toBe('other');
    expect(await checkPortOwner(733, 9090, mac)).toBe('owner');
    // lsof lists the user's own processes only: a port none of them holds may be another
    // user's, so it is never `none`.
    expect(await checkPortOwner(512, 6060, mac)).toBe('other');
    expect(calls[0]).toEqual({
      file: '/usr/sbin/lsof',
      args: ['-nP', '-w', '-iTCP', '-sTCP:LISTEN', '-Fptn'],
    });
    // Checks share a recent run; each of the two misses (901, 6060) ran it once more.
    expect(calls).toHaveLength(3);
  });

  it('gives each loopback address to the process whose socket takes its connections', async () => {
    const { run } = fakeRunner(answer(LSOF_SAMPLE));
    const mac = { platform: 'darwin' as const, run, log: () => undefined };
    expect(await ownedLoopbacks(512, 8080, mac)).toEqual(['127.0.0.1']);
    expect(await ownedLoopbacks(733, 8080, mac)).toEqual(['::1']);
    // An IPv6 wildcard takes both families' connections, as on Linux (dual-stack by default).
    expect(await ownedLoopbacks(733, 9090, mac)).toEqual(['127.0.0.1', '::1']);
    expect(await ownedLoopbacks(901, 7070, mac)).toEqual(['127.0.0.1']); // an IPv4 wildcard
    expect(await ownedLoopbacks(901, 8080, mac)).toEqual([]);
    expect(await findPortOwner(7070, mac)).toBe(901);
  });
});

// macOS's way, run against a real lsof where Linux has one installed (at /usr/bin).
describe.runIf(process.platform === 'linux' && existsSync('/usr/bin/lsof'))(
  'checkPortOwner the macOS way, with a real lsof',
  () => {
    it('tells this process from another on a real port', async () => {
      const atUsrBin: CommandRunner = (file, args, limits) =>
        runCommand(file.replace('/usr/sbin/', '/usr/bin/'), args, limits);
      const mac = { platform: 'darwin' as const, run: atUsrBin, log: () => undefined, ...fresh };
      const port = await listen();
      expect(await checkPortOwner(process.pid, port, mac)).toBe('owner');
      expect(await ownedLoopbacks(process.pid, port, mac)).toEqual(['127.0.0.1']);
      const other = await listenElsewhere('127.0.0.1');
      expect(await checkPortOwner(process.pid, other.port, mac)).toBe('other');
      expect(await findPortOwner(other.port, mac)).toBe(other.pid);
    });
  },
);

describe('checkPortOwner on Windows, from netstat', () => {
  it('runs netstat.exe from %SystemRoot%\\System32 and reads LISTENING lines', async () => {
    const { run, calls } = fakeRunner(answer(NETSTAT_SAMPLE));
    const win = {
      platform: 'win32' as const,
      run,
      env: { SystemRoot: 'D:\\Windows' },
      log: () => undefined,
    };
    expect(await checkPortOwner(4321, 8080, win)).toBe('owner');
    expect(await checkPortOwner(5555, 8080, win)).toBe('owner');
    expect(await checkPortOwner(9876, 8080, win)).toBe('other'); // only connected to it
    // netstat lists every user's sockets: a port in none of its lines is free.
    expect(await checkPortOwner(4321, 6060, win)).toBe('none');
    expect(calls[0]).toEqual({
      file: 'D:\\Windows\\System32\\netstat.exe',
      args: ['-a', '-n', '-o'],
    });
    expect(await ownedLoopbacks(4321, 8080, win)).toEqual(['127.0.0.1']);
    expect(await ownedLoopbacks(5555, 8080, win)).toEqual(['::1']);
    expect(await ownedLoopbacks(1004, 135, win)).toEqual(['127.0.0.1', '::1']);
    expect(await findPortOwner(8080, win)).toBe(4321);
  });
});

describe('a port-owner check that cannot run', () => {
  it('says once that the check is off when the tool is missing, and goes ahead', async () => {
    const lines: string[] = [];
    const missing = Object.assign(new Error('spawn /usr/sbin/lsof ENOENT'), { code: 'ENOENT' });
    const { run, calls } = fakeRunner(() => Promise.reject(missing));
    const mac = { platform: 'darwin' as const, run, log: (line: string) => lines.push(line) };
    const answers = await Promise.all([1, 2, 3].map((pid) => checkPortOwner(pid, 8080, mac)));
    expect(answers).toEqual(['unknown', 'unknown', 'unknown']);
    expect(await ownedLoopbacks(1, 8080, mac)).toBeUndefined();
    expect(await checkPortOwner(1, 8080, mac)).toBe('unknown');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/port-owner check is off.*\/usr\/sbin\/lsof.*ENOENT/);
    expect(calls).toHaveLength(1); // not run again once it is known missing
  });

  it('says so too when the tool fails on its first run', async () => {
    const lines: string[] = [];
    const { run } = fakeRunner(answer('', 1, 'lsof: unsupported option'));
    const mac = { platform: 'darwin' as const, run, log: (line: string) => lines.push(line) };
    expect(await checkPortOwner(1, 8080, mac)).toBe('unknown');
    expect(lines).toEqual([expect.stringMatching(/port-owner check is off.*unsupported option/)]);
  });

  it('refuses to guess when a tool that worked fails later', async () => {
    let fail = false;
    const { run } = fakeRunner(async () =>
      fail
        ? { status: 2, stdout: '', stderr: 'out of memory' }
        : { status: 0, stdout: NETSTAT_SAMPLE, stderr: '' },
    );
    const lines: string[] = [];
    const win = {
      platform: 'win32' as const,
      run,
      env: {},
      maxAgeMs: 0,
      log: (l: string) => lines.push(l),
    };
    expect(await checkPortOwner(4321, 8080, win)).toBe('owner');
    fail = true;
    await expect(checkPortOwner(4321, 8080, win)).rejects.toThrow(/out of memory/);
    expect(lines).toEqual([]);
  });

  it('says the check is off on a system it has no tool for', async () => {
    const lines: string[] = [];
    const { run, calls } = fakeRunner(answer(''));
    const bsd = { platform: 'freebsd' as const, run, log: (line: string) => lines.push(line) };
    expect(await checkPortOwner(1, 8080, bsd)).toBe('unknown');
    expect(await checkPortOwner(1, 8080, bsd)).toBe('unknown');
    expect(lines).toEqual([expect.stringMatching(/port-owner check is off.*freebsd/)]);
    expect(calls).toEqual([]);
  });
});
