import type { Kysely } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.

/**
 * When the attempt of a bureau delivery now under way began: set before its
 * request goes out, cleared when the attempt's outcome is recorded. A worker
 * killed in between leaves it set, and the run that takes the job over counts
 * that attempt as a failed one. Deliveries written before had no attempt
 * under way that this could tell.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('deliveries').addColumn('attempt_started_at', 'text').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('deliveries').dropColumn('attempt_started_at').execute();
}
