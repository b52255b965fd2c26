import type { Migration, MigrationProvider } from 'kysely';
import * as initial from './2026-11-28T000000-initial.js';
import * as classifierCorrections from './2026-11-28T120000-classifier-corrections.js';

/**
 * Every migration, by its frozen timestamped name. Listed statically (not
 * read from the file system) so the same set runs on Node and on Workers.
 */
export const migrations: Record<string, Migration> = {
  '2026-11-28T000000-initial': initial,
  '2026-11-28T120000-classifier-corrections': classifierCorrections,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => migrations,
};
