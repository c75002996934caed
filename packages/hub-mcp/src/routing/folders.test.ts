import { mkdir, symlink } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { createTempDir } from '@mcp-beacon/test-utils';
import { describe, expect, it } from 'vitest';
import {
  createFolderResolver,
  folderKey,
  holds,
  looksLikeFolder,
  platformOf,
  rootFolder,
} from './folders.js';

describe('folder keys', () => {
  it('normalises POSIX paths: separators, dot segments, trailing slashes', () => {
    expect(folderKey('/home/me/web/')).toBe('/home/me/web');
    expect(folderKey('/home//me/./web/src/..')).toBe('/home/me/web');
    expect(folderKey('/')).toBe('/');
    // POSIX file systems can tell case apart: kept.
    expect(folderKey('/Home/Me')).not.toBe(folderKey('/home/me'));
  });

  it('normalises Windows paths: drive letter case, both separators, case folded', () => {
    expect(platformOf('C:\\Users\\me')).toBe('win32');
    expect(platformOf('/home/me')).toBe('posix');
    const key = folderKey('C:\\Users\\Me\\Proj\\');
    expect(folderKey('c:/users/me/proj')).toBe(key);
    expect(folderKey('C:\\Users\\Me\\Proj\\sub\\..')).toBe(key);
    expect(folderKey('c:\\')).toBe('c:\\');
    expect(folderKey('C:')).toBe('c:\\');
    expect(folderKey('\\\\server\\share\\x\\')).toBe('\\\\server\\share\\x');
  });

  it('holds a folder and its descendants, never a sibling sharing a prefix', () => {
    expect(holds('/home/me/web', '/home/me/web')).toBe(true);
    expect(holds('/home/me/web', '/home/me/web/src')).toBe(true);
    expect(holds('/home/me/web', '/home/me/web-api')).toBe(false);
    expect(holds('/', '/anything')).toBe(true);
    expect(holds(folderKey('C:\\'), folderKey('c:\\x'))).toBe(true);
    expect(holds(folderKey('C:\\Web'), folderKey('c:/web/src'))).toBe(true);
    expect(holds(folderKey('C:\\Web'), folderKey('c:/webby'))).toBe(false);
  });

  it('reads roots from file URIs, percent-encoding decoded, Windows drives as VS Code sends them', () => {
    expect(rootFolder('file:///home/me/My%20Project', 'posix')).toBe('/home/me/My Project');
    expect(rootFolder('file:///c%3A/Users/Me/proj', 'win32')).toBe('c:\\Users\\Me\\proj');
    expect(folderKey(rootFolder('file:///c%3A/Users/Me/proj', 'win32')!)).toBe(
      folderKey('C:\\Users\\me\\Proj'),
    );
    expect(rootFolder('https://example.com/x', 'posix')).toBeUndefined();
    expect(rootFolder('file://server/share', 'posix')).toBeUndefined();
  });

  it('tells folder-shaped arguments from names', () => {
    for (const yes of ['/home/me', '\\\\server\\share', 'C:\\x', 'c:/x', 'C:'])
      expect(looksLikeFolder(yes)).toBe(true);
    for (const no of ['web', 'devbox/web', 'devbox:/x', 'cafe1234'])
      expect(looksLikeFolder(no)).toBe(false);
  });
});

describe('the folder resolver', () => {
  it('compares after realpath, as macOS needs for /var and /private/var', async () => {
    // macOS-shaped: /var is a link to /private/var, so a root under /var and an instance under
    // /private/var are one folder.
    const links: Record<string, string> = { '/var/folders/x/web': '/private/var/folders/x/web' };
    const resolver = createFolderResolver({
      platform: 'posix',
      realpath: async (p) => links[p] ?? p,
    });
    expect(await resolver.resolve('/var/folders/x/web')).toBe('/private/var/folders/x/web');
    expect(resolver.keyOf('/var/folders/x/web')).toBe('/private/var/folders/x/web');
    expect(
      holds(resolver.keyOf('/private/var/folders/x/web'), resolver.keyOf('/var/folders/x/web')),
    ).toBe(true);
  });

  it('keeps the written key when realpath fails, and never touches a network path', async () => {
    const asked: string[] = [];
    const resolver = createFolderResolver({
      platform: 'win32',
      realpath: async (p) => {
        asked.push(p);
        throw new Error('ENOENT');
      },
    });
    expect(await resolver.resolve('C:\\Gone\\')).toBe('c:\\gone');
    expect(await resolver.resolve('\\\\evil\\share')).toBe('\\\\evil\\share');
    expect(asked).toEqual(['C:\\Gone\\']);
  });

  it('answers at once with the written key while realpath runs, then with the real one', async () => {
    const tmp = await createTempDir();
    try {
      const real = path.join(tmp.path, 'real');
      const link = path.join(tmp.path, 'link');
      await mkdir(real);
      await symlink(real, link);
      const resolver = createFolderResolver();
      expect(resolver.keyOf(link)).toBe(folderKey(link));
      expect(resolver.busy()).toBe(true);
      await resolver.settled();
      expect(resolver.busy()).toBe(false);
      expect(resolver.keyOf(link)).toBe(folderKey(await resolver.resolve(real)));
      expect(rootFolder(pathToFileURL(link).href)).toBe(link);
    } finally {
      await tmp.cleanup();
    }
  });
});
