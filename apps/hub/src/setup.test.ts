import { realpathSync } from 'node:fs';
import {
  lstat,
  mkdir,
  readdir,
  readFile,
  readlink,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTempDir, startProcess, testNode } from '@mcp-beacon/test-utils';
import { describe, expect, it } from 'vitest';
import { configFile, serverEntry, setupNode, setupText, writeSetup } from './setup.js';

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
      format: 'json',
      file: '/home/u/.config/Code/User/mcp.json',
      key: 'servers',
    });
    expect(configFile('codex', linux)).toEqual({
      format: 'toml',
      file: '/home/u/.codex/config.toml',
      key: 'mcp_servers',
    });
    expect(configFile('codex', { ...linux, codexHome: '/srv/codex' })?.file).toBe(
      '/srv/codex/config.toml',
    );
    expect(configFile('codex', { ...linux, codexHome: '' })?.file).toBe(
      '/home/u/.codex/config.toml',
    );
    expect(configFile('gemini', linux)).toEqual({
      format: 'json',
      file: '/home/u/.gemini/settings.json',
      key: 'mcpServers',
    });
    expect(configFile('gemini', { ...linux, geminiHome: '/srv/g' })?.file).toBe(
      '/srv/g/.gemini/settings.json',
    );
    expect(configFile('codex', { home: 'C:\\Users\\u', platform: 'win32' })?.file).toBe(
      'C:\\Users\\u\\.codex\\config.toml',
    );
    expect(configFile('gemini', { home: 'C:\\Users\\u', platform: 'win32' })?.file).toBe(
      'C:\\Users\\u\\.gemini\\settings.json',
    );
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

  it('prints the codex mcp add command with the TOML as comments, and the JSON and gemini mcp add', () => {
    const env = { home: '/home/u', platform: 'linux' as const };
    const spaced = { ...launch, dataDir: '/data/my beacon', flags: ['--start-roots'] };
    expect(setupText('codex', spaced, env)).toBe(
      [
        "codex mcp add beacon --env MCP_BEACON_HOME='/data/my beacon' -- /opt/node/bin/node /opt/beacon/cli.js --start-roots",
        '# or run: beacon-hub setup codex --write, which adds to /home/u/.codex/config.toml:',
        '# [mcp_servers.beacon]',
        '# command = "/opt/node/bin/node"',
        '# args = ["/opt/beacon/cli.js", "--start-roots"]',
        '#',
        '# [mcp_servers.beacon.env]',
        '# MCP_BEACON_HOME = "/data/my beacon"',
        '',
      ].join('\n'),
    );
    const gemini = setupText('gemini', spaced, env);
    expect(gemini).toContain('Add to /home/u/.gemini/settings.json');
    expect(JSON.parse(gemini.slice(gemini.indexOf('{'), gemini.lastIndexOf('}') + 1))).toEqual({
      mcpServers: {
        beacon: {
          command: '/opt/node/bin/node',
          args: ['/opt/beacon/cli.js', '--start-roots'],
          env: { MCP_BEACON_HOME: '/data/my beacon' },
        },
      },
    });
    expect(gemini).toMatch(
      /\nor run: gemini mcp add --scope user --env MCP_BEACON_HOME='\/data\/my beacon' beacon \/opt\/node\/bin\/node \/opt\/beacon\/cli\.js -- --start-roots\n$/,
    );
  });

  it('leaves MCP_BEACON_HOME out when the data folder is the default one', () => {
    const env = { home: '/home/u', platform: 'linux' as const };
    const plain = { node: launch.node, cli: launch.cli };
    expect(setupText('claude-code', plain, env)).toBe(
      'claude mcp add --scope user beacon -- /opt/node/bin/node /opt/beacon/cli.js\n',
    );
    expect(setupText('codex', plain, env).split('\n')[0]).toBe(
      'codex mcp add beacon -- /opt/node/bin/node /opt/beacon/cli.js',
    );
    expect(setupText('codex', plain, env)).not.toContain('env');
    expect(setupText('gemini', plain, env)).toMatch(
      /\nor run: gemini mcp add --scope user beacon \/opt\/node\/bin\/node \/opt\/beacon\/cli\.js\n$/,
    );
    expect(serverEntry('cursor', plain)).toEqual({ command: plain.node, args: [plain.cli] });
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

  describe('Codex config.toml', () => {
    const entry = [
      '[mcp_servers.beacon]',
      'command = "/opt/node/bin/node"',
      'args = ["/opt/beacon/cli.js"]',
      '',
      '[mcp_servers.beacon.env]',
      'MCP_BEACON_HOME = "/data/beacon"',
      '',
    ].join('\n');
    const setUp = async (tmp: { path: string }, content: string, mode = 0o600) => {
      const file = path.join(tmp.path, '.codex', 'config.toml');
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, content, { mode });
      return { file, env: { home: tmp.path, platform: 'linux' as const } };
    };

    it('creates a missing config.toml, 0600, honouring CODEX_HOME', async () => {
      await using tmp = await createTempDir();
      const codexHome = path.join(tmp.path, 'codex-home');
      const env = { home: tmp.path, platform: 'linux' as const, codexHome };
      const created = await writeSetup('codex', launch, env);
      expect(created).toEqual({ file: path.join(codexHome, 'config.toml'), backup: undefined });
      expect(await readFile(created.file, 'utf8')).toBe(entry);
      expect((await stat(created.file)).mode & 0o777).toBe(0o600);
    });

    it('appends the tables after everything else, keeping every byte and the mode', async () => {
      await using tmp = await createTempDir();
      const original = [
        '# my codex settings',
        'model = "o3"  # the default',
        '',
        '[mcp_servers.github]',
        'command = "npx"',
        'args = [',
        '  "-y", # the package',
        '  "@github/mcp",',
        ']',
        'env = { GITHUB_TOKEN = "t#k" }',
        '',
        '[profiles.fast]',
        "notes = '''",
        '[mcp_servers.beacon]',
        "command = 'not a table: inside a string'",
        "'''",
        'when = 1979-05-27 07:32:00Z',
      ].join('\n');
      const { file, env } = await setUp(tmp, original, 0o640);
      const { backup } = await writeSetup('codex', launch, env, new Date('2026-01-02T03:04:05Z'));
      expect(await readFile(file, 'utf8')).toBe(`${original}\n\n${entry}`);
      expect(await readFile(backup!, 'utf8')).toBe(original);
      expect((await stat(file)).mode & 0o777).toBe(0o640);
      expect((await stat(backup!)).mode & 0o777).toBe(0o640);
    });

    it('replaces its own tables in place, wherever they are, and nothing else', async () => {
      await using tmp = await createTempDir();
      const before = '[mcp_servers.other]\ncommand = "x"\n\n';
      const kept =
        '# the next one\n[mcp_servers.beacon.tools.scripts_run]\napproval_mode = "approve"\n';
      const after = '[mcp_servers.zeta]\ncommand = "z"\n';
      const original = [
        before,
        '[mcp_servers.beacon]   # added by hand\n',
        'command = "/old/node"\n',
        'args = ["/old/cli.js"]\n',
        'startup_timeout_sec = 5\n',
        '\n',
        kept,
        '\n',
        '[ mcp_servers . "beacon" . env ]\n',
        'MCP_BEACON_HOME = "/old/data"\n',
        '\n',
        after,
      ].join('');
      const { file, env } = await setUp(tmp, original);
      await writeSetup('codex', { ...launch, flags: ['--start-roots'] }, env);
      const rewritten = entry.replace(
        '"/opt/beacon/cli.js"',
        '"/opt/beacon/cli.js", "--start-roots"',
      );
      expect(await readFile(file, 'utf8')).toBe(`${before}${rewritten}\n${kept}\n${after}`);
      // Again with the default data folder: the env table goes, and no blank line piles up.
      await writeSetup('codex', { node: launch.node, cli: launch.cli }, env);
      expect(await readFile(file, 'utf8')).toBe(
        `${before}[mcp_servers.beacon]\ncommand = "/opt/node/bin/node"\nargs = ["/opt/beacon/cli.js"]\n\n${kept}\n${after}`,
      );
      await writeSetup('codex', launch, env);
      expect(await readFile(file, 'utf8')).toBe(`${before}${entry}\n${kept}\n${after}`);
    });

    it('keeps CRLF line ends and escapes what TOML wants escaped', async () => {
      await using tmp = await createTempDir();
      const { file, env } = await setUp(tmp, 'model = "o3"\r\n');
      const odd = { node: 'C:\\node\\node.exe', cli: '/a "quoted"\x7f/cli.js', dataDir: '/d' };
      await writeSetup('codex', odd, env);
      expect(await readFile(file, 'utf8')).toBe(
        'model = "o3"\r\n\r\n[mcp_servers.beacon]\r\ncommand = "C:\\\\node\\\\node.exe"\r\n' +
          'args = ["/a \\"quoted\\"\\u007F/cli.js"]\r\n\r\n[mcp_servers.beacon.env]\r\n' +
          'MCP_BEACON_HOME = "/d"\r\n',
      );
    });

    it('leaves a file it cannot edit safely untouched, with an error', async () => {
      const cases: [string, RegExp][] = [
        ['model = "o3\n', /could not be read as TOML \(unterminated string on line 1\)/],
        ['[mcp_servers.github\ncommand = "x"\n', /expected \] after a table name on line 1/],
        ['a = [1, 2\n[mcp_servers.x]\n', /expected , or \]/],
        ['notes = """\nnever closed\n', /unterminated multi-line string/],
        ['a = 1 b = 2\n', /unexpected text after a value on line 1/],
        ['mcp_servers.beacon.command = "x"\n', /in a form setup does not edit \(line 1\)/],
        ['[mcp_servers]\nbeacon = { command = "x" }\n', /in a form setup does not edit \(line 2\)/],
        ['mcp_servers = { other = { command = "x" } }\n', /does not edit \(line 1\)/],
        ['[[mcp_servers.beacon]]\ncommand = "x"\n', /does not edit \(line 1\)/],
        ['[mcp_servers.beacon]\n\n[mcp_servers.beacon]\n', /does not edit \(line 3\)/],
      ];
      for (const [content, error] of cases) {
        await using tmp = await createTempDir();
        const { file, env } = await setUp(tmp, content);
        await expect(writeSetup('codex', launch, env), content).rejects.toThrow(error);
        expect(await readFile(file, 'utf8')).toBe(content);
        expect(await readdir(path.dirname(file))).toEqual(['config.toml']);
      }
    });
  });

  it('writes Gemini CLI’s settings.json like the other JSON clients, and refuses a commented one', async () => {
    await using tmp = await createTempDir();
    const geminiHome = path.join(tmp.path, 'gh');
    const env = { home: tmp.path, platform: 'linux' as const, geminiHome };
    const file = path.join(geminiHome, '.gemini', 'settings.json');
    await mkdir(path.dirname(file), { recursive: true });
    const original = JSON.stringify({
      security: { auth: { selectedType: 'oauth-personal' } },
      mcpServers: { other: { command: 'x', trust: true } },
    });
    await writeFile(file, original, { mode: 0o644 });
    const { backup } = await writeSetup('gemini', launch, env);
    expect(await readFile(backup!, 'utf8')).toBe(original);
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({
      security: { auth: { selectedType: 'oauth-personal' } },
      mcpServers: {
        other: { command: 'x', trust: true },
        beacon: {
          command: '/opt/node/bin/node',
          args: ['/opt/beacon/cli.js'],
          env: { MCP_BEACON_HOME: '/data/beacon' },
        },
      },
    });
    expect((await stat(file)).mode & 0o777).toBe(0o644);
    const commented = '{\n  // Gemini CLI reads comments\n  "mcpServers": {}\n}\n';
    await writeFile(file, commented);
    await expect(writeSetup('gemini', launch, env)).rejects.toThrow(
      /is not valid JSON .*run the `gemini mcp add` command that setup prints/,
    );
    expect(await readFile(file, 'utf8')).toBe(commented);
  });

  describe('the node it names', () => {
    const cellar = '/opt/homebrew/Cellar/node/22.1.0/bin/node';
    /** A realpath edge over `links` (path -> target); other paths do not exist. */
    const resolving = (links: Record<string, string>) => (file: string) => links[file];
    const darwin = (links: Record<string, string>) => ({
      home: '/Users/u',
      platform: 'darwin' as const,
      realpath: resolving(links),
    });

    it('on macOS, is a Homebrew link that survives brew upgrade rather than the Cellar path', () => {
      const plain = { node: cellar, cli: '/opt/beacon/cli.js' };
      const brew = darwin({
        [cellar]: cellar,
        '/opt/homebrew/bin/node': cellar,
        '/opt/homebrew/opt/node/bin/node': cellar,
      });
      expect(setupText('claude-code', plain, brew)).toBe(
        'claude mcp add --scope user beacon -- /opt/homebrew/bin/node /opt/beacon/cli.js\n',
      );
      expect(setupNode(cellar, brew)).toEqual({ node: '/opt/homebrew/bin/node' });
      // A keg-only node@20 has only its opt link; Intel's Homebrew lives in /usr/local.
      const keg = '/opt/homebrew/Cellar/node@20/20.11.1_1/bin/node';
      expect(
        setupNode(keg, darwin({ [keg]: keg, '/opt/homebrew/opt/node@20/bin/node': keg })),
      ).toEqual({ node: '/opt/homebrew/opt/node@20/bin/node' });
      const intel = '/usr/local/Cellar/node/22.1.0/bin/node';
      expect(setupNode(intel, darwin({ [intel]: intel, '/usr/local/bin/node': intel }))).toEqual({
        node: '/usr/local/bin/node',
      });
    });

    it('keeps a Cellar path no link resolves to, and says that an upgrade removes it', () => {
      // /opt/homebrew/bin/node is another version's: not the binary that runs the hub.
      const other = '/opt/homebrew/Cellar/node/23.0.0/bin/node';
      const env = darwin({ [cellar]: cellar, '/opt/homebrew/bin/node': other });
      const chosen = setupNode(cellar, env);
      expect(chosen.node).toBe(cellar);
      expect(chosen.note).toMatch(/Node 22\.1\.0 from Homebrew.*upgrad/);
      const text = setupText('cursor', { node: cellar, cli: '/opt/beacon/cli.js' }, env);
      expect(text).toContain(`"command": "${cellar}"`);
      expect(text).toMatch(/\n# .*Node 22\.1\.0 from Homebrew.*beacon-hub setup cursor/);
    });

    it('says that an upgrade changes an nvm or Volta path, on every OS, and writes it as it is', () => {
      const nvm = '/Users/u/.nvm/versions/node/v20.11.1/bin/node';
      const volta = '/Users/u/.volta/tools/image/node/22.1.0/bin/node';
      const env = darwin({});
      expect(setupNode(nvm, env).node).toBe(nvm);
      expect(setupNode(nvm, env).note).toMatch(/Node v20\.11\.1 from nvm.*upgrad/);
      expect(setupNode(volta, env).note).toMatch(/Node 22\.1\.0 from Volta.*upgrad/);
      const linux = { home: '/home/u', platform: 'linux' as const };
      const onLinux = '/home/u/.nvm/versions/node/v20.11.1/bin/node';
      const text = setupText('claude-code', { node: onLinux, cli: '/opt/beacon/cli.js' }, linux);
      expect(text.split('\n')[0]).toBe(
        `claude mcp add --scope user beacon -- ${onLinux} /opt/beacon/cli.js`,
      );
      // A shell comment, so the output still runs as a script.
      expect(text.split('\n')[1]).toMatch(/^# .*v20\.11\.1 from nvm.*upgrad.*claude-code/);
      // A path without a version, and Linux's and Windows' nodes, are written as they are.
      expect(setupNode('/usr/bin/node', linux)).toEqual({ node: '/usr/bin/node' });
      expect(setupNode(cellar, linux)).toEqual({ node: cellar, note: expect.any(String) });
      expect(
        setupNode('C:\\Program Files\\nodejs\\node.exe', {
          home: 'C:\\Users\\u',
          platform: 'win32',
        }),
      ).toEqual({ node: 'C:\\Program Files\\nodejs\\node.exe' });
    });

    it('writes the stable link into the config, and answers the note', async () => {
      await using tmp = await createTempDir();
      const env = {
        home: tmp.path,
        platform: 'darwin' as const,
        realpath: resolving({ [cellar]: cellar, '/opt/homebrew/bin/node': cellar }),
      };
      const written = await writeSetup('cursor', { node: cellar, cli: '/opt/beacon/cli.js' }, env);
      expect(JSON.parse(await readFile(written.file, 'utf8')).mcpServers.beacon.command).toBe(
        '/opt/homebrew/bin/node',
      );
      expect(written.note).toBe(undefined);
      const nvm = `${tmp.path}/.nvm/versions/node/v20.11.1/bin/node`;
      const again = await writeSetup('cursor', { node: nvm, cli: '/opt/beacon/cli.js' }, env);
      expect(JSON.parse(await readFile(again.file, 'utf8')).mcpServers.beacon.command).toBe(nvm);
      expect(again.note).toMatch(/from nvm/);
    });
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
  it('sets up Codex and Gemini CLI from the built CLI, pinning only a data folder that is not the default', async () => {
    await using tmp = await createTempDir();
    const {
      CODEX_HOME: _c,
      GEMINI_CLI_HOME: _g,
      XDG_DATA_HOME: _x,
      MCP_BEACON_HOME: _m,
      ...inherited
    } = process.env;
    const env = { ...inherited, HOME: tmp.path };
    const pinned = { ...env, MCP_BEACON_HOME: path.join(tmp.path, 'data') };
    const toml = path.join(tmp.path, '.codex', 'config.toml');
    await mkdir(path.dirname(toml), { recursive: true });
    const original = 'model = "o3"\n\n[mcp_servers.other]\ncommand = "x"\n';
    await writeFile(toml, original, { mode: 0o640 });
    const codex = startProcess(testNode, [HUB, 'setup', 'codex', '--write', '--start-roots'], {
      env: pinned,
    });
    expect((await codex.exited).code).toBe(0);
    expect(codex.stdout()).toContain(`Added beacon to ${toml} (previous version kept in `);
    expect(await readFile(toml, 'utf8')).toBe(
      `${original}\n[mcp_servers.beacon]\ncommand = ${JSON.stringify(realpathSync(testNode))}\n` +
        `args = [${JSON.stringify(realpathSync(HUB))}, "--start-roots"]\n\n` +
        `[mcp_servers.beacon.env]\nMCP_BEACON_HOME = ${JSON.stringify(path.join(tmp.path, 'data'))}\n`,
    );
    expect((await stat(toml)).mode & 0o777).toBe(0o640);

    const geminiHome = path.join(tmp.path, 'gemini-home');
    const gemini = startProcess(testNode, [HUB, 'setup', 'gemini', '--write'], {
      env: { ...env, GEMINI_CLI_HOME: geminiHome },
    });
    expect((await gemini.exited).code).toBe(0);
    const settings = path.join(geminiHome, '.gemini', 'settings.json');
    expect(JSON.parse(await readFile(settings, 'utf8'))).toEqual({
      mcpServers: { beacon: { command: realpathSync(testNode), args: [realpathSync(HUB)] } },
    });
    const printed = startProcess(testNode, [HUB, 'setup', 'gemini'], { env });
    expect((await printed.exited).code).toBe(0);
    expect(printed.stdout()).toContain(`Add to ${path.join(tmp.path, '.gemini', 'settings.json')}`);
    expect(printed.stdout()).not.toContain('MCP_BEACON_HOME');

    const broken = 'model = "o3\n';
    await writeFile(toml, broken);
    const refused = startProcess(testNode, [HUB, 'setup', 'codex', '--write'], { env });
    expect((await refused.exited).code).toBe(1);
    expect(refused.stderr()).toContain('could not be read as TOML (unterminated string on line 1)');
    expect(await readFile(toml, 'utf8')).toBe(broken);
  });
});
