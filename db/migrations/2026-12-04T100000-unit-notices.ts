import type { Kysely } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.

/**
 * Notices to a bureau or town office (催办, 督办, 重办) go out through each of
 * the unit's channels (its webhook, its Telegram group): `channels` keeps,
 * per channel, whether the notice was delivered or failed for good, so a
 * retried job sends only to the channels still owed.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('notifications').addColumn('channels', 'text').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('notifications').dropColumn('channels').execute();
}
