import {
  chmod,
  chown,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import path from 'node:path';
import { HubError } from '@mcp-beacon/hub-mcp';
import { resolvePaths } from '@mcp-beacon/paths';
import { createTempDir, testNode } from '@mcp-beacon/test-utils';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { HUB } from '../_hub-fixture.js';
import { remoteCommand, remotesOfRun } from './cli.js';
import {
  checkRemote,
  MAX_REMOTES_BYTES,
  parseRemoteFlag,
  readRemotes,
  remotesFile,
  splitCommand,
  writeRemotes,
} from './config.js';

describe('the remotes file', () => {
  it('is written atomically, 0600, in a 0700 folder, and read back in name order', async () => {
    await using tmp = await createTempDir();
    const paths = resolvePaths({ home: path.join(tmp.path, 'home') });
    expect(await readRemotes(paths)).toEqual([]);
    await writeRemotes(paths, [
      { name: 'web', command: ['docker', 'exec', '-i', 'web', 'beacon-hub'] },
      { name: 'devbox', command: ['ssh', 'devbox', 'beacon-hub'] },
    ]);
    const file = remotesFile(paths);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(path.dirname(file))).mode & 0o777).toBe(0o700);
    expect(await readdir(path.dirname(file))).toEqual(['remotes.json']); // no temp file left
    expect(await readRemotes(paths)).toEqual([
      { name: 'devbox', command: ['ssh', 'devbox', 'beacon-hub'] },
      { name: 'web', command: ['docker', 'exec', '-i', 'web', 'beacon-hub'] },
    ]);
    expect(JSON.parse(await readFile(file, 'utf8')).version).toBe(1);
  });

  it('says what is wrong with a bad file, and never loses it', async () => {
    await using tmp = await createTempDir();
    const paths = resolvePaths({ home: tmp.path });
    const file = remotesFile(paths);
    for (const [body, message] of [
      ['{not json', /is not JSON/],
      ['{"remotes":{"x":{"command":["ssh"]}}}', /remotes\.x: remote names are 2-32/],
      [
        '{"remotes":{"box":{"command":[]}}}',
        /remotes\.box\.command: a command needs at least a program/,
      ],
      ['[]', /remotes\.json: /],
    ] as const) {
      await writeFile(file, body);
      const error = await readRemotes(paths).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(HubError);
      expect((error as HubError).code).toBe('BAD_REMOTE');
      expect((error as Error).message).toMatch(message);
      expect(await readFile(file, 'utf8')).toBe(body);
    }
  });

  it('refuses a file that is a symlink, another user’s, writable by others or too large', async () => {
    await using tmp = await createTempDir();
    const paths = resolvePaths({ home: path.join(tmp.path, 'home') });
    await writeRemotes(paths, [{ name: 'devbox', command: ['ssh', 'devbox', 'beacon-hub'] }]);
    const file = remotesFile(paths);
    const refused = async (options: { uid?: number } = {}) => {
      const error = await readRemotes(paths, options).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(HubError);
      return (error as Error).message;
    };
    // Another user's: the file is this user's, read as if by another uid (and, as root, chowned).
    expect(await refused({ uid: (process.getuid?.() ?? 0) + 1 })).toMatch(/owned by uid/);
    if (process.getuid?.() === 0) {
      await chown(file, 65534, 65534);
      expect(await refused()).toMatch(/owned by uid 65534/);
      await chown(file, 0, 0);
    }
    await chmod(file, 0o666);
    expect(await refused()).toMatch(/writable by others \(mode 666\); chmod 600 it/);
    await chmod(file, 0o600);
    await chmod(path.dirname(file), 0o777);
    expect(await refused()).toMatch(/writable by others \(mode 777\)/);
    await chmod(path.dirname(file), 0o700);
    const real = path.join(tmp.path, 'elsewhere.json');
    await rename(file, real);
    await symlink(real, file);
    expect(await refused()).toMatch(/symlinks are not accepted/);
    await rm(file);
    await writeFile(file, `{"remotes":{},"pad":"${'x'.repeat(MAX_REMOTES_BYTES)}"}`, {
      mode: 0o600,
    });
    expect(await refused()).toMatch(/limit is 262144/);
    await rm(file);
    await rename(real, file);
    expect(await readRemotes(paths)).toHaveLength(1);
  });

  it('leaves a hub with a refused file serving without remotes, saying so in one line', async () => {
    await using tmp = await createTempDir();
    const home = path.join(tmp.path, 'home');
    const paths = resolvePaths({ home });
    await writeRemotes(paths, [{ name: 'devbox', command: ['ssh', 'devbox', 'beacon-hub'] }]);
    await chmod(remotesFile(paths), 0o646);
    const hub = new Client({ name: 'config-test', version: '1.0.0' });
    let stderr = '';
    const transport = new StdioClientTransport({
      command: testNode,
      args: [HUB, '--standalone', '--standalone'],
      env: { ...(process.env as Record<string, string>), MCP_BEACON_HOME: home },
      stderr: 'pipe',
    });
    transport.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    await hub.connect(transport);
    try {
      const listed = (await hub.callTool({
        name: 'instances_list',
        arguments: {},
      })) as CallToolResult;
      expect(listed.isError).toBeFalsy();
      expect(listed.structuredContent).toEqual({ instances: [] });
      const lines = stderr.split('\n').filter((l) => l.includes('remotes.json'));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(
        /ignoring the kept remotes: refusing .*remotes\.json: .*writable by others/,
      );
    } finally {
      await hub.close();
    }
  });

  it('checks names and commands', () => {
    expect(() => checkRemote({ name: 'a', command: ['ssh'] })).toThrow(/must be 2-32/);
    expect(() => checkRemote({ name: 'box/x', command: ['ssh'] })).toThrow(/must be 2-32/);
    expect(() => checkRemote({ name: 'box', command: [] })).toThrow(/at least a program/);
    expect(() => checkRemote({ name: 'box', command: [''] })).toThrow(HubError);
    expect(checkRemote({ name: 'dev-box.2', command: ['wsl', 'beacon-hub'] }).name).toBe(
      'dev-box.2',
    );
  });
});

