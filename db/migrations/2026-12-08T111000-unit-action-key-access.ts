import type { Kysely } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.

/**
 * Whether the answer kept with a unit's action key showed the unit the case
 * in full (`full`) or, as after its own return, only its part (`withdrawn`):
 * a retry is replayed only to a unit that may still read what the answer
 * shows. Keys kept before count as full, the stricter reading.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('unit_action_keys')
    .addColumn('answer_access', 'text', (c) => c.notNull().defaultTo('full'))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('unit_action_keys').dropColumn('answer_access').execute();
}
