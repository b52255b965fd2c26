import type { Kysely } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.

/**
 * When the bot gave the resident the tracking code of a Telegram report: the
 * notices of the case wait for it, so the first thing the chat hears of a
 * case is its code. The reports submitted before were answered long ago.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('telegram_reporters').addColumn('code_sent_at', 'text').execute();
  await db.updateTable('telegram_reporters').set((eb) => ({ code_sent_at: eb.ref('created_at') })).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('telegram_reporters').dropColumn('code_sent_at').execute();
}
