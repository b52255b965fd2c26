import type { Kysely } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.

/**
 * The attempts begun of a notice, counted before each run sends anything, as
 * a bureau delivery's are: a notice whose job was lost or failed with its
 * worker killed (and re-created by the reconciler with a fresh set of the
 * queue's attempts) goes on from the count it had. Notices written before
 * start from none.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('notifications').addColumn('attempts', 'integer', (col) => col.notNull().defaultTo(0)).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('notifications').dropColumn('attempts').execute();
}
