import { mergeConfig } from 'vitest/config';
import { sharedConfig } from '../../vitest.shared.ts';

// env-paths is loaded through Vite (not natively) so the oracle test can give it another
// platform's `node:os`, `node:path` and `node:process`.
export default mergeConfig(sharedConfig, {
  test: { server: { deps: { inline: ['env-paths', 'is-safe-filename'] } } },
});
