import { instantOfWallTime, localDateTime, offsetSuffix } from '../domain/time-zone.js';

/**
 * How long an API token is issued for: `--expires-in 90d` (whole days from
 * now) or `--expires-on 2027-03-31` (through that day on the district's wall
 * clock). Optional: a token issued without one works until it is revoked,
 * as every token issued before expiry existed does.
 */

/** The longest lifetime taken: ten years, past which an expiry says nothing a revocation would not. */
export const MAX_TOKEN_DAYS = 3650;
const DAY_MS = 86_400_000;

const DAYS = /^(\d{1,5})d$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

export type TokenExpiry = { expiresAt: string } | { problem: string };

/** `--expires-in`: `90d`, a whole number of days from `now`, 1 to MAX_TOKEN_DAYS. */
export function expiryIn(value: string, now: Date): TokenExpiry {
  const m = DAYS.exec(value.trim());
  const days = m ? Number(m[1]) : NaN;
  if (!(days >= 1 && days <= MAX_TOKEN_DAYS)) {
    return { problem: `--expires-in: give whole days from now, 1d to ${MAX_TOKEN_DAYS}d (e.g. 90d), not "${value}"` };
  }
  return { expiresAt: new Date(now.getTime() + days * DAY_MS).toISOString() };
}

/**
 * `--expires-on`: a date (`YYYY-MM-DD`), the last day the token works on the
 * district's wall clock; it stops at the start of the next day there. Today
 * at the earliest, at most MAX_TOKEN_DAYS ahead.
 */
export function expiryOn(value: string, now: Date, timeZone: string): TokenExpiry {
  const m = DATE.exec(value.trim());
  const [y, mo, d] = m ? [Number(m[1]), Number(m[2]), Number(m[3])] : [0, 0, 0];
  const day = Date.UTC(y, mo - 1, d);
  const real = m !== null && y >= 1000 && new Date(day).getUTCMonth() === mo - 1 && new Date(day).getUTCDate() === d;
  if (!real) return { problem: `--expires-on: give a date as YYYY-MM-DD (the last day the token works), not "${value}"` };
  const end = instantOfWallTime(day + DAY_MS, timeZone);
  if (end <= now.getTime()) return { problem: `--expires-on: ${value.trim()} has passed; give today or a later date` };
  if (end - now.getTime() > (MAX_TOKEN_DAYS + 1) * DAY_MS) return { problem: `--expires-on: at most ${MAX_TOKEN_DAYS} days ahead` };
  return { expiresAt: new Date(end).toISOString() };
}

/** An expiry as people read it: the district's wall-clock time with its offset, `2027-04-01T00:00:00+08:00`. */
export function expiryText(expiresAt: string, timeZone: string): string {
  return `${localDateTime(expiresAt, timeZone).replace(' ', 'T')}${offsetSuffix(Date.parse(expiresAt), timeZone)}`;
}

/** Whether a token with this expiry no longer works at `now`: it works strictly before its expiry. */
export function isExpired(expiresAt: string | null, now: Date): boolean {
  return expiresAt !== null && Date.parse(expiresAt) <= now.getTime();
}

/** The expiry the command-line options ask for: none when neither is given, a problem for a bad one or for both. */
export function expiryOfOptions(options: { 'expires-in'?: string | undefined; 'expires-on'?: string | undefined }, now: Date, timeZone: string): TokenExpiry | null {
  const inDays = options['expires-in'];
  const onDate = options['expires-on'];
  if (inDays !== undefined && onDate !== undefined) return { problem: 'give one of --expires-in DAYS or --expires-on DATE, not both' };
  if (inDays !== undefined) return expiryIn(inDays, now);
  if (onDate !== undefined) return expiryOn(onDate, now, timeZone);
  return null;
}

/** What a listing says of a token at `now`: `revoked`, `expired` or `live`. */
export function tokenState(token: { revokedAt: string | null; expiresAt: string | null }, now: Date): 'revoked' | 'expired' | 'live' {
  if (token.revokedAt !== null) return 'revoked';
  return isExpired(token.expiresAt, now) ? 'expired' : 'live';
}
