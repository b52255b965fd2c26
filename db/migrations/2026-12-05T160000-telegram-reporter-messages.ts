import type { Kysely } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.

/**
 * The chat's last message before a Telegram report was submitted (the
 * summary the resident confirmed, or a part of the report sent after it), so
 * an edited message is matched to its report by message id — a private chat
 * numbers its messages in order — rather than by its send time to the
 * second. Null for the reports submitted before it was kept.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('telegram_reporters').addColumn('last_message_id', 'bigint').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('telegram_reporters').dropColumn('last_message_id').execute();
}
