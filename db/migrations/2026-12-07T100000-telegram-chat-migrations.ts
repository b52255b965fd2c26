import type { Kysely } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.

/**
 * Bureau groups Telegram upgraded to supergroups: the group's chat id (as the
 * district file gives it) and the supergroup's, which Telegram names when it
 * refuses a message to the old one (400 with `migrate_to_chat_id`) or tells
 * the bot in a service message. Posts and notices go to the supergroup.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('telegram_chat_migrations')
    .addColumn('from_chat_id', 'text', (c) => c.primaryKey())
    .addColumn('to_chat_id', 'text', (c) => c.notNull())
    .addColumn('migrated_at', 'text', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('telegram_chat_migrations').execute();
}