describe('--remote NAME=COMMAND', () => {
  it('splits the command as plain shell words, expanding nothing', () => {
    expect(splitCommand(`ssh -o 'BatchMode yes' devbox "beacon hub" a\\ b $HOME *`)).toEqual([
      'ssh',
      '-o',
      'BatchMode yes',
      'devbox',
      'beacon hub',
      'a b',
      '$HOME',
      '*',
    ]);
    expect(splitCommand(`sh -c 'echo "x" >&2; exit 1'`)).toEqual([
      'sh',
      '-c',
      'echo "x" >&2; exit 1',
    ]);
    expect(splitCommand(`a '' b`)).toEqual(['a', '', 'b']);
    expect(() => splitCommand(`ssh 'devbox`)).toThrow(/unclosed '/);
  });

  it('splits by Windows rules on Windows, keeping backslashes', () => {
    const win = { platform: 'win32' } as const;
    expect(splitCommand('C:\\Windows\\System32\\wsl.exe -e bash -lc beacon-hub', win)).toEqual([
      'C:\\Windows\\System32\\wsl.exe',
      '-e',
      'bash',
      '-lc',
      'beacon-hub',
    ]);
    expect(
      splitCommand('"C:\\Program Files\\Git\\usr\\bin\\ssh.exe" devbox beacon-hub', win),
    ).toEqual(['C:\\Program Files\\Git\\usr\\bin\\ssh.exe', 'devbox', 'beacon-hub']);
    // Microsoft's examples ("Parsing C++ command-line arguments"): backslashes are literal
    // unless they precede a double quote; single quotes are plain characters.
    expect(splitCommand('"abc" d e', win)).toEqual(['abc', 'd', 'e']);
    expect(splitCommand('a\\\\b d"e f"g h', win)).toEqual(['a\\\\b', 'de fg', 'h']);
    expect(splitCommand('a\\\\\\"b c d', win)).toEqual(['a\\"b', 'c', 'd']);
    expect(splitCommand('a\\\\\\\\"b c" d e', win)).toEqual(['a\\\\b c', 'd', 'e']);
    expect(splitCommand('a"b"" c d', win)).toEqual(['ab" c d']);
    expect(splitCommand('wsl -e bash -lc \'beacon-hub\' ""', win)).toEqual([
      'wsl',
      '-e',
      'bash',
      '-lc',
      "'beacon-hub'",
      '',
    ]);
    // As on Windows, a quote left open closes at the end.
    expect(splitCommand('ssh "devbox', win)).toEqual(['ssh', 'devbox']);
    expect(
      parseRemoteFlag('wsl=C:\\Windows\\System32\\wsl.exe -e bash -lc beacon-hub', win),
    ).toEqual({
      name: 'wsl',
      command: ['C:\\Windows\\System32\\wsl.exe', '-e', 'bash', '-lc', 'beacon-hub'],
    });
    // Elsewhere a backslash still escapes, as a POSIX shell's does.
    expect(splitCommand('C:\\Windows\\wsl.exe', { platform: 'linux' })).toEqual([
      'C:Windowswsl.exe',
    ]);
  });

  it('takes NAME=COMMAND and nothing else', () => {
    expect(parseRemoteFlag('devbox=ssh devbox beacon-hub')).toEqual({
      name: 'devbox',
      command: ['ssh', 'devbox', 'beacon-hub'],
    });
    expect(() => parseRemoteFlag('ssh devbox')).toThrow(/NAME=COMMAND/);
    expect(() => parseRemoteFlag('=ssh')).toThrow(/NAME=COMMAND/);
    expect(() => parseRemoteFlag('box=')).toThrow(/at least a program/);
  });
});

describe('beacon-hub remote', () => {
  it('adds, lists, changes and removes remotes, keeping the command verbatim', async () => {
    await using tmp = await createTempDir();
    const paths = resolvePaths({ home: tmp.path });
    const out: string[] = [];
    const err: string[] = [];
    const run = (...args: string[]) =>
      remoteCommand(
        args,
        paths,
        (t) => out.push(t),
        (t) => err.push(t),
      );

    expect(await run('add', 'devbox', '--', 'ssh', '-p', '2222', 'devbox', 'beacon-hub')).toBe(0);
    expect(out.pop()).toMatch(/^Added remote devbox: ssh -p 2222 devbox beacon-hub/);
    expect(await run('add', 'wsl', '--', 'wsl', '-e', 'beacon hub')).toBe(0);
    out.length = 0;
    expect(await run('list')).toBe(0);
    expect(out.splice(0).join('')).toBe(
      "devbox\tssh -p 2222 devbox beacon-hub\nwsl\twsl -e 'beacon hub'\n",
    );
    expect(await run('add', 'devbox', '--', 'ssh', 'devbox2', 'beacon-hub')).toBe(0);
    expect(out.pop()).toMatch(/^Changed remote devbox/);
    expect(await run('list', '--json')).toBe(0);
    expect(JSON.parse(out.pop()!)).toEqual({
      remotes: [
        { name: 'devbox', command: ['ssh', 'devbox2', 'beacon-hub'] },
        { name: 'wsl', command: ['wsl', '-e', 'beacon hub'] },
      ],
    });
    expect(await run('remove', 'wsl')).toBe(0);
    expect(await run('remove', 'wsl')).toBe(1);
    expect(err.pop()).toMatch(/no remote named "wsl"/);
    expect((await readRemotes(paths)).map((r) => r.name)).toEqual(['devbox']);
  });

  it('refuses bad usage with code 2 and changes nothing', async () => {
    await using tmp = await createTempDir();
    const paths = resolvePaths({ home: tmp.path });
    const err: string[] = [];
    const run = (...args: string[]) =>
      remoteCommand(
        args,
        paths,
        () => undefined,
        (t) => err.push(t),
      );
    expect(await run('add', 'devbox', 'ssh', 'devbox')).toBe(2); // no --
    expect(await run('add', 'devbox', '--')).toBe(2); // no command
    expect(await run('add', 'd', '--', 'ssh')).toBe(2); // bad name
    expect(await run('frobnicate')).toBe(2);
    expect(err.join('')).toContain('Usage:');
    expect(await readRemotes(paths)).toEqual([]);
  });
});

describe('the remotes of a run', () => {
  it('are the kept ones, with --remote adding or replacing by name, unless --no-remotes', async () => {
    await using tmp = await createTempDir();
    const paths = resolvePaths({ home: tmp.path });
    await writeRemotes(paths, [
      { name: 'devbox', command: ['ssh', 'devbox', 'beacon-hub'] },
      { name: 'wsl', command: ['wsl', 'beacon-hub'] },
    ]);
    const warn = (message: string) => {
      throw new Error(message);
    };
    expect(
      await remotesOfRun(
        { remote: ['devbox=ssh other beacon-hub', 'web=docker exec -i web beacon-hub'] },
        paths,
        warn,
      ),
    ).toEqual([
      { name: 'devbox', command: ['ssh', 'other', 'beacon-hub'] },
      { name: 'wsl', command: ['wsl', 'beacon-hub'] },
      { name: 'web', command: ['docker', 'exec', '-i', 'web', 'beacon-hub'] },
    ]);
    expect(await remotesOfRun({ 'no-remotes': true, remote: ['x1=true'] }, paths, warn)).toEqual([
      { name: 'x1', command: ['true'] },
    ]);
    await expect(remotesOfRun({ remote: ['nope'] }, paths, warn)).rejects.toThrow(/NAME=COMMAND/);
  });

  it('skip a kept file that cannot be read, saying so, and keep the --remote ones', async () => {
    await using tmp = await createTempDir();
    const paths = resolvePaths({ home: tmp.path });
    await writeFile(remotesFile(paths), '{broken');
    const warnings: string[] = [];
    expect(
      await remotesOfRun(
        { remote: ['box=ssh box beacon-hub'] },
        paths,
        (m) => void warnings.push(m),
      ),
    ).toEqual([{ name: 'box', command: ['ssh', 'box', 'beacon-hub'] }]);
    expect(warnings).toEqual([expect.stringMatching(/^ignoring the kept remotes: .*is not JSON/)]);
  });
});
