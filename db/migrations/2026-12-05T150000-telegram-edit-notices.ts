import type { Kysely } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.

/**
 * The messages of a private chat whose edit the bot already answered (the
 * report stands as sent, a correction goes in a new message): editing the
 * same message again is not answered again. Forgotten after two days, when
 * Telegram no longer lets the message be edited.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('telegram_edit_notices')
    .addColumn('chat_id', 'text', (c) => c.notNull())
    .addColumn('message_id', 'bigint', (c) => c.notNull())
    .addColumn('noticed_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('telegram_edit_notices_pk', ['chat_id', 'message_id'])
    .execute();
  await db.schema.createIndex('telegram_edit_notices_noticed').on('telegram_edit_notices').column('noticed_at').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('telegram_edit_notices').execute();
}
