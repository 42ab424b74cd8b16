import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // test files share each worker's module cache: a file imports the gateway once per worker, not
    // once per file (most of the suite's time was module loading). A file must leave no global state
    // behind and must not mock modules (wrap what it observes instead: group-commit.test.ts)
    isolate: false,
    fileParallelism: true,
    maxWorkers: 2
  }
})
