import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type Diagnostic, findDiagnostics } from './diagnostics.js';
import { createTimeBudget } from './grep.js';
import { LogRing } from './ring.js';

/** A captured output, fed through a ring exactly as a run's output is (ANSI removed). */
function fixture(name: string) {
  const ring = new LogRing();
  ring.write(
    'stdout',
    readFileSync(new URL(`../fixtures/output/${name}`, import.meta.url), 'utf8'),
  );
  ring.flush();
  return ring.read();
}

const lines = (...texts: string[]) => texts.map((text, i) => ({ seq: i + 1, text }));

type Row = [
  Diagnostic['kind'],
  string,
  string | null,
  number | null,
  number | null,
  number,
  number,
];
const brief = (d: Diagnostic): Row => [
  d.kind,
  d.message,
  d.file,
  d.line,
  d.column,
  d.fromSeq,
  d.toSeq,
];

// Real outputs of each tool, captured into fixtures/output/ (see fixtures/README.md).
const CASES: [string, Row[]][] = [
  [
    'typescript.txt',
    [
      [
        'typescript',
        "TS2322: Type 'string' is not assignable to type 'number'.",
        'src/app.ts',
        1,
        7,
        1,
        1,
      ],
      ['typescript', 'TS2554: Expected 0 arguments, but got 1.', 'src/app.ts', 3, 27, 2, 2],
    ],
  ],
  [
    'typescript-pretty.txt',
    [
      [
        'typescript',
        "TS2322: Type 'string' is not assignable to type 'number'.",
        'src/app.ts',
        1,
        7,
        1,
        4,
      ],
      ['typescript', 'TS2554: Expected 0 arguments, but got 1.', 'src/app.ts', 3, 27, 6, 9],
    ],
  ],
  [
    'eslint.txt',
    [
      [
        'eslint',
        "'unused' is assigned a value but never used (no-unused-vars)",
        '/tmp/fixcap/lib/util.js',
        1,
        7,
        3,
        3,
      ],
      [
        'eslint',
        "'undefinedThing' is not defined (no-undef)",
        '/tmp/fixcap/lib/util.js',
        3,
        25,
        4,
        4,
      ],
      [
        'eslint',
        "Unexpected 'debugger' statement (no-debugger)",
        '/tmp/fixcap/lib/util.js',
        4,
        3,
        5,
        5,
      ],
    ],
  ],
  [
    'node.txt',
    [
      [
        'node',
        "TypeError: Cannot read properties of undefined (reading 'port')",
        '/tmp/fixcap/crash.cjs',
        2,
        24,
        1,
        16,
      ],
    ],
  ],
  [
    'node-enoent.txt',
    [
      [
        'node',
        "Error: ENOENT: no such file or directory, open '/nonexistent/config.json'",
        '/tmp/fixcap/throw.mjs',
        2,
        1,
        1,
        18,
      ],
    ],
  ],
  [
    'npm11-e404.txt',
    [
      [
        'npm',
        "code E404 | 404 Not Found - GET https://registry.npmjs.org/this-package-does-not-exist-beacon-xyz | 404  The requested resource 'this-package-does-not-exist-beacon-xyz@*' could not be found or you do not have permission to access it.",
        null,
        null,
        null,
        1,
        8,
      ],
    ],
  ],
  [
    'npm8-e404.txt',
    [
      [
        'npm',
        "code E404 | 404 Not Found - GET https://registry.npmjs.org/this-package-does-not-exist-beacon-xyz | 404  'this-package-does-not-exist-beacon-xyz@*' is not in this registry.",
        null,
        null,
        null,
        1,
        10,
      ],
    ],
  ],
  [
    'vite-build.txt',
    [
      [
        'vite',
        '[builtin:vite-transform] Expected `,` or `}` but found `.`',
        'web/main.ts',
        3,
        8,
        5,
        27,
      ],
    ],
  ],
  [
    'vite-dev.txt',
    [
      [
        'vite',
        'Transform failed with 1 error: [PARSE_ERROR] Expected `,` or `}` but found `.`',
        'web/main.ts',
        2,
        8,
        28,
        46,
      ],
    ],
  ],
  [
    'webpack.txt',
    [['webpack', 'Module parse failed: Unexpected token (2:10)', './src/index.js', 2, 10, 4, 12]],
  ],
  [
    'webpack-resolve.txt',
    [
      [
        'webpack',
        "Module not found: Error: Can't resolve './missing-helper' in '/tmp/fixcap/wp/src'",
        './src/index.js',
        1,
        0,
        5,
        13,
      ],
    ],
  ],
  [
    // A server-side load, a component rendered on the server, an endpoint, a load calling a helper.
    'sveltekit-dev.txt',
    [
      [
        'sveltekit',
        "TypeError: Cannot read properties of undefined (reading 'name') (500 GET /ssr)",
        'src/routes/ssr/+page.server.js',
        3,
        25,
        6,
        8,
      ],
      [
        'sveltekit',
        "TypeError: Cannot read properties of undefined (reading 'name') (500 GET /comp)",
        '/tmp/sveltekit-app/src/routes/comp/+page.svelte',
        3,
        23,
        10,
        16,
      ],
      [
        'sveltekit',
        'Error: api exploded (500 GET /api)',
        'src/routes/api/+server.js',
        2,
        9,
        18,
        20,
      ],
      [
        'sveltekit',
        'RangeError: deep failure (500 GET /nested)',
        'src/routes/nested/helper.js',
        2,
        9,
        22,
        25,
      ],
    ],
  ],
  [
    'jest.txt',
    [
      [
        'test',
        './sum.test.cjs > sum › adds two numbers: expect(received).toBe(expected) // Object.is equality',
        'sum.test.cjs',
        4,
        23,
        6,
        22,
      ],
    ],
  ],
  [
    'vitest.txt',
    [
      [
        'test',
        'sum.test.ts > sum > adds two numbers: AssertionError: expected -1 to be 3 // Object.is equality',
        'sum.test.ts',
        5,
        23,
        9,
        25,
      ],
    ],
  ],
  // A server component's error under `next dev` (Turbopack) and `next dev --webpack`.
  [
    'next-dev.txt',
    [['next', 'Error: server boom on the server', 'app/server/page.jsx', 3, 9, 10, 19]],
  ],
  [
    'next-dev-webpack.txt',
    [['next', 'Error: server boom on the server', 'app/server/page.jsx', 3, 9, 10, 19]],
  ],
  // Output without errors yields none.
  ['http-server.txt', []],
  ['vite-banner-color.txt', []],
];

