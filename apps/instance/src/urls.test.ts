import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LogRing } from './ring.js';
import { findUrls, MAX_URLS_PER_RUN, UrlSet } from './urls.js';

/** The URLs a run would report for a captured output (fed through a ring: ANSI removed). */
function urlsOf(output: string): string[] {
  const ring = new LogRing();
  ring.write('stdout', output);
  ring.flush();
  const urls = new UrlSet();
  for (const line of ring.read()) urls.add(line.text);
  return urls.list();
}

const fixture = (name: string) =>
  readFileSync(new URL(`../fixtures/output/${name}`, import.meta.url), 'utf8');

describe('URL detection', () => {
  it('finds the local URL in captured dev server banners, colour codes and all', () => {
    expect(urlsOf(fixture('vite-banner-color.txt'))).toEqual(['http://localhost:5198/']);
    // http-server also prints a LAN address: not loopback, not reported.
    expect(urlsOf(fixture('http-server.txt'))).toEqual(['http://127.0.0.1:8089']);
  });

  it.each([
    ['Next.js', '   - Local:        http://localhost:3000', ['http://localhost:3000']],
    [
      'webpack-dev-server',
      '<i> [webpack-dev-server] Loopback: http://localhost:8080/, http://[::1]:8080/',
      ['http://localhost:8080/', 'http://[::1]:8080/'],
    ],
    ['Astro', ' ┃ Local    http://localhost:4321/', ['http://localhost:4321/']],
    [
      'Remix',
      '[remix-serve] http://localhost:3000 (http://192.168.1.10:3000)',
      ['http://localhost:3000'],
    ],
    [
      '0.0.0.0 and https',
      'Listening on https://0.0.0.0:8443/app?x=1.',
      ['https://0.0.0.0:8443/app?x=1'],
    ],
    ['a sentence', 'Open http://127.0.0.1:5000/docs, then retry.', ['http://127.0.0.1:5000/docs']],
    ['quoted', 'url="http://localhost:9000/path"', ['http://localhost:9000/path']],
    ['any 127/8 address', 'on http://127.0.0.10:3000', ['http://127.0.0.10:3000']],
    ['end of a sentence', 'Open http://localhost.', ['http://localhost']],
  ])('%s', (_name, line, expected) => {
    expect(findUrls(line)).toEqual(expected);
  });

  it('ignores remote hosts, look-alikes and impossible ports', () => {
    for (const line of [
      'see https://vitejs.dev/config/',
      'http://localhost.evil.com:3000/',
      'http://127.0.0.1.nip.io:3000/',
      'http://128.0.0.1:3000',
      'http://localhost:99999/',
      'ftp://localhost:21/',
    ])
      expect(findUrls(line), line).toEqual([]);
  });

  it(`keeps each URL once, and at most ${MAX_URLS_PER_RUN} per run`, () => {
    const urls = new UrlSet();
    expect(urls.add('http://localhost:3000/ and http://localhost:3000/')).toEqual([
      'http://localhost:3000/',
    ]);
    expect(urls.add('again http://localhost:3000/')).toEqual([]);
    for (let port = 4000; port < 4100; port++) urls.add(`http://localhost:${port}/`);
    expect(urls.list()).toHaveLength(MAX_URLS_PER_RUN);
  });
});
