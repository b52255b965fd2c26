import type { Kysely } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.

/**
 * The Telegram bot: a resident's half-finished report per private chat (so
 * it survives a restart), the update ids already handled (Telegram
 * redelivers), and the chat each Telegram case came from (to push its status
 * changes and answer /status).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('telegram_sessions')
    .addColumn('chat_id', 'text', (c) => c.primaryKey())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('telegram_updates')
    .addColumn('update_id', 'bigint', (c) => c.primaryKey())
    .addColumn('received_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('telegram_updates_received').on('telegram_updates').column('received_at').execute();

  await db.schema
    .createTable('telegram_reporters')
    .addColumn('case_id', 'text', (c) => c.primaryKey().references('cases.id'))
    .addColumn('chat_id', 'text', (c) => c.notNull())
    .addColumn('language', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('telegram_reporters_chat').on('telegram_reporters').column('chat_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('telegram_reporters').execute();
  await db.schema.dropTable('telegram_updates').execute();
  await db.schema.dropTable('telegram_sessions').execute();
}
