import { describe, expect, it } from 'vitest';
import {
  instanceEnv,
  instanceSearchPath,
  isLaunchdPath,
  type LaunchHost,
  nodeScript,
  nvmDefaultBin,
} from './_gui-env.js';

const LAUNCHD = '/usr/bin:/bin:/usr/sbin:/sbin';

/** A host whose file system is `dirs` (folders) and `files` (path -> text); nothing else exists. */
function host(
  over: Partial<LaunchHost> & { dirs?: string[]; files?: Record<string, string> } = {},
): LaunchHost {
  const { dirs = [], files = {}, ...rest } = over;
  const folders = new Set(dirs);
  return {
    platform: 'darwin',
    env: { PATH: LAUNCHD },
    execPath: '/opt/homebrew/Cellar/node/22.1.0/bin/node',
    home: '/Users/u',
    isDirectory: (dir) => folders.has(dir),
    readText: (file) => files[file],
    listDir: (dir) =>
      [...folders, ...Object.keys(files)]
        .filter((p) => p.startsWith(`${dir}/`) && !p.slice(dir.length + 1).includes('/'))
        .map((p) => p.slice(dir.length + 1)),
    realpath: (file) => file,
    ...rest,
  };
}

const NVM = '/Users/u/.nvm';
const versions = (...names: string[]) => names.map((v) => `${NVM}/versions/node/${v}`);
const bins = (...names: string[]) => names.map((v) => `${NVM}/versions/node/${v}/bin`);

describe('isLaunchdPath', () => {
  it('is launchd’s PATH and the folders macOS itself adds, nothing a user or package manager adds', () => {
    expect(isLaunchdPath(LAUNCHD)).toBe(true);
    expect(isLaunchdPath(undefined)).toBe(true);
    expect(isLaunchdPath('')).toBe(true);
    expect(isLaunchdPath('/usr/bin:/bin::/usr/sbin:/sbin:')).toBe(true);
    // path_helper's /etc/paths and Apple's own folders, as a login shell without a profile has.
    expect(
      isLaunchdPath(
        '/usr/local/bin:/System/Cryptexes/App/usr/bin:/usr/bin:/bin:/usr/sbin:/sbin:/var/run/com.apple.security.cryptexd/codex.system/bootstrap/usr/local/bin:/Library/Apple/usr/bin',
      ),
    ).toBe(true);
    expect(isLaunchdPath(`/opt/homebrew/bin:${LAUNCHD}`)).toBe(false);
    expect(isLaunchdPath(`/Users/u/.nvm/versions/node/v20.11.1/bin:${LAUNCHD}`)).toBe(false);
    expect(isLaunchdPath(`${LAUNCHD}:/Users/u/.volta/bin`)).toBe(false);
    expect(isLaunchdPath(`.:${LAUNCHD}:node_modules/.bin`)).toBe(true);
  });
});

describe('instanceSearchPath', () => {
  it('puts the hub’s node first and adds the package managers’ folders that exist, after launchd’s', () => {
    const h = host({
      dirs: [
        '/opt/homebrew/Cellar/node/22.1.0/bin',
        '/opt/homebrew/bin',
        '/usr/local/bin',
        '/Users/u/.volta/bin',
        '/Users/u/Library/pnpm',
        '/Users/u/.bun/bin',
        ...versions('v20.11.1'),
        ...bins('v20.11.1'),
      ],
      files: { [`${NVM}/alias/default`]: '20\n' },
    });
    expect(instanceSearchPath(h)).toBe(
      [
        '/opt/homebrew/Cellar/node/22.1.0/bin',
        '/usr/bin',
        '/bin',
        '/usr/sbin',
        '/sbin',
        '/opt/homebrew/bin',
        '/usr/local/bin',
        '/Users/u/.volta/bin',
        '/Users/u/Library/pnpm',
        '/Users/u/.bun/bin',
        `${NVM}/versions/node/v20.11.1/bin`,
      ].join(':'),
    );
  });

  it('adds only folders that exist, absolute ones, each once, and drops relative entries', () => {
    const h = host({
      env: { PATH: `.:/usr/bin::node_modules/.bin:/bin:/usr/bin/`, PNPM_HOME: 'relative/pnpm' },
      execPath: '/usr/local/bin/node',
      dirs: ['/usr/local/bin', '/Users/u/.local/share/pnpm', 'relative/pnpm'],
    });
    expect(instanceSearchPath(h)).toBe('/usr/local/bin:/usr/bin:/bin:/Users/u/.local/share/pnpm');
    // $PNPM_HOME and $VOLTA_HOME when absolute; ~/.nvm/alias/default that resolves to nothing.
    const custom = host({
      env: { PATH: LAUNCHD, PNPM_HOME: '/srv/pnpm', VOLTA_HOME: '/srv/volta', NVM_DIR: '/srv/nvm' },
      dirs: ['/srv/pnpm', '/srv/volta/bin', '/Users/u/.volta/bin'],
      files: { '/srv/nvm/alias/default': 'system' },
    });
    expect(instanceSearchPath(custom)).toBe(
      `/opt/homebrew/Cellar/node/22.1.0/bin:${LAUNCHD}:/srv/volta/bin:/srv/pnpm`,
    );
  });

  it('leaves a PATH a shell or a terminal-started client set, and every other OS, alone', () => {
    const dirs = ['/opt/homebrew/bin', '/Users/u/.volta/bin'];
    expect(instanceSearchPath(host({ env: { PATH: `/opt/homebrew/bin:${LAUNCHD}` }, dirs }))).toBe(
      undefined,
    );
    expect(
      instanceSearchPath(host({ platform: 'linux', execPath: '/usr/local/bin/node', dirs })),
    ).toBe(undefined);
    expect(
      instanceSearchPath(host({ platform: 'win32', env: { PATH: 'C:\\Windows\\system32' }, dirs })),
    ).toBe(undefined);
  });
});

