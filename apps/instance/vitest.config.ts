import { defineConfig, mergeConfig } from 'vitest/config';
import { sharedConfig } from '../../vitest.shared.ts';

/**
 * The suites against real third-party dev servers (Next.js, webpack-dev-server, SvelteKit) are
 * heavy and test the dev servers' behaviour through Beacon, not Node's: they run once, in the
 * main run, and not again when `.ci/run` repeats the suite under other Node versions
 * (`BEACON_TEST_NODE` set).
 */
const DEV_SERVER_SUITES = [
  'src/browser/next.test.ts',
  'src/browser/webpack.test.ts',
  'src/browser/sveltekit.test.ts',
];

export default mergeConfig(
  sharedConfig,
  defineConfig({
    test: {
      exclude: [
        '**/node_modules/**',
        '**/dist/**',
        ...(process.env.BEACON_TEST_NODE ? DEV_SERVER_SUITES : []),
      ],
    },
  }),
);
