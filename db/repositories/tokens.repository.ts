import { createHash, randomBytes } from 'node:crypto';
import { isRole, type Principal } from '../../src/auth/principal.js';
import { isExpired } from '../../src/auth/token-lifetime.js';
import { newId } from '../../src/domain/ids.js';
import type { Db } from './db-types.js';

/**
 * API tokens: `eci_` + 32 random bytes in base64url. The prefix makes a leaked
 * token recognisable (secret scanners, logs); the plaintext is returned once
 * by `issueToken` and only its SHA-256 is stored. A fast hash is enough: the
 * token has 256 bits of entropy, so there is nothing to brute-force.
 */
export const TOKEN_PREFIX = 'eci_';
const TOKEN_PATTERN = /^eci_[A-Za-z0-9_-]{43}$/;

/** last_used_at is written at most this often per token, so reads stay reads. */
export const LAST_USED_RESOLUTION_MS = 60_000;

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function looksLikeToken(value: string): boolean {
  return TOKEN_PATTERN.test(value);
}

export interface IssuedToken {
  id: string;
  userId: string;
  /** The plaintext: shown to the person once, never stored. */
  token: string;
  /** When it stops working; null: when revoked. */
  expiresAt: string | null;
}

export async function issueToken(
  db: Db,
  input: { userId: string; label: string | null; at: string; expiresAt?: string | null },
): Promise<IssuedToken> {
  const expiresAt = input.expiresAt ?? null;
  const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
  const id = newId();
  await db
    .insertInto('api_tokens')
    .values({
      id,
      user_id: input.userId,
      token_hash: hashToken(token),
      label: input.label,
      created_at: input.at,
      last_used_at: null,
      revoked_at: null,
      expires_at: expiresAt,
    })
    .execute();
  return { id, userId: input.userId, token, expiresAt };
}

export interface TokenPrincipal {
  principal: Principal;
  lastUsedAt: string | null;
  expiresAt: string | null;
}

/** The account behind an unrevoked token of an active user, whether or not it has expired; null for anything else. */
export async function findPrincipalByToken(db: Db, token: string): Promise<TokenPrincipal | null> {
  if (!looksLikeToken(token)) return null;
  const row = await db
    .selectFrom('api_tokens')
    .innerJoin('users', 'users.id', 'api_tokens.user_id')
    .select([
      'api_tokens.id as token_id',
      'api_tokens.last_used_at',
      'api_tokens.expires_at',
      'users.id as user_id',
      'users.name',
      'users.role',
      'users.unit_code',
    ])
    .where('api_tokens.token_hash', '=', hashToken(token))
    .where('api_tokens.revoked_at', 'is', null)
    .where('users.active', '=', 1)
    .executeTakeFirst();
  // A role this release does not know grants nothing.
  if (!row || !isRole(row.role)) return null;
  return {
    principal: { userId: row.user_id, name: row.name, role: row.role, unitCode: row.unit_code, tokenId: row.token_id },
    lastUsedAt: row.last_used_at,
    expiresAt: row.expires_at,
  };
}

/** Records the use of a token, at most once a minute (a conditional update: concurrent requests write once). */
export async function touchToken(db: Db, tokenId: string, now: Date): Promise<void> {
  const cutoff = new Date(now.getTime() - LAST_USED_RESOLUTION_MS).toISOString();
  await db
    .updateTable('api_tokens')
    .set({ last_used_at: now.toISOString() })
    .where('id', '=', tokenId)
    .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<=', cutoff)]))
    .execute();
}

/**
 * What a bearer token gets: its principal; `expired` for a token that would
 * grant access but for its expiry (said apart, so its holder knows to ask for
 * a new one rather than to look for a typo); `denied` for anything else
 * (unknown, revoked, a disabled account), all alike.
 */
export type TokenAuthentication =
  | { status: 'granted'; principal: Principal }
  | { status: 'expired'; expiresAt: string }
  | { status: 'denied' };

/** Resolves a bearer token to its principal and notes its use; an expired token is not noted as used. */
export async function authenticateToken(db: Db, token: string, now: Date): Promise<TokenAuthentication> {
  const found = await findPrincipalByToken(db, token);
  if (!found) return { status: 'denied' };
  if (found.expiresAt !== null && isExpired(found.expiresAt, now)) return { status: 'expired', expiresAt: found.expiresAt };
  const cutoff = now.getTime() - LAST_USED_RESOLUTION_MS;
  if (found.lastUsedAt === null || Date.parse(found.lastUsedAt) <= cutoff) {
    await touchToken(db, found.principal.tokenId, now);
  }
  return { status: 'granted', principal: found.principal };
}

export interface TokenInfo {
  id: string;
  userId: string;
  label: string | null;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
  expiresAt: string | null;
}

/** An account's tokens, oldest first: revoked and expired ones too. */
export async function listTokens(db: Db, userId: string): Promise<TokenInfo[]> {
  const rows = await db
    .selectFrom('api_tokens')
    .select(['id', 'user_id', 'label', 'created_at', 'last_used_at', 'revoked_at', 'expires_at'])
    .where('user_id', '=', userId)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  return rows.map((r) => ({
    id: r.id,
    userId: r.user_id,
    label: r.label,
    createdAt: r.created_at,
    lastUsedAt: r.last_used_at,
    revokedAt: r.revoked_at,
    expiresAt: r.expires_at,
  }));
}

export type RevokeResult = { status: 'revoked' | 'already_revoked'; id: string; userId: string } | { status: 'not_found' };

/** Revokes one token, named by its id or by its plaintext. Revoking twice is harmless. */
export async function revokeToken(db: Db, which: { id: string } | { token: string }, at: string): Promise<RevokeResult> {
  const query = db.selectFrom('api_tokens').select(['id', 'user_id', 'revoked_at']);
  const row = await ('id' in which
    ? query.where('id', '=', which.id)
    : query.where('token_hash', '=', hashToken(which.token))
  ).executeTakeFirst();
  if (!row) return { status: 'not_found' };
  const result = await db
    .updateTable('api_tokens')
    .set({ revoked_at: at })
    .where('id', '=', row.id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return { status: Number(result.numUpdatedRows) > 0 ? 'revoked' : 'already_revoked', id: row.id, userId: row.user_id };
}

/** Revokes every live token of an account; returns how many. */
export async function revokeUserTokens(db: Db, userId: string, at: string): Promise<number> {
  const result = await db
    .updateTable('api_tokens')
    .set({ revoked_at: at })
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}
