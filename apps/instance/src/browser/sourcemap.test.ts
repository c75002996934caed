// Stack frames of real webpack 5 bundles mapped to project files: `eval-source-map` (frames
// name `webpack-internal:///./src/x.js`, the map is inside the bundle) and `source-map` (a
// `.map` beside the bundle). The bundles are built here with webpack's own API and run in a
// V8 context, so the stacks are the ones V8 writes.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import vm from 'node:vm';
import { createTempDir, type TempDir } from '@mcp-beacon/test-utils';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import webpack from 'webpack';
import { EVAL_MARKERS_READ, evalModuleMap, webpackSourcePath } from './_webpack-sources.js';
import { type ServedScript, SourceMapper } from './sourcemap.js';

const ORIGIN = 'http://127.0.0.1:1';

const INDEX = `import { label } from './label.js';
export const text = label(1);
`;
const LABEL = (blank: number) => `${'\n'.repeat(blank)}export function label(v) {
  const broken = undefined;
  return 'version ' + v + broken.name;
}
`;

let tmp: TempDir;
beforeEach(async () => {
  tmp = await createTempDir('beacon-webpack-map-');
  await mkdir(path.join(tmp.path, 'src'));
  await writeFile(path.join(tmp.path, 'src', 'index.js'), INDEX);
  await writeFile(path.join(tmp.path, 'src', 'label.js'), LABEL(0));
  await writeFile(path.join(tmp.path, 'package.json'), '{"name":"wp-app"}');
});
afterEach(() => tmp.cleanup());

/** Builds the project with `devtool`; resolves with the files in its output folder. */
function build(devtool: string): Promise<void> {
  const compiler = webpack({
    mode: 'development',
    context: tmp.path,
    devtool,
    entry: './src/index.js',
    output: { path: path.join(tmp.path, 'dist'), filename: 'main.js' },
    infrastructureLogging: { level: 'none' },
  });
  return new Promise((resolve, reject) => {
    compiler.run((error, stats) => {
      compiler.close(() => {
        if (error) reject(error);
        else if (stats?.hasErrors()) reject(new Error(stats.toString('errors-only')));
        else resolve();
      });
    });
  });
}

/** Runs the bundle as the page would load it from `/main.js`; resolves with the thrown stack. */
async function stackOf(): Promise<string> {
  const code = await readFile(path.join(tmp.path, 'dist', 'main.js'), 'utf8');
  try {
    vm.runInNewContext(code, { self: {} }, { filename: `${ORIGIN}/main.js` });
  } catch (error) {
    return (error as Error).stack ?? '';
  }
  throw new Error('the bundle did not throw');
}

function mapper(served: () => ServedScript[]) {
  const reads: string[] = [];
  const fetchText = async (url: string) => {
    reads.push(url);
    const file = new URL(url).pathname.slice(1);
    return readFile(path.join(tmp.path, 'dist', file), 'utf8').catch(() => undefined);
  };
  const map = new SourceMapper(tmp.path, fetchText, (url) => url.origin === ORIGIN, served);
  return { map, reads };
}

