import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Integration tests mostly wait on Kafka, Redis and ClickHouse: four files at a time keep the
    // two cores busy without starving them. Each test has its own topics, keys and tables.
    maxWorkers: 4,
    projects: [
      {
        test: {
          name: 'unit',
          include: [
            '{schemas,infra,state,ingest,processors,query-api,security,dev-tools,outbound,identity-sources,delink}/**/*.test.ts',
          ],
          exclude: ['**/*.int.test.ts', '**/node_modules/**'],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['**/*.int.test.ts'],
          globalSetup: ['test/support/global-setup.ts'],
          exclude: ['**/node_modules/**'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
