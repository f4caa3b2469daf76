import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The vcan suite runs inside a VM (npm run test:vcan); the cross-build smoke test has its own script.
    exclude: ['test/vcan/**', 'node_modules/**', 'dist/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // `roadlink decode` and the agent cache parsed DBC files: not in the home of whoever runs the tests.
    env: { ROADLINK_CACHE_DIR: join(tmpdir(), 'roadlink-test-dbc-cache') },
  },
});
