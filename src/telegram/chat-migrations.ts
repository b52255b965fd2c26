import { GrammyError } from 'grammy';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { Logger } from '../logger.js';

/**
 * A bureau group that Telegram upgraded to a supergroup (a member turned on
 * a setting that needs one, or the group grew) has a new chat id; the old one
 * refuses every message with 400 and `migrate_to_chat_id`. The new id is kept
 * in telegram_chat_migrations — learnt from that refusal, or from the service
 * message Telegram sends the bot — and every new post and notice goes there,
 * while the district file still names the old id (a warning says to update it).
 * A message posted before stays in the old group, where the bot can still edit
 * and delete it: its id names another message in the new chat.
 */

/** The supergroup Telegram says a refused call's group became, if that is why it refused. */
export function migratedTo(err: unknown): string | null {
  if (!(err instanceof GrammyError) || err.error_code !== 400) return null;
  const to = err.parameters?.migrate_to_chat_id;
  return typeof to === 'number' && Number.isSafeInteger(to) ? String(to) : null;
}

/** The chat a group's messages go to now: its own id, or the supergroup it became (and so on). */
export async function currentGroupChat(db: Kysely<Database>, chatId: string): Promise<string> {
  let id = chatId;
  // A chain is at most one upgrade long in practice; the bound guards against a loop in the table.
  for (let i = 0; i < 5; i++) {
    const row = await db.selectFrom('telegram_chat_migrations').select('to_chat_id').where('from_chat_id', '=', id).executeTakeFirst();
    if (!row || row.to_chat_id === id) return id;
    id = row.to_chat_id;
  }
  return id;
}

/** Remembers that a group became a supergroup (idempotent). */
export async function recordChatMigration(db: Kysely<Database>, logger: Pick<Logger, 'warn'>, from: string, to: string, at: Date): Promise<void> {
  if (from === to) return;
  await db
    .insertInto('telegram_chat_migrations')
    .values({ from_chat_id: from, to_chat_id: to, migrated_at: at.toISOString() })
    .onConflict((oc) => oc.column('from_chat_id').doUpdateSet({ to_chat_id: to, migrated_at: at.toISOString() }))
    .execute();
  logger.warn({ from, to }, 'telegram: a bureau group was upgraded to a supergroup; its messages go to the new chat id (set it as telegramChatId in the district file)');
}

/**
 * Calls the Bot API for a group at the chat it is now; when Telegram answers
 * that the group became a supergroup, remembers it and calls again there.
 * Resolves with the result and the chat that took it.
 */
export async function inGroup<T>(
  deps: { db: Kysely<Database>; logger: Pick<Logger, 'warn'>; clock: { now(): Date } },
  chatId: string,
  call: (chatId: string) => Promise<T>,
): Promise<{ result: T; chatId: string }> {
  return followMigration(deps, await currentGroupChat(deps.db, chatId), call);
}

/** `inGroup` for a chat already resolved by `currentGroupChat`. */
export async function followMigration<T>(
  deps: { db: Kysely<Database>; logger: Pick<Logger, 'warn'>; clock: { now(): Date } },
  current: string,
  call: (chatId: string) => Promise<T>,
): Promise<{ result: T; chatId: string }> {
  try {
    return { result: await call(current), chatId: current };
  } catch (err) {
    const to = migratedTo(err);
    if (to === null) throw err;
    await recordChatMigration(deps.db, deps.logger, current, to, deps.clock.now());
    return { result: await call(to), chatId: to };
  }
}
