import { sql, type Kysely } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.

/**
 * A case reference (工单号, the last group of the case's UUID id) typed on the
 * desk is looked up through an index on that group (`substr(id, 25)`), on
 * SQLite and PostgreSQL alike, instead of a `LIKE '%-…'` scan of every case.
 * The lookup must use the same expression (cases.repository.ts).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('cases_reference').on('cases').expression(sql`substr(id, 25)`).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('cases_reference').execute();
}
