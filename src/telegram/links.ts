import { createHash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { findUser, type User } from '../../db/repositories/users.repository.js';
import type { Database } from '../../db/schema.js';
import type { Db } from '../../db/repositories/db-types.js';
import { newId } from '../domain/ids.js';

/**
 * Staff accounts linked to Telegram users. An admin issues a one-time token
 * (`npm run admin -- telegram-link <user>`); the staff member sends
 * `/link TOKEN` to the bot in a private chat. Only the token's SHA-256 is
 * kept; a token works once and expires.
 */

/** 16 characters without look-alikes: easy to type on a phone, 80 bits. */
const ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';
const TOKEN_LENGTH = 16;
export const LINK_TOKEN_TTL_HOURS = 24;

/** A code as /link takes it: any case, with spaces or dashes between its characters. */
function normalLinkToken(token: string): string {
  return token.trim().toUpperCase().replace(/[\s-]/g, '');
}

export function hashLinkToken(token: string): string {
  return createHash('sha256').update(normalLinkToken(token), 'utf8').digest('hex');
}

const TOKEN_SHAPE = new RegExp(`^[${ALPHABET}]{${TOKEN_LENGTH}}$`);

/** Whether a message is nothing but something shaped as a code issued here (a staff member who left out /link). */
export function looksLikeLinkToken(text: string): boolean {
  return TOKEN_SHAPE.test(normalLinkToken(text));
}

function newLinkToken(): string {
  const bytes = randomBytes(TOKEN_LENGTH);
  let out = '';
  for (const b of bytes) out += ALPHABET[b % ALPHABET.length];
  return out;
}

export async function issueLinkToken(
  db: Db,
  input: { userId: string; now: Date; ttlHours?: number },
): Promise<{ token: string; expiresAt: string }> {
  const token = newLinkToken();
  const expiresAt = new Date(input.now.getTime() + (input.ttlHours ?? LINK_TOKEN_TTL_HOURS) * 3600_000).toISOString();
  await db
    .insertInto('telegram_link_tokens')
    .values({
      id: newId(),
      user_id: input.userId,
      token_hash: hashLinkToken(token),
      created_at: input.now.toISOString(),
      expires_at: expiresAt,
      used_at: null,
      used_by: null,
    })
    .execute();
  return { token, expiresAt };
}

export type LinkOutcome =
  | { ok: true; user: User }
  | { ok: false; reason: 'unknown' | 'used' | 'expired' | 'inactive' };

/**
 * Links the Telegram user to the token's account, in one transaction: the
 * token is marked used only if it was unused and unexpired, so two uses
 * racing each other cannot both win. The user it linked sending it again
 * while still linked is told they are linked. A Telegram user has one account; an
 * account one Telegram user (a new link replaces the old one).
 */
export async function redeemLinkToken(db: Kysely<Database>, token: string, telegramUserId: string, now: Date): Promise<LinkOutcome> {
  const at = now.toISOString();
  return db.transaction().execute(async (trx) => {
    const row = await trx.selectFrom('telegram_link_tokens').selectAll().where('token_hash', '=', hashLinkToken(token)).executeTakeFirst();
    if (!row) return { ok: false, reason: 'unknown' } as const;
    if (row.used_at !== null) {
      // Sent again by whoever it linked, still linked (a second tap on the message): linked, not "ask for a new code".
      const again = row.used_by === telegramUserId ? await linkedUser(trx, telegramUserId) : null;
      return again?.id === row.user_id ? ({ ok: true, user: again } as const) : ({ ok: false, reason: 'used' } as const);
    }
    if (row.expires_at <= at) return { ok: false, reason: 'expired' } as const;
    const user = await findUser(trx, row.user_id);
    if (!user || !user.active) return { ok: false, reason: 'inactive' } as const;
    const claimed = await trx
      .updateTable('telegram_link_tokens')
      .set({ used_at: at, used_by: telegramUserId })
      .where('id', '=', row.id)
      .where('used_at', 'is', null)
      .executeTakeFirst();
    if (Number(claimed.numUpdatedRows) !== 1) return { ok: false, reason: 'used' } as const;
    await trx.deleteFrom('telegram_links').where((eb) => eb.or([eb('telegram_user_id', '=', telegramUserId), eb('user_id', '=', user.id)])).execute();
    await trx.insertInto('telegram_links').values({ telegram_user_id: telegramUserId, user_id: user.id, linked_at: at }).execute();
    return { ok: true, user } as const;
  });
}

/** The active account a Telegram user is linked to, or null. */
export async function linkedUser(db: Db, telegramUserId: string): Promise<User | null> {
  const link = await db.selectFrom('telegram_links').select('user_id').where('telegram_user_id', '=', telegramUserId).executeTakeFirst();
  if (!link) return null;
  const user = await findUser(db, link.user_id);
  return user && user.active ? user : null;
}

/** Removes the link of a Telegram user (from the bot) or of an account (from the admin tool). */
export async function unlink(db: Db, which: { telegramUserId: string } | { userId: string }): Promise<boolean> {
  const result = await db
    .deleteFrom('telegram_links')
    .where('telegramUserId' in which ? 'telegram_user_id' : 'user_id', '=', 'telegramUserId' in which ? which.telegramUserId : which.userId)
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** A code shown where others can read it (typed in a group) stops working. */
export async function voidLinkToken(db: Db, token: string, now: Date): Promise<boolean> {
  const result = await db
    .updateTable('telegram_link_tokens')
    .set({ used_at: now.toISOString(), used_by: 'void: shown in a group' })
    .where('token_hash', '=', hashLinkToken(token))
    .where('used_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}
