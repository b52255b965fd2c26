import type { Kysely } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.

/**
 * The units' action keys are deleted once older than their retention, a
 * batch at a time by the reconciler and the cron sweep: an index on their
 * age lets each batch find its rows without reading the whole table.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('unit_action_keys_created_at').on('unit_action_keys').column('created_at').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('unit_action_keys_created_at').execute();
}
