import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // One file at a time everywhere: e2e files share one fleet bridge, and timing-sensitive
    // transport and fault tests run beside them on CI's 2 cores.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 600_000,
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['test/{unit,modules,transport,facts}/**/*.test.ts'] },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
        },
      },
    ],
  },
});
