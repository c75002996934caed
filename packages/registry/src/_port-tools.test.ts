import { existsSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { testNode } from '@mcp-beacon/test-utils';
import { describe, expect, it } from 'vitest';
import {
  normalizeAddress,
  parseLsofOutput,
  parseNetstatOutput,
  portTool,
  runCommand,
} from './_port-tools.js';

const ok = (stdout: string) => ({ status: 0, stdout, stderr: '' });

describe('parseLsofOutput', () => {
  // `lsof -nP -w -iTCP -sTCP:LISTEN -Fptn`, as lsof(8) describes its field output: a `p` line
  // per process, then per file an `f` line and the selected fields (`t` type, `n` name).
  it('reads each process and its listening sockets, wildcards by their family', () => {
    const stdout = [
      'p88',
      'f4',
      'tIPv4',
      'n*:5000',
      'f5',
      'tIPv6',
      'n*:5000',
      'p512',
      'f6',
      'tIPv4',
      'n127.0.0.1:8080',
      'f7',
      'tIPv6',
      'n[::1]:8080',
      'f8',
      'tIPv6',
      'n[::ffff:127.0.0.1]:3000',
      'f9',
      'tIPv6',
      'n[fe80:1::1]:4000',
      '',
    ].join('\n');
    expect(parseLsofOutput(ok(stdout))).toEqual([
      { pid: 88, address: '0.0.0.0', port: 5000 },
      { pid: 88, address: '::', port: 5000 },
      { pid: 512, address: '127.0.0.1', port: 8080 },
      { pid: 512, address: '::1', port: 8080 },
      { pid: 512, address: '127.0.0.1', port: 3000 },
      { pid: 512, address: 'fe80:1::1', port: 4000 },
    ]);
  });

  it('reads output without `f` lines, as lsof 4.95 writes when `f` is not asked for', () => {
    // Captured from lsof 4.95 on Linux with the same arguments (three sockets of one process).
    const stdout = 'p29127\ntIPv4\nn127.0.0.1:43479\ntIPv6\nn[::1]:40421\ntIPv6\nn*:34381\n';
    expect(parseLsofOutput(ok(stdout))).toEqual([
      { pid: 29127, address: '127.0.0.1', port: 43479 },
      { pid: 29127, address: '::1', port: 40421 },
      { pid: 29127, address: '::', port: 34381 },
    ]);
  });

  it('takes the local end of a connected name and skips what is not an endpoint', () => {
    const stdout = 'p7\nf3\ntIPv4\nn127.0.0.1:8080->127.0.0.1:50000\nf4\ntunix\nn/tmp/sock\n';
    expect(parseLsofOutput(ok(stdout))).toEqual([{ pid: 7, address: '127.0.0.1', port: 8080 }]);
  });

  it('reads "nothing matched" (exit 1, no output) as no sockets, and refuses errors', () => {
    expect(parseLsofOutput({ status: 1, stdout: '', stderr: '' })).toEqual([]);
    expect(() =>
      parseLsofOutput({ status: 1, stdout: '', stderr: 'lsof: illegal option' }),
    ).toThrow(/exit status 1: lsof: illegal option/);
    expect(() => parseLsofOutput(ok('COMMAND PID USER FD TYPE\n'))).toThrow(/unexpected output/);
  });
});

// Wherever an lsof is installed (macOS always; Linux when the package is), its real output.
const LSOF = ['/usr/sbin/lsof', '/usr/bin/lsof'].find((file) => existsSync(file));
describe.runIf(LSOF !== undefined && process.platform !== 'win32')('lsof itself', () => {
  it('lists this process listening on a port, as parseLsofOutput reads it', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const tool = portTool('darwin', {})!;
      const output = await runCommand(LSOF!, tool.args, { timeoutMs: 5_000, maxBytes: 1 << 24 });
      expect(parseLsofOutput(output)).toContainEqual({
        pid: process.pid,
        address: '127.0.0.1',
        port,
      });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('parseNetstatOutput', () => {
  it('reads LISTENING TCP lines of both families, zones and all, and nothing else', () => {
    const stdout = [
      '',
      'Active Connections',
      '',
      '  Proto  Local Address          Foreign Address        State           PID',
      '  TCP    0.0.0.0:135            0.0.0.0:0              LISTENING       1004',
      '  TCP    127.0.0.1:8080         0.0.0.0:0              LISTENING       4321',
      '  TCP    127.0.0.1:8080         127.0.0.1:52311        ESTABLISHED     4321',
      '  TCP    127.0.0.1:52311        127.0.0.1:8080         ESTABLISHED     9876',
      '  TCP    192.168.1.20:49670     20.42.65.92:443        TIME_WAIT       0',
      '  TCP    [::]:135               [::]:0                 LISTENING       1004',
      '  TCP    [::1]:8080             [::]:0                 LISTENING       5555',
      '  TCP    [fe80::1c2d:3e4f:5a6b:7c8d%12]:139  [::]:0    LISTENING       4',
      '  UDP    0.0.0.0:500            *:*                                    3456',
      '  UDP    [::]:500               *:*                                    3456',
      '',
    ].join('\r\n');
    expect(parseNetstatOutput(ok(stdout))).toEqual([
      { pid: 1004, address: '0.0.0.0', port: 135 },
      { pid: 4321, address: '127.0.0.1', port: 8080 },
      { pid: 1004, address: '::', port: 135 },
      { pid: 5555, address: '::1', port: 8080 },
      { pid: 4, address: 'fe80::1c2d:3e4f:5a6b:7c8d', port: 139 },
    ]);
  });

  it('tells listening lines by their unspecified remote end where the state is translated', () => {
    // German Windows (the OEM code page's Ö read byte for byte).
    const stdout = [
      'Aktive Verbindungen',
      '',
      '  Proto  Lokale Adresse         Remoteadresse          Status           PID',
      '  TCP    127.0.0.1:8080         0.0.0.0:0              ABH\u0099REN          4321',
      '  TCP    127.0.0.1:8080         127.0.0.1:52311        HERGESTELLT      4321',
      '  TCP    [::1]:8080             [::]:0                 ABH\u0099REN          5555',
      '  TCP    0.0.0.0:7070           0.0.0.0:0              EN ESCUCHA       77',
    ].join('\r\n');
    expect(parseNetstatOutput(ok(stdout))).toEqual([
      { pid: 4321, address: '127.0.0.1', port: 8080 },
      { pid: 5555, address: '::1', port: 8080 },
      { pid: 77, address: '0.0.0.0', port: 7070 },
    ]);
  });

  it("refuses output that is not netstat's, and a failed run", () => {
    expect(() => parseNetstatOutput(ok('The system cannot find the path specified.\r\n'))).toThrow(
      /no TCP lines/,
    );
    expect(() => parseNetstatOutput({ status: 1, stdout: '', stderr: 'denied' })).toThrow(
      /exit status 1: denied/,
    );
  });
});

describe('normalizeAddress', () => {
  it('writes addresses the way /proc reads them', () => {
    expect(normalizeAddress('[0:0:0:0:0:0:0:1]')).toBe('::1');
    expect(normalizeAddress('[::FFFF:7F00:1]')).toBe('127.0.0.1');
    expect(normalizeAddress('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(normalizeAddress('[fe80::1%lo0]')).toBe('fe80::1');
    expect(normalizeAddress('127.0.0.1')).toBe('127.0.0.1');
    expect(normalizeAddress('localhost')).toBe('localhost');
  });
});

describe('portTool', () => {
  it('names each tool by an absolute path', () => {
    expect(portTool('darwin', {})?.file).toBe('/usr/sbin/lsof');
    expect(portTool('win32', { SystemRoot: 'C:\\WINDOWS' })?.file).toBe(
      'C:\\WINDOWS\\System32\\netstat.exe',
    );
    expect(portTool('win32', { windir: 'E:\\Win' })?.file).toBe('E:\\Win\\System32\\netstat.exe');
    // A relative %SystemRoot% would be looked up from the working folder: never used.
    expect(portTool('win32', { SystemRoot: 'Windows' })?.file).toBe(
      'C:\\Windows\\System32\\netstat.exe',
    );
    expect(portTool('linux', {})).toBeUndefined();
    expect(portTool('freebsd', {})).toBeUndefined();
  });
});

describe('runCommand', () => {
  const limits = { timeoutMs: 5_000, maxBytes: 1024 };

  it('gives the output and status of a program, whatever its status', async () => {
    const script = `process.stdout.write('out'); process.stderr.write('err'); process.exitCode = 3;`;
    expect(await runCommand(testNode, ['-e', script], limits)).toEqual({
      status: 3,
      stdout: 'out',
      stderr: 'err',
    });
  });

  it('is bounded in time and output, and tells a missing program by its code', async () => {
    await expect(
      runCommand(testNode, ['-e', 'setInterval(() => {}, 1000)'], { ...limits, timeoutMs: 300 }),
    ).rejects.toThrow(/no answer within 300 ms/);
    await expect(
      runCommand(testNode, ['-e', `process.stdout.write('x'.repeat(4096))`], limits),
    ).rejects.toThrow(/maxBuffer/);
    await expect(runCommand('/nonexistent/lsof', [], limits)).rejects.toMatchObject({
      code: 'ENOENT',
    });
  });
});
