import type { Kysely } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.

/**
 * The Telegram bot, second part: assignments posted to bureau group chats
 * (with the message ids, to edit them once someone signs for or returns the
 * case), staff accounts linked to Telegram users through one-time tokens,
 * photos of a Telegram report waiting to be downloaded by a job, and a
 * per-chat lease so that several API processes handle one chat's updates
 * one after another.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('telegram_bureau_posts')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('case_id', 'text', (c) => c.notNull().references('cases.id'))
    .addColumn('unit_code', 'text', (c) => c.notNull())
    .addColumn('round', 'integer', (c) => c.notNull())
    .addColumn('chat_id', 'text', (c) => c.notNull())
    .addColumn('message_id', 'bigint')
    .addColumn('photo_message_ids', 'text')
    .addColumn('text', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('acted_by', 'text')
    .addColumn('acted_at', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('telegram_bureau_posts_assignment')
    .on('telegram_bureau_posts')
    .columns(['case_id', 'unit_code', 'round'])
    .unique()
    .execute();

  await db.schema
    .createTable('telegram_links')
    .addColumn('telegram_user_id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id'))
    .addColumn('linked_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('telegram_links_user').on('telegram_links').column('user_id').unique().execute();

  await db.schema
    .createTable('telegram_link_tokens')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id'))
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addColumn('used_at', 'text')
    .addColumn('used_by', 'text')
    .execute();

  await db.schema
    .createTable('telegram_photo_fetches')
    .addColumn('case_id', 'text', (c) => c.primaryKey().references('cases.id'))
    .addColumn('file_ids', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('done_at', 'text')
    .execute();

  await db.schema
    .createTable('telegram_chat_locks')
    .addColumn('chat_id', 'text', (c) => c.primaryKey())
    .addColumn('holder', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('telegram_chat_locks').execute();
  await db.schema.dropTable('telegram_photo_fetches').execute();
  await db.schema.dropTable('telegram_link_tokens').execute();
  await db.schema.dropTable('telegram_links').execute();
  await db.schema.dropTable('telegram_bureau_posts').execute();
}
