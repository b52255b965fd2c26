import { Migrator, type Kysely } from 'kysely';
import { migrationProvider } from './migrations/index.js';
import type { Database } from './schema.js';

/** The database cannot be reached or used at all (no migration ran): a setup problem, said in one line. */
export class DatabaseUnavailableError extends Error {}

/**
 * Brings the schema up to date; throws with the failing migration's name, or
 * a `DatabaseUnavailableError` naming `where` when none could run.
 */
export async function migrateToLatest(db: Kysely<Database>, where = 'the database'): Promise<string[]> {
  const migrator = new Migrator({ db, provider: migrationProvider });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error) {
    const reason = error instanceof Error ? error.message : String(error);
    if (!failed) throw new DatabaseUnavailableError(`cannot use ${where}: ${reason}${hintFor(error)}`);
    throw new Error(`migration ${failed.migrationName} failed: ${reason}`);
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/** What to do about the usual setup mistakes. */
function hintFor(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  switch (code) {
    case '3D000':
      return ' (create the database first, e.g. `createdb NAME`; the service creates its tables)';
    case '28P01':
    case '28000':
      return ' (check the user and password in DATABASE_URL)';
    case 'ECONNREFUSED':
    case 'ENOTFOUND':
      return ' (is the database server running at that address?)';
    default:
      // pg's words when the connect timeout passed.
      return /connection timeout|timeout exceeded when trying to connect/i.test(error instanceof Error ? error.message : '')
        ? ' (no answer as PostgreSQL from that address: is DATABASE_URL right, and the server up?)'
        : '';
  }
}
