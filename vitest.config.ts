import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts', 'handlers/**/*.test.ts', 'queues/**/*.test.ts', 'db/**/*.test.ts'],
    pool: 'forks',
    // The test files of a worker share its loaded modules instead of importing the whole service
    // again for each file (about a second and a half of CPU per file). Every file starts its own
    // services, databases and queue prefixes, and test/setup.ts stops them when the file ends.
    isolate: false,
    setupFiles: ['test/setup.ts'],
    // The sources compiled once for the child processes the tests start (see the file).
    globalSetup: ['test/compiled-sources.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Four files at a time on two cores: much of a file's time is spent waiting (retry backoffs, Telegram's
    // throttle, child processes starting), which the other files use; the whole suite took about 650 s with two
    // files at a time, 550–580 s with three (the CPU busy 1.4–1.5 cores of 2 on average).
    maxWorkers: 4,
  },
});
