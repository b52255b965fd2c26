import type { Kysely } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.

/**
 * Staff sign-in on the web pages: a username for each account that may sign
 * in (its password hash goes in the existing users.password_hash), server-side
 * sessions stored only as the SHA-256 of the session id, and the sign-in
 * attempts the lock-out counts (in the database, so it holds across processes).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('users').addColumn('username', 'text').execute();
  // Several accounts without a username are fine: NULLs never collide.
  await db.schema.createIndex('users_username').unique().on('users').column('username').execute();

  await db.schema
    .createTable('web_sessions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('last_seen_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addColumn('revoked_at', 'text')
    .execute();
  await db.schema.createIndex('web_sessions_user').on('web_sessions').column('user_id').execute();

  await db.schema
    .createTable('sign_in_attempts')
    .addColumn('id', 'text', (c) => c.primaryKey())
    // As typed (lower-cased), whether or not such an account exists.
    .addColumn('username', 'text', (c) => c.notNull())
    .addColumn('ip', 'text', (c) => c.notNull())
    .addColumn('ok', 'integer', (c) => c.notNull())
    .addColumn('at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('sign_in_attempts_username').on('sign_in_attempts').columns(['username', 'at']).execute();
  await db.schema.createIndex('sign_in_attempts_ip').on('sign_in_attempts').columns(['ip', 'at']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('sign_in_attempts').execute();
  await db.schema.dropTable('web_sessions').execute();
  await db.schema.dropIndex('users_username').execute();
  await db.schema.alterTable('users').dropColumn('username').execute();
}
