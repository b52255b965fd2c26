import type { Kysely } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.

/**
 * The sign-in attempts older than a day and the sessions that ended a day ago
 * are deleted a batch at a time: an index on the age each batch selects by
 * (the attempt's time; the session's expiry and its revocation) lets a batch
 * find its rows without reading the whole table. The attempts' indexes by
 * username and by address start with those, not with the time.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('sign_in_attempts_at').on('sign_in_attempts').column('at').execute();
  await db.schema.createIndex('web_sessions_expires_at').on('web_sessions').column('expires_at').execute();
  await db.schema.createIndex('web_sessions_revoked_at').on('web_sessions').column('revoked_at').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('web_sessions_revoked_at').execute();
  await db.schema.dropIndex('web_sessions_expires_at').execute();
  await db.schema.dropIndex('sign_in_attempts_at').execute();
}
