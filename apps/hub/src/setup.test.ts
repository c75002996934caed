import { realpathSync } from 'node:fs';
import { lstat, mkdir, readFile, readlink, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTempDir, startProcess, testNode } from '@mcp-beacon/test-utils';
import { describe, expect, it } from 'vitest';
import { configFile, serverEntry, setupText, writeSetup } from './setup.js';

const launch = { node: '/opt/node/bin/node', cli: '/opt/beacon/cli.js', dataDir: '/data/beacon' };
const HUB = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

describe('beacon-hub setup', () => {
  it('knows each client’s user config file on every OS', () => {
    const linux = { home: '/home/u', platform: 'linux' as const };
    expect(configFile('cursor', linux)?.file).toBe('/home/u/.cursor/mcp.json');
    expect(configFile('claude-desktop', linux)?.file).toBe(
      '/home/u/.config/Claude/claude_desktop_config.json',
    );
    expect(configFile('vscode', linux)).toEqual({
      file: '/home/u/.config/Code/User/mcp.json',
      key: 'servers',
    });
    expect(configFile('claude-desktop', { home: '/Users/u', platform: 'darwin' })?.file).toBe(
      '/Users/u/Library/Application Support/Claude/claude_desktop_config.json',
    );
    expect(
      configFile('vscode', { home: 'C:\\Users\\u', platform: 'win32', appData: 'D:\\Roaming' })
        ?.file,
    ).toBe('D:\\Roaming\\Code\\User\\mcp.json');
    expect(configFile('claude-code', linux)).toBeUndefined();
  });

  it('prints the command for Claude Code and the JSON for the others, with absolute paths', () => {
    const env = { home: '/home/u', platform: 'linux' as const };
    expect(setupText('claude-code', launch, env)).toBe(
      'claude mcp add --scope user beacon --env MCP_BEACON_HOME=/data/beacon -- /opt/node/bin/node /opt/beacon/cli.js\n',
    );
    const vscode = setupText('vscode', launch, env);
    expect(vscode).toContain('/home/u/.config/Code/User/mcp.json');
    expect(JSON.parse(vscode.slice(vscode.indexOf('{')))).toEqual({
      servers: {
        beacon: {
          type: 'stdio',
          command: '/opt/node/bin/node',
          args: ['/opt/beacon/cli.js'],
          env: { MCP_BEACON_HOME: '/data/beacon' },
        },
      },
    });
  });

  it('passes --start-roots on to the launch', () => {
    const env = { home: '/home/u', platform: 'linux' as const };
    const withRoots = { ...launch, flags: ['--start-roots'] };
    expect(setupText('claude-code', withRoots, env)).toMatch(
      / \/opt\/beacon\/cli\.js --start-roots\n$/,
    );
    expect(serverEntry('cursor', withRoots).args).toEqual(['/opt/beacon/cli.js', '--start-roots']);
  });

  it('writes into an existing config, keeping every other entry and a backup', async () => {
    await using tmp = await createTempDir();
    const env = { home: tmp.path, platform: 'linux' as const };
    const file = path.join(tmp.path, '.cursor', 'mcp.json');
    await mkdir(path.dirname(file), { recursive: true });
    const original = `${JSON.stringify({ mcpServers: { other: { command: 'x' } }, theme: 'dark' })}\n`;
    await writeFile(file, original);
    const { backup } = await writeSetup('cursor', launch, env, new Date('2026-01-02T03:04:05Z'));
    expect(backup).toBe(`${file}.2026-01-02T03-04-05-000Z.bak`);
    expect(await readFile(backup!, 'utf8')).toBe(original);
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({
      mcpServers: {
        other: { command: 'x' },
        beacon: {
          command: '/opt/node/bin/node',
          args: ['/opt/beacon/cli.js'],
          env: { MCP_BEACON_HOME: '/data/beacon' },
        },
      },
      theme: 'dark',
    });
  });

  it('keeps a 0600 config 0600, its backup too, and writes through a symlink to its target', async () => {
    await using tmp = await createTempDir();
    const env = { home: tmp.path, platform: 'linux' as const };
    const file = path.join(tmp.path, '.cursor', 'mcp.json');
    await mkdir(path.dirname(file), { recursive: true });
    const secret = { mcpServers: { other: { command: 'x', env: { API_KEY: 'sk-secret' } } } };
    const real = path.join(tmp.path, 'dotfiles', 'cursor-mcp.json');
    await mkdir(path.dirname(real), { recursive: true });
    await writeFile(real, JSON.stringify(secret), { mode: 0o600 });
    await symlink(real, file);
    const { backup } = await writeSetup('cursor', launch, env);
    expect((await lstat(file)).isSymbolicLink()).toBe(true);
    expect(await readlink(file)).toBe(real);
    const written = JSON.parse(await readFile(real, 'utf8'));
    expect(written.mcpServers.other.env.API_KEY).toBe('sk-secret');
    expect(written.mcpServers.beacon.command).toBe('/opt/node/bin/node');
    expect((await stat(real)).mode & 0o777).toBe(0o600);
    expect((await stat(backup!)).mode & 0o777).toBe(0o600);
    // A new config is 0600 from the start.
    const created = await writeSetup('claude-desktop', launch, env);
    expect((await stat(created.file)).mode & 0o777).toBe(0o600);
  });

  it('creates a missing config, and refuses a broken one without touching it', async () => {
    await using tmp = await createTempDir();
    const env = { home: tmp.path, platform: 'linux' as const };
    const created = await writeSetup('claude-desktop', launch, env);
    expect(created.backup).toBeUndefined();
    expect(JSON.parse(await readFile(created.file, 'utf8')).mcpServers.beacon.args).toEqual([
      '/opt/beacon/cli.js',
    ]);
    const broken = path.join(tmp.path, '.cursor', 'mcp.json');
    await mkdir(path.dirname(broken), { recursive: true });
    await writeFile(broken, '{ "mcpServers": ');
    await expect(writeSetup('cursor', launch, env)).rejects.toThrow(/is not valid JSON/);
    expect(await readFile(broken, 'utf8')).toBe('{ "mcpServers": ');
    await expect(writeSetup('claude-code', launch, env)).rejects.toThrow(/run the command/);
  });

  it('works from the built CLI against a real config in a temp HOME', async () => {
    await using tmp = await createTempDir();
    const env = { ...process.env, HOME: tmp.path, MCP_BEACON_HOME: path.join(tmp.path, 'data') };
    const wrote = startProcess(testNode, [HUB, 'setup', 'cursor', '--write'], { env });
    expect((await wrote.exited).code).toBe(0);
    const config = JSON.parse(await readFile(path.join(tmp.path, '.cursor', 'mcp.json'), 'utf8'));
    expect(config.mcpServers.beacon).toEqual({
      command: realpathSync(testNode),
      args: [realpathSync(HUB)],
      env: { MCP_BEACON_HOME: path.join(tmp.path, 'data') },
    });
    const bad = startProcess(testNode, [HUB, 'setup', 'emacs'], { env });
    expect((await bad.exited).code).toBe(2);
    expect(bad.stderr()).toContain('setup needs one client: claude-code, claude-desktop');
  });
});
