import { afterAll } from 'vitest';
import { runCleanups } from './harness.js';

// Each test file's services, servers, directories and queue keys go when its tests end. A setup
// file runs for every test file, also when test files share a worker's modules.
afterAll(runCleanups);
