import type { Kysely } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.

/**
 * When the chat a rating was made in (Telegram) was told what the rating
 * did (thanks, or handed back to the bureau) in the answer to the press. The
 * 办结 / 重办 notice of that rating waits for it, and is pushed to the chat
 * instead when the press was never answered. The ratings made before were
 * answered as they were made.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('ratings').addColumn('chat_told_at', 'text').execute();
  await db.updateTable('ratings').set((eb) => ({ chat_told_at: eb.ref('created_at') })).where('channel', '=', 'telegram').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('ratings').dropColumn('chat_told_at').execute();
}