describe('instanceEnv', () => {
  it('is the hub’s environment with PATH replaced only for a launchd-started hub on macOS', () => {
    const env = { PATH: LAUNCHD, HOME: '/Users/u', TOKEN_LIKE: 'kept' };
    const gui = instanceEnv(host({ env, dirs: ['/opt/homebrew/bin'] }));
    expect(gui).toEqual({
      ...env,
      PATH: `/opt/homebrew/Cellar/node/22.1.0/bin:${LAUNCHD}:/opt/homebrew/bin`,
    });
    expect(env.PATH).toBe(LAUNCHD);
    const linux = { PATH: LAUNCHD, HOME: '/home/u' };
    expect(
      instanceEnv(host({ platform: 'linux', env: linux, dirs: ['/opt/homebrew/bin'] })),
    ).toEqual(linux);
  });
});

describe('nvmDefaultBin', () => {
  const installed = [
    ...versions('v18.20.0', 'v20.9.0', 'v20.11.1', 'v22.1.0'),
    ...bins('v18.20.0', 'v20.9.0', 'v20.11.1', 'v22.1.0'),
  ];
  const withDefault = (value: string, files: Record<string, string> = {}) =>
    nvmDefaultBin(host({ dirs: installed, files: { [`${NVM}/alias/default`]: value, ...files } }));

  it('resolves versions, partial versions, node and lts aliases as nvm does', () => {
    expect(withDefault('v20.9.0')).toBe(`${NVM}/versions/node/v20.9.0/bin`);
    expect(withDefault('20.9.0\n')).toBe(`${NVM}/versions/node/v20.9.0/bin`);
    expect(withDefault('20')).toBe(`${NVM}/versions/node/v20.11.1/bin`);
    expect(withDefault('v20')).toBe(`${NVM}/versions/node/v20.11.1/bin`);
    expect(withDefault('node')).toBe(`${NVM}/versions/node/v22.1.0/bin`);
    expect(withDefault('stable')).toBe(`${NVM}/versions/node/v22.1.0/bin`);
    expect(
      withDefault('lts/*', {
        [`${NVM}/alias/lts/*`]: 'lts/iron',
        [`${NVM}/alias/lts/iron`]: 'v20.11.1',
      }),
    ).toBe(`${NVM}/versions/node/v20.11.1/bin`);
    expect(withDefault('work', { [`${NVM}/alias/work`]: '18' })).toBe(
      `${NVM}/versions/node/v18.20.0/bin`,
    );
  });

  it('gives nothing for what does not resolve to an installed version', () => {
    expect(nvmDefaultBin(host({ dirs: installed }))).toBe(undefined);
    expect(withDefault('system')).toBe(undefined);
    expect(withDefault('iojs')).toBe(undefined);
    expect(withDefault('v19')).toBe(undefined);
    expect(withDefault('2')).toBe(undefined);
    expect(withDefault('v20.9')).toBe(`${NVM}/versions/node/v20.9.0/bin`);
    expect(withDefault('../../../etc')).toBe(undefined);
    expect(withDefault('/etc/passwd')).toBe(undefined);
    expect(withDefault('a', { [`${NVM}/alias/a`]: 'b', [`${NVM}/alias/b`]: 'a' })).toBe(undefined);
    // A version folder without bin/ is not a Node to run.
    expect(
      nvmDefaultBin(host({ dirs: versions('v21.0.0'), files: { [`${NVM}/alias/default`]: '21' } })),
    ).toBe(undefined);
  });
});

describe('nodeScript', () => {
  it('answers the real path of a script node runs, by extension or shebang', () => {
    const files = {
      '/lib/cli.js': 'console.log(1)',
      '/lib/env-node': '#!/usr/bin/env node\nimport "./x.js";\n',
      '/lib/abs-node': '#!/opt/homebrew/bin/node\n',
      '/lib/flags': '#!/usr/bin/env -S node --no-warnings\n',
      '/lib/sh': '#!/bin/sh\nexec node "$0.js"\n',
      '/lib/nodemon': '#!/usr/bin/env nodemon\n',
      '/bin/beacon-x': '',
    };
    const h = host({
      files,
      realpath: (file) =>
        file === '/bin/beacon-x' ? '/lib/cli.js' : file in files ? file : undefined,
    });
    expect(nodeScript('/bin/beacon-x', h)).toBe('/lib/cli.js');
    expect(nodeScript('/lib/env-node', h)).toBe('/lib/env-node');
    expect(nodeScript('/lib/abs-node', h)).toBe('/lib/abs-node');
    // Flags in a shebang would be lost: such a script runs as it is.
    expect(nodeScript('/lib/flags', h)).toBe(undefined);
    expect(nodeScript('/lib/sh', h)).toBe(undefined);
    expect(nodeScript('/lib/nodemon', h)).toBe(undefined);
    expect(nodeScript('/lib/missing', h)).toBe(undefined);
  });
});
