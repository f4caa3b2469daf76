import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// The vcan suite, run inside the VM by test/vcan/run.sh. Node is 5-20x slower under QEMU's TCG,
// so timeouts are generous; files run one after another because they share vcan0/vcan1.
export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: {
    include: ['test/vcan/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
