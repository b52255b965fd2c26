import type { Kysely } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.

/**
 * The chat's first message that went into a Telegram report. With
 * `last_message_id` it bounds the messages the report was made of: a message
 * before it (a report dropped with /cancel, its summary's buttons) is no part
 * of it. Null for the reports submitted before it was kept.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('telegram_reporters').addColumn('first_message_id', 'bigint').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('telegram_reporters').dropColumn('first_message_id').execute();
}
