import type { Kysely } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.

/**
 * The bot's drafts and link tokens are deleted once past their time, a batch
 * at a time: an index on the age each is deleted by lets a batch find its
 * rows without reading the whole table (the handled updates and answered
 * edits have one already; the chats' leases are few, each deleted as its
 * update is handled, and written on every update: they get none).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('telegram_sessions_updated_at').on('telegram_sessions').column('updated_at').execute();
  await db.schema.createIndex('telegram_link_tokens_expires_at').on('telegram_link_tokens').column('expires_at').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('telegram_link_tokens_expires_at').execute();
  await db.schema.dropIndex('telegram_sessions_updated_at').execute();
}
