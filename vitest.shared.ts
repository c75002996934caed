import { defineConfig } from 'vitest/config';

/**
 * Vitest settings every workspace package shares: the default console reporter plus a JSON
 * report that `.ci/run` sums into its closing `N passed, N failed` line.
 */
export const sharedConfig = defineConfig({
  test: {
    reporters: [
      'default',
      ['json', { outputFile: `.test-report${process.env.BEACON_REPORT_SUFFIX ?? ''}.json` }],
    ],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
