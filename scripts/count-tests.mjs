#!/usr/bin/env node
// Sums the JSON reports vitest wrote in every workspace package and prints the plain
// closing line CI reads: `N passed, N failed`. Exits non-zero when a report is missing
// or any test failed, so a crashed test run can never pass as "0 failed".
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
let passed = 0;
let failed = 0;
let skipped = 0;
const missing = [];
for (const group of ['packages', 'apps', 'tests']) {
  const base = path.join(root, group);
  if (!existsSync(base)) continue;
  for (const name of readdirSync(base)) {
    const dir = path.join(base, name);
    const manifest = path.join(dir, 'package.json');
    if (!existsSync(manifest)) continue;
    if (!JSON.parse(readFileSync(manifest, 'utf8')).scripts?.test) continue;
    const reports = readdirSync(dir).filter((f) => /^\.test-report.*\.json$/.test(f));
    if (reports.length === 0) {
      missing.push(path.relative(root, dir));
      continue;
    }
    for (const file of reports) {
      const report = JSON.parse(readFileSync(path.join(dir, file), 'utf8'));
      passed += report.numPassedTests;
      failed += report.numFailedTests;
      skipped += report.numPendingTests + (report.numTodoTests ?? 0);
      // A suite that failed to load, or a run with no tests, fails without failing a test.
      if (
        report.numFailedTests === 0 &&
        (report.numFailedTestSuites > 0 || report.success === false)
      ) {
        failed += Math.max(1, report.numFailedTestSuites);
      }
    }
  }
}
for (const dir of missing) console.error(`no test report from ${dir}`);
failed += missing.length;
console.log(`${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 ? 1 : 0);