describe('findDiagnostics', () => {
  it.each(CASES)('%s', async (name, expected) => {
    expect((await findDiagnostics(fixture(name))).map(brief)).toEqual(expected);
  });

  it('keeps the lines of an error, at most 20 of them', async () => {
    const [node] = await findDiagnostics(fixture('node.txt'));
    expect(node?.text[0]).toBe('/tmp/fixcap/crash.cjs:2');
    expect(node?.text).toContain('    at load (/tmp/fixcap/crash.cjs:2:24)');
    const long = await findDiagnostics(
      lines(
        'Error: deep',
        ...Array.from({ length: 50 }, (_, i) => `    at f${i} (/app/x.js:${i + 1}:1)`),
      ),
    );
    expect(long).toHaveLength(1);
    expect(long[0]?.text).toHaveLength(20);
    expect([long[0]?.fromSeq, long[0]?.toSeq]).toEqual([1, 41]);
  });

  it('reports errors between ordinary lines, and not warnings or the echoed command', async () => {
    const found = await findDiagnostics(
      lines(
        '> node -e "console.log(\'src/a.ts(1,1): error TS1005: x\')"',
        'compiling...',
        "error TS5083: Cannot read file '/app/tsconfig.base.json'.",
        '/app/src/a.js',
        '  2:1  warning  Unexpected console statement  no-console',
        '',
        'server listening',
      ),
    );
    expect(found.map(brief)).toEqual([
      ['typescript', "TS5083: Cannot read file '/app/tsconfig.base.json'.", null, null, null, 3, 3],
    ]);
  });

  it('stays linear on output built to make the stack, ESLint and Jest patterns backtrack', async () => {
    // 20 runs of: Error: x, then 40 lines of "    at " + " (a:1:1" x 580 + "x" (4 KiB each),
    // scanned as one; the stack pattern took quadratic time on such lines.
    const evil = (repeat: number) => `    at ${' (a:1:1'.repeat(repeat)}x`;
    const runs = Array.from({ length: 20 }, () => [
      'Error: x',
      ...Array.from({ length: 40 }, () => evil(580)),
    ]);
    const found = await findDiagnostics(
      lines(...runs.flat()),
      createTimeBudget('test', { budgetMs: 3_000 }),
    );
    expect(found).toHaveLength(20);
    // Ten times longer lines cost ten times more, not a hundred: 20 of them (backtracking took
    // over 5 s here) stay far within a 3 s budget.
    const longer = lines('Error: y', ...Array.from({ length: 20 }, () => evil(5_800)));
    expect(
      await findDiagnostics(longer, createTimeBudget('test', { budgetMs: 3_000 })),
    ).toHaveLength(1);
    const eslintEvil = lines('/app/a.js', `  1:1  error  ${'x  '.repeat(13_000)}`);
    expect(
      await findDiagnostics(eslintEvil, createTimeBudget('test', { budgetMs: 3_000 })),
    ).toHaveLength(1);
  });

  it('yields while it scans, and gives up past its budget with BUDGET_EXCEEDED', async () => {
    const many = lines(...Array.from({ length: 5_000 }, (_, i) => `line ${i}`));
    let clock = 0;
    const now = () => (clock += 1);
    const order: string[] = [];
    setImmediate(() => order.push('other work'));
    expect(
      await findDiagnostics(many, createTimeBudget('test', { budgetMs: 1e9, sliceMs: 10, now })),
    ).toEqual([]);
    order.push('scan done');
    expect(order).toEqual(['other work', 'scan done']);
    clock = 0;
    await expect(
      findDiagnostics(many, createTimeBudget('test', { budgetMs: 100, sliceMs: 10, now })),
    ).rejects.toMatchObject({ code: 'BUDGET_EXCEEDED' });
  });

  it('spans one budget over several scans: a call of many short scans still yields', async () => {
    let clock = 0;
    const budget = createTimeBudget('test', {
      budgetMs: 1e9,
      sliceMs: 50,
      now: () => (clock += 1),
    });
    const order: string[] = [];
    setImmediate(() => order.push('other work'));
    // Each scan alone is shorter than a slice; together they are not.
    for (let r = 0; r < 20; r++)
      await findDiagnostics(lines(...Array.from({ length: 64 }, () => 'x')), budget);
    order.push('scans done');
    expect(order).toEqual(['other work', 'scans done']);
  });
});