describe('webpack bundles', () => {
  it('maps an eval-source-map frame (webpack-internal:///) to src/… with its line', async () => {
    await build('eval-source-map');
    const stack = await stackOf();
    expect(stack).toContain('webpack-internal:///./src/label.js:');
    const { map } = mapper(() => [{ url: `${ORIGIN}/main.js`, serial: 1 }]);
    const frames = await map.map(stack);
    // webpack's module maps are line-wise here: the column is the statement's start.
    expect(frames[0]).toMatchObject({ file: 'src/label.js', line: 3 });
    expect(frames[0]?.code).toBe("return 'version ' + v + broken.name;");
    expect(frames.some((f) => f.file === 'src/index.js' && f.line === 2)).toBe(true);

    // The bundle's module string holds the map; another module URL finds none.
    const bundle = await readFile(path.join(tmp.path, 'dist', 'main.js'), 'utf8');
    const json = JSON.parse(evalModuleMap(bundle, 'webpack-internal:///./src/label.js') ?? '{}');
    expect(json.sources).toEqual([
      expect.stringMatching(/^webpack:\/\/wp-app\/\.\/src\/label\.js/),
    ]);
    expect(evalModuleMap(bundle, 'webpack-internal:///./src/nope.js')).toBeUndefined();
    expect(evalModuleMap(bundle, 'webpack-internal:///./src/label')).toBeUndefined();
    // A script naming the module over and over after it is not read past the bound.
    const noisy = `${bundle}\n${'"//# sourceURL=webpack-internal:///./src/label.js"\n'.repeat(EVAL_MARKERS_READ)}`;
    expect(evalModuleMap(noisy, 'webpack-internal:///./src/label.js')).toBeUndefined();
    const quieter = `${bundle}\n${'"//# sourceURL=webpack-internal:///./src/label.js"\n'.repeat(EVAL_MARKERS_READ - 1)}`;
    // (Each of those is passed over: no map of its own ends right before it.)
    expect(
      JSON.parse(evalModuleMap(quieter, 'webpack-internal:///./src/label.js')!).sources,
    ).toEqual(json.sources);
  });

  it('leaves an eval frame at its module URL when no served script holds the module', async () => {
    await build('eval-source-map');
    const stack = await stackOf();
    const { map } = mapper(() => []);
    const frames = await map.map(stack);
    // Named by its module URL: its line is the generated code's, not src/label.js's.
    expect(frames[0]?.file).toBe('webpack-internal:///./src/label.js');
    expect(frames[0]?.code).toBeUndefined();
  });

  it('maps a source-map bundle, and reads the map again once the bundle is served again', async () => {
    await build('source-map');
    const served = { url: `${ORIGIN}/main.js`, serial: 1 };
    const { map, reads } = mapper(() => [served]);
    const first = await map.map(await stackOf());
    expect(first[0]).toMatchObject({ file: 'src/label.js', line: 3 });
    expect(first[0]?.code).toContain('broken.name');

    // Rebuilt with the throw two lines lower, at the same URL.
    await writeFile(path.join(tmp.path, 'src', 'label.js'), LABEL(2));
    await build('source-map');
    // The same serial: the map read before is kept (and is now out of date).
    const before = reads.length;
    await map.map(await stackOf());
    expect(reads.length).toBe(before);
    served.serial = 2;
    const fresh = await map.map(await stackOf());
    expect(fresh[0]).toMatchObject({ file: 'src/label.js', line: 5 });
    expect(reads.length).toBeGreaterThan(before);
  });
});

describe('webpackSourcePath', () => {
  it('reads webpack:// and webpack-internal:/// sources as project paths', () => {
    const root = '/home/dev/app';
    expect(webpackSourcePath('webpack://wp-app/./src/x.js?b635', root)).toBe('src/x.js');
    expect(webpackSourcePath('webpack:///./src/x.js', root)).toBe('src/x.js');
    expect(webpackSourcePath('webpack-internal:///./src/x.js', root)).toBe('src/x.js');
    expect(
      webpackSourcePath(
        'webpack-internal:///./node_modules/babel-loader/lib/index.js!./src/App.jsx',
        root,
      ),
    ).toBe('src/App.jsx');
    expect(webpackSourcePath('webpack://app//home/dev/app/lib/y.js', root)).toBe('lib/y.js');
    expect(webpackSourcePath('webpack://app//elsewhere/z.js', root)).toBe('/elsewhere/z.js');
    expect(webpackSourcePath('webpack://app/../shared/w.js', root)).toBe('../shared/w.js');
    expect(webpackSourcePath('webpack://app/./src/a%20b.js', root)).toBe('src/a b.js');
    expect(webpackSourcePath('http://host/src/x.js', root)).toBeUndefined();
    expect(webpackSourcePath('/src/x.js', root)).toBeUndefined();
  });
});
