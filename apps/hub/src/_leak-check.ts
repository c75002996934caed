// Vitest global setup of the hub's tests: after the whole suite, no process it started may be
// left (the built CLIs of this checkout and the test fixtures, found by their paths in the
// command line). A leftover is killed and fails the run.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { processesWith } from '@mcp-beacon/test-utils';

const MARKERS = [
  fileURLToPath(new URL('../dist/cli.js', import.meta.url)),
  fileURLToPath(new URL('../../instance/dist/cli.js', import.meta.url)),
  fileURLToPath(new URL('./_fixtures/', import.meta.url)),
];

/** The JSON report `.ci/run` counts (see vitest.shared.ts). */
const REPORT = fileURLToPath(
  new URL(`../.test-report${process.env.BEACON_REPORT_SUFFIX ?? ''}.json`, import.meta.url),
);

const leftovers = () => [...new Set(MARKERS.flatMap((m) => processesWith(m)))];

export default function setup(): () => Promise<void> {
  return async () => {
    // Processes told to stop at the end of the last test get a moment to exit.
    const deadline = Date.now() + 5_000;
    let left = leftovers();
    while (left.length > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      left = leftovers();
    }
    if (left.length === 0) return;
    for (const pid of left) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Gone meanwhile.
      }
    }
    const message = `the hub tests left ${left.length} processes running (pids ${left.join(', ')})`;
    process.stderr.write(`${message}\n`);
    // The JSON report is written before this runs: the leak is counted there as a failed test,
    // and the run ends with a failure (vitest keeps its own exit status after an error here).
    try {
      const report = JSON.parse(readFileSync(REPORT, 'utf8'));
      report.numFailedTests += 1;
      report.numTotalTests += 1;
      report.success = false;
      writeFileSync(REPORT, JSON.stringify(report));
    } catch {
      // No report to amend: the exit status still says it.
    }
    process.exit(1);
  };
}
