import { isRole, type Principal } from '../../src/auth/principal.js';
import { newId } from '../../src/domain/ids.js';
import type { Kysely } from 'kysely';
import type { Database } from '../schema.js';
import { deleteInBatches, type PruneOptions } from './batched-delete.js';
import type { Db } from './db-types.js';

/**
 * Web sign-in: accounts by username, server-side sessions (only the hash of
 * the session id is stored) and the sign-in attempts the lock-out counts.
 */

export interface SignInAccount {
  id: string;
  role: string;
  passwordHash: string | null;
}

/** The active account with this username (lower-cased), if any. */
export async function findSignInAccount(db: Db, username: string): Promise<SignInAccount | null> {
  const row = await db
    .selectFrom('users')
    .select(['id', 'role', 'password_hash'])
    .where('username', '=', username)
    .where('active', '=', 1)
    .executeTakeFirst();
  return row ? { id: row.id, role: row.role, passwordHash: row.password_hash } : null;
}

/** The account that already has this username, if any. */
export async function findUserIdByUsername(db: Db, username: string): Promise<string | null> {
  const row = await db.selectFrom('users').select('id').where('username', '=', username).executeTakeFirst();
  return row?.id ?? null;
}

/** Sets an account's username and password hash; false when there is no such user. */
export async function setCredentials(db: Db, input: { userId: string; username: string; passwordHash: string; at: string }): Promise<boolean> {
  const result = await db
    .updateTable('users')
    .set({ username: input.username, password_hash: input.passwordHash, updated_at: input.at })
    .where('id', '=', input.userId)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

export async function updatePasswordHash(db: Db, userId: string, passwordHash: string, at: string): Promise<void> {
  await db.updateTable('users').set({ password_hash: passwordHash, updated_at: at }).where('id', '=', userId).execute();
}

export async function insertSession(db: Db, input: { userId: string; tokenHash: string; at: string; expiresAt: string }): Promise<string> {
  const id = newId();
  await db
    .insertInto('web_sessions')
    .values({
      id,
      token_hash: input.tokenHash,
      user_id: input.userId,
      created_at: input.at,
      last_seen_at: input.at,
      expires_at: input.expiresAt,
      revoked_at: null,
    })
    .execute();
  return id;
}

export interface SessionPrincipal {
  principal: Principal;
  lastSeenAt: string;
}

/**
 * The account behind a live session: not revoked, not past its end, used
 * since `idleSince`, and its account still active (disabling an account ends
 * its sessions at once).
 */
export async function findSessionPrincipal(db: Db, tokenHash: string, now: string, idleSince: string): Promise<SessionPrincipal | null> {
  const row = await db
    .selectFrom('web_sessions')
    .innerJoin('users', 'users.id', 'web_sessions.user_id')
    .select(['web_sessions.id as session_id', 'web_sessions.last_seen_at', 'users.id as user_id', 'users.name', 'users.role', 'users.unit_code'])
    .where('web_sessions.token_hash', '=', tokenHash)
    .where('web_sessions.revoked_at', 'is', null)
    .where('web_sessions.expires_at', '>', now)
    .where('web_sessions.last_seen_at', '>', idleSince)
    .where('users.active', '=', 1)
    .executeTakeFirst();
  if (!row || !isRole(row.role)) return null;
  return {
    principal: { userId: row.user_id, name: row.name, role: row.role, unitCode: row.unit_code, tokenId: row.session_id },
    lastSeenAt: row.last_seen_at,
  };
}

export async function touchSession(db: Db, sessionId: string, at: string): Promise<void> {
  await db.updateTable('web_sessions').set({ last_seen_at: at }).where('id', '=', sessionId).execute();
}

export async function revokeSessionByHash(db: Db, tokenHash: string, at: string): Promise<void> {
  await db.updateTable('web_sessions').set({ revoked_at: at }).where('token_hash', '=', tokenHash).where('revoked_at', 'is', null).execute();
}

/** Ends every session of an account (disabled, or its password changed); returns how many. */
export async function revokeUserSessions(db: Db, userId: string, at: string): Promise<number> {
  const result = await db
    .updateTable('web_sessions')
    .set({ revoked_at: at })
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

export async function recordSignInAttempt(db: Db, input: { username: string; ip: string; ok: boolean; at: string }): Promise<void> {
  await db
    .insertInto('sign_in_attempts')
    .values({ id: newId(), username: input.username, ip: input.ip, ok: input.ok ? 1 : 0, at: input.at })
    .execute();
}

/**
 * The times of the failed attempts since `since`, oldest first: for a
 * username only those after its last successful sign-in, for an address all.
 */
export async function failedAttemptTimes(db: Db, by: { username: string } | { ip: string }, since: string): Promise<string[]> {
  let query = db.selectFrom('sign_in_attempts').select(['at', 'ok']).where('at', '>', since);
  query = 'username' in by ? query.where('username', '=', by.username) : query.where('ip', '=', by.ip);
  // The newest 500 are plenty to decide a lock-out.
  const rows = (await query.orderBy('at', 'desc').limit(500).execute()).reverse();
  const times: string[] = [];
  for (const row of rows) {
    if (Number(row.ok) === 1) {
      if ('username' in by) times.length = 0;
    } else {
      times.push(row.at);
    }
  }
  return times;
}

/**
 * Forgets attempts older than `before` (they no longer count for anything), a batch at a time (deleteInBatches): a
 * backlog larger than a call's batches goes at the next call. How many.
 */
export async function pruneSignInAttempts(db: Kysely<Database>, before: string, opts: PruneOptions = {}): Promise<number> {
  return (await deleteInBatches(db, 'sign_in_attempts', { key: ['id'], age: 'at', before }, opts)).deleted;
}

/**
 * Forgets sessions that ended (expired or revoked) before `before`, a batch at a time (deleteInBatches, through the
 * indexes on the expiry and the revocation): a backlog larger than a call's batches goes at the next call. How many.
 */
export async function pruneSessions(db: Kysely<Database>, before: string, opts: PruneOptions = {}): Promise<number> {
  return (await deleteInBatches(db, 'web_sessions', { key: ['id'], age: ['expires_at', 'revoked_at'], before }, opts)).deleted;
}

/**
 * How long a sign-in attempt, and a session after it ended, is kept: a day. An attempt counts for the lock-out half an
 * hour at most (its window and its lock), and an ended session lets no one in: a day is well past both.
 */
export const KEEP_SIGN_INS_MS = 24 * 3600_000;

/**
 * The periodic sweeps' pruning of the sign-in tables (the Node reconciler, the Workers cron): the attempts and the
 * ended sessions older than KEEP_SIGN_INS_MS, each table `opts`' batches at most. How many of each.
 */
export async function pruneSignIns(db: Kysely<Database>, now: Date, opts: PruneOptions = {}): Promise<{ attempts: number; sessions: number }> {
  const before = new Date(now.getTime() - KEEP_SIGN_INS_MS).toISOString();
  const attempts = await pruneSignInAttempts(db, before, opts);
  const sessions = await pruneSessions(db, before, opts);
  return { attempts, sessions };
}
