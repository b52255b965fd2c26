import { setTimeout as sleep } from 'node:timers/promises';
import type { Kysely } from 'kysely';
import { deleteInBatches, type PruneOptions } from '../../db/repositories/batched-delete.js';
import { isUniqueViolation } from '../../db/repositories/db-types.js';
import type { Database } from '../../db/schema.js';
import type { Clock } from '../clock.js';
import { newId } from '../domain/ids.js';

/**
 * A lease on one chat in the database: the updates of a chat are handled one
 * after another even when several API processes receive them at once (an
 * album arrives as several updates in the same instant, and each must see
 * the photos of the others). A process that dies holding a lease blocks the
 * chat only until the lease expires.
 */

export interface ChatLockOptions {
  /** How long a lease lasts; longer than any one update takes (the webhook gives up after 10 s). */
  leaseMs: number;
  /** How long to wait for a busy chat before failing the update (Telegram then redelivers it). */
  waitMs: number;
  pollMs: number;
}

// Waiting gives up before grammY's 10 s webhook timeout, so a busy chat fails cleanly and Telegram redelivers.
export const CHAT_LOCK: ChatLockOptions = { leaseMs: 30_000, waitMs: 8_000, pollMs: 20 };

export class ChatBusy extends Error {
  constructor(chatId: string) {
    super(`telegram chat ${chatId} is busy: another update of it is still being handled`);
    this.name = 'ChatBusy';
  }
}

/** Takes the chat's lease, waiting while another holder has it; returns the release. */
export async function lockChat(
  db: Kysely<Database>,
  clock: Clock,
  chatId: string,
  opts: ChatLockOptions = CHAT_LOCK,
): Promise<() => Promise<void>> {
  const holder = newId();
  const started = Date.now();
  for (;;) {
    const now = clock.now();
    const expires_at = new Date(now.getTime() + opts.leaseMs).toISOString();
    let got = false;
    try {
      await db.insertInto('telegram_chat_locks').values({ chat_id: chatId, holder, expires_at }).execute();
      got = true;
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      // Someone holds it: take it over only when the lease ran out.
      const taken = await db
        .updateTable('telegram_chat_locks')
        .set({ holder, expires_at })
        .where('chat_id', '=', chatId)
        .where('expires_at', '<', now.toISOString())
        .executeTakeFirst();
      got = Number(taken.numUpdatedRows) === 1;
    }
    if (got) {
      return async () => {
        await db.deleteFrom('telegram_chat_locks').where('chat_id', '=', chatId).where('holder', '=', holder).execute();
      };
    }
    if (Date.now() - started > opts.waitMs) throw new ChatBusy(chatId);
    await sleep(opts.pollMs);
  }
}

/** grammY middleware: the rest of the chain runs holding the chat's lease. */
export function oneAtATimePerChat(db: Kysely<Database>, clock: Clock, opts: ChatLockOptions = CHAT_LOCK) {
  return async (ctx: { chat?: { id: number } | undefined }, next: () => Promise<void>) => {
    if (!ctx.chat) return next();
    const release = await lockChat(db, clock, String(ctx.chat.id), opts);
    try {
      await next();
    } finally {
      await release().catch(() => {});
    }
  };
}

/** Telegram redelivers an update for about a day; ids older than this are forgotten. */
export const KEEP_UPDATES_MS = 48 * 3600_000;
/**
 * A report left unfinished this long is dropped, with the name, phone and
 * location it may hold: the resident starts afresh, and nothing personal is
 * kept for a report never made.
 */
export const KEEP_DRAFTS_MS = 7 * 24 * 3600_000;
/** Telegram lets a message be edited for two days after it was sent: an answered edit is remembered that long. */
export const KEEP_EDIT_NOTICES_MS = 48 * 3600_000;

/**
 * Deletes what the bot no longer needs: handled update ids older than 48 h,
 * expired chat leases, link tokens expired a day ago, drafts untouched for
 * 7 days, answered edits older than 48 h. Run by the periodic sweeps (the
 * Node reconciler's pass, the Workers cron), never on an update's path: the
 * webhook is answered within 10 s, and an update's handling waits on nothing
 * but its own work. Each table a batch at a time (deleteInBatches, through an
 * index on each table's age but the chats' leases, which are few); what a
 * sweep leaves behind goes at the next. How many, and whether it found them all.
 */
export async function pruneTelegramState(db: Kysely<Database>, now: Date, opts: PruneOptions = {}): Promise<{ deleted: number; done: boolean }> {
  const ago = (ms: number) => new Date(now.getTime() - ms).toISOString();
  const passes = [
    () => deleteInBatches(db, 'telegram_updates', { key: ['update_id'], age: 'received_at', before: ago(KEEP_UPDATES_MS) }, opts),
    () => deleteInBatches(db, 'telegram_chat_locks', { key: ['chat_id'], age: 'expires_at', before: ago(0) }, opts),
    () => deleteInBatches(db, 'telegram_link_tokens', { key: ['id'], age: 'expires_at', before: ago(24 * 3600_000) }, opts),
    () => deleteInBatches(db, 'telegram_sessions', { key: ['chat_id'], age: 'updated_at', before: ago(KEEP_DRAFTS_MS) }, opts),
    () => deleteInBatches(db, 'telegram_edit_notices', { key: ['chat_id', 'message_id'], age: 'noticed_at', before: ago(KEEP_EDIT_NOTICES_MS) }, opts),
  ];
  let deleted = 0;
  let done = true;
  for (const pass of passes) {
    const result = await pass();
    deleted += result.deleted;
    done &&= result.done;
  }
  return { deleted, done };
}
