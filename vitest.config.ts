import { defineConfig } from 'vitest/config';

/**
 * Test files named `*.serial.test.ts` hold a resource of the whole machine (root's crontab, which
 * enrollment writes; timing-sensitive cluster scenarios): they run one at a time, after the rest.
 */
const SERIAL = 'test/**/*.serial.test.ts';

export default defineConfig({
  test: {
    globalSetup: ['test/helpers/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    reporters: ['default'],
    projects: [
      {
        extends: true,
        test: {
          name: 'parallel',
          include: ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts', 'test/cluster/**/*.test.ts', 'test/e2e/**/*.test.ts', 'test/campaign/**/*.test.ts'],
          exclude: [SERIAL],
          // Integration tests start real agents and programs: keep them from starving each other on 2 cores.
          maxWorkers: 2,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: { name: 'serial', include: [SERIAL], maxWorkers: 1, sequence: { groupOrder: 1 } },
      },
    ],
  },
});
