import type { Kysely } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.

/**
 * When a unit was given a case again within the round it held it in (a
 * re-route after it returned the case or was released, or that changed its
 * role), while the new post of its assignment is still to be made: set with
 * the `again` post job, cleared when that job makes the post. The row keeps
 * the earlier post's message until then, so without it a notice to the unit
 * made meanwhile could not tell that its post is on the way. Rows written
 * before have no such post owed that this could tell.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('telegram_bureau_posts').addColumn('renewed_at', 'text').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('telegram_bureau_posts').dropColumn('renewed_at').execute();
}
