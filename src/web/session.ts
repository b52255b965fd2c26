import type { Context } from 'hono';
import { deleteCookie, setCookie } from 'hono/cookie';
import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../../handlers/app-env.js';
import {
  failedAttemptTimes,
  findSessionPrincipal,
  findSignInAccount,
  insertSession,
  recordSignInAttempt,
  revokeSessionByHash,
  touchSession,
  updatePasswordHash,
} from '../../db/repositories/web-sessions.repository.js';
import { hasRole, isRole, type Principal, type Role } from '../auth/principal.js';
import { hashPassword, needsRehash, normaliseUsername, verifyPassword } from '../auth/password.js';
import { AppError } from '../errors.js';
import { CSRF_COOKIE, hostCookieOptions, readHostCookie } from './csrf.js';
import { resolveLang } from './i18n.js';

/**
 * Staff sessions for the web pages. The browser holds a random session id in
 * an http-only, SameSite=Lax cookie (`__Host-` prefixed and Secure over
 * https); the database holds only its SHA-256, with an absolute end and an
 * idle timeout, and a session ends when its account is disabled. The
 * principal it yields is the same type API tokens give, so every access rule
 * is shared. Web Crypto only: this module runs on Node and Workers alike.
 */
export const SESSION_COOKIE = 'sid';
/** A session ends this long after sign-in, whatever the activity: a working day. */
export const SESSION_TTL_MS = 12 * 3600_000;
/** … or after this long without a request. */
export const SESSION_IDLE_MS = 2 * 3600_000;
/** last_seen_at is written at most this often, so page views stay reads. */
const TOUCH_RESOLUTION_MS = 60_000;

/**
 * Lock-out: this many failed sign-ins within the window lock the username
 * (or the address) for `lockMs`. An address gets more tries than an account
 * because a whole office often signs in from one address behind NAT.
 */
export const LOCKOUT = {
  perUsername: 5,
  perAddress: 20,
  windowMs: 15 * 60_000,
  lockMs: 15 * 60_000,
} as const;

function toBase64Url(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

async function sha256Hex(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

function readSessionCookie(c: Context<AppEnv>): string | undefined {
  const value = readHostCookie(c, SESSION_COOKIE);
  return value && /^[A-Za-z0-9_-]{43}$/.test(value) ? value : undefined;
}

/**
 * The client's address: the proxy's X-Forwarded-For when TRUST_PROXY is set,
 * else the platform's header (`addressHeader`, on Workers), else the socket's.
 */
export function clientAddress(c: Context<AppEnv>): string {
  const { env: config, addressHeader } = c.get('deps');
  if (config.TRUST_PROXY) {
    const forwarded = c.req.header('x-forwarded-for')?.split(',')[0]?.trim();
    if (forwarded) return forwarded.slice(0, 64);
  }
  if (addressHeader) {
    const given = c.req.header(addressHeader)?.trim();
    if (given) return given.slice(0, 64);
  }
  // @hono/node-server hands the Node request in as env.incoming; other platforms do not.
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined;
  return env?.incoming?.socket?.remoteAddress ?? 'unknown';
}

/** Resolves the session cookie to its principal; null when there is none or it no longer works. */
async function sessionPrincipal(c: Context<AppEnv>): Promise<Principal | null> {
  const token = readSessionCookie(c);
  if (!token) return null;
  const { db, clock } = c.get('deps');
  const now = clock.now();
  const found = await findSessionPrincipal(db, await sha256Hex(token), now.toISOString(), new Date(now.getTime() - SESSION_IDLE_MS).toISOString());
  if (!found) return null;
  if (now.getTime() - Date.parse(found.lastSeenAt) >= TOUCH_RESOLUTION_MS) {
    await touchSession(db, found.principal.tokenId, now.toISOString());
  }
  return found.principal;
}

/**
 * Sets `principal` from the session cookie when it names a live session.
 * Never throws: a database hiccup leaves the visitor signed out for this
 * request (pages that need a session then send them to sign in).
 */
export function loadSession() {
  return createMiddleware<AppEnv>(async (c, next) => {
    if (!c.get('principal')) {
      let principal: Principal | null = null;
      try {
        principal = await sessionPrincipal(c);
      } catch (err) {
        c.get('deps').logger.warn({ reqId: c.get('requestId'), err: { message: (err as Error).message } }, 'session lookup failed');
      }
      if (principal) c.set('principal', principal);
    }
    await next();
  });
}

/** A same-site path to return to after sign-in; anything else (other sites, `//host`, `/\host`) is dropped. */
export function safeNext(value: string | undefined | null): string | null {
  if (!value || value.length > 2000) return null;
  if (!value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\')) return null;
  // Control characters and backslashes let browsers read a path as another host.
  if (/[\u0000-\u001f\u007f\\]/.test(value)) return null;
  return value;
}

/** Where a role starts after sign-in. */
export function homeOf(role: Role): string {
  switch (role) {
    case 'operator':
      return '/console';
    case 'bureau':
      return '/inbox';
    case 'dispatcher':
    case 'admin':
      return '/desk';
  }
}

/** The staff page areas and the roles that may enter each (the pages mount them with staffArea). */
export const STAFF_AREAS = {
  '/console': ['operator', 'admin'],
  '/desk': ['dispatcher', 'admin'],
  '/inbox': ['bureau'],
} as const satisfies Record<string, readonly Role[]>;
export type StaffArea = keyof typeof STAFF_AREAS;

/** May an account of this role open the same-site path (a staff area's page only for the roles of that area)? */
export function roleMayOpen(role: Role, path: string): boolean {
  const pathname = path.split(/[?#]/, 1)[0]!;
  for (const [prefix, roles] of Object.entries(STAFF_AREAS)) {
    if (pathname === prefix || pathname.startsWith(`${prefix}/`)) return (roles as readonly Role[]).includes(role);
  }
  return true;
}

/**
 * Where sign-in leads: the page asked for first when this account may open it, else the role's own page. The page
 * kept is often another clerk's on a shared computer (their session ended on the desk): the next clerk to sign in
 * there starts on their own page instead of a refusal.
 */
export function afterSignIn(role: Role, next: string | null): string {
  return next !== null && roleMayOpen(role, next) ? next : homeOf(role);
}

/**
 * The page needs a signed-in account (of one of `roles`, when given): a
 * visitor without a session goes to `/signin?next=<this page>`, a wrong role
 * gets the 403 page. Mount after `loadSession()`.
 */
export function requireSignedIn(...roles: Role[]) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const principal = c.get('principal');
    if (!principal) {
      // A form posted after the session ended cannot be replayed by a redirect: go back to its page.
      let back: string | null = null;
      if (c.req.method === 'GET' || c.req.method === 'HEAD') {
        const url = new URL(c.req.url);
        back = url.pathname + url.search;
      } else {
        const referer = c.req.header('referer');
        if (referer) {
          try {
            const r = new URL(referer);
            if (r.host === new URL(c.req.url).host) back = r.pathname + r.search;
          } catch {
            back = null;
          }
        }
      }
      const next = safeNext(back);
      // A form posted after the session ended was not carried out: the sign-in page says so (expired=1).
      const posted = c.req.method !== 'GET' && c.req.method !== 'HEAD';
      const query = [...(next ? [`next=${encodeURIComponent(next)}`] : []), ...(posted ? ['expired=1'] : [])];
      const target = query.length ? `/signin?${query.join('&')}` : '/signin';
      if (c.req.header('hx-request')) {
        c.header('HX-Redirect', target);
        return c.body(null, 401);
      }
      return c.redirect(target, 303);
    }
    if (roles.length > 0 && !hasRole(principal, ...roles)) {
      const zh = resolveLang(c) === 'zh';
      throw new AppError('forbidden', zh ? '您的账号没有访问此页面的权限。' : 'Your account may not open this page.');
    }
    await next();
  });
}

export type SignInResult =
  | { ok: true; userId: string; role: Role }
  | { ok: false; reason: 'invalid' }
  | { ok: false; reason: 'locked'; until: Date; by: LockedBy };

/** What is locked out: the account (too many failures for its name) or the address (too many from it, whatever the names). */
export type LockedBy = 'account' | 'address';

/** The end of the lock-out these failures cause, or null: `max` failures within the window lock until the last + lockMs. */
export function lockedUntil(failures: readonly string[], max: number, now: Date): Date | null {
  let until = 0;
  const t = failures.map((s) => Date.parse(s));
  for (let i = max - 1; i < t.length; i++) {
    if (t[i]! - t[i - max + 1]! <= LOCKOUT.windowMs) until = Math.max(until, t[i]! + LOCKOUT.lockMs);
  }
  return until > now.getTime() ? new Date(until) : null;
}

async function currentLock(c: Context<AppEnv>, username: string, ip: string, now: Date): Promise<{ until: Date; by: LockedBy } | null> {
  const { db } = c.get('deps');
  const since = new Date(now.getTime() - LOCKOUT.windowMs - LOCKOUT.lockMs).toISOString();
  const byName = lockedUntil(await failedAttemptTimes(db, { username }, since), LOCKOUT.perUsername, now);
  const byAddress = lockedUntil(await failedAttemptTimes(db, { ip }, since), LOCKOUT.perAddress, now);
  if (byName && (!byAddress || byName >= byAddress)) return { until: byName, by: 'account' };
  return byAddress ? { until: byAddress, by: 'address' } : null;
}

/**
 * Checks a username and password against the accounts, counting failures
 * for the lock-out. An unknown username and a wrong password fail alike (and
 * take as long); attempts while locked are refused without looking at the
 * password and are not counted, so the lock ends when it says it will.
 */
export async function checkCredentials(c: Context<AppEnv>, rawUsername: string, password: string): Promise<SignInResult> {
  const { db, clock } = c.get('deps');
  const username = normaliseUsername(rawUsername);
  const ip = clientAddress(c);
  const now = clock.now();
  const locked = await currentLock(c, username, ip, now);
  if (locked) return { ok: false, reason: 'locked', ...locked };

  const account = await findSignInAccount(db, username);
  const workFactor = c.get('deps').env.PASSWORD_ITERATIONS;
  const ok = await verifyPassword(password, account?.passwordHash ?? null, workFactor);
  await recordSignInAttempt(db, { username, ip, ok, at: now.toISOString() });
  // A role this release does not know grants nothing (as for API tokens).
  if (ok && account && isRole(account.role)) {
    if (account.passwordHash && needsRehash(account.passwordHash, workFactor)) {
      await updatePasswordHash(db, account.id, await hashPassword(password, workFactor), now.toISOString());
    }
    // Old attempts and ended sessions are forgotten by the periodic sweeps (pruneSignIns), not on the way to this answer.
    return { ok: true, userId: account.id, role: account.role };
  }
  const lockedNow = await currentLock(c, username, ip, now);
  return lockedNow ? { ok: false, reason: 'locked', ...lockedNow } : { ok: false, reason: 'invalid' };
}

/**
 * Starts a session for the account: the session the browser had (if any) is
 * revoked and a new id issued, so an id planted before sign-in is worthless;
 * the CSRF token is renewed with it.
 */
export async function startSession(c: Context<AppEnv>, userId: string): Promise<void> {
  const { db, clock } = c.get('deps');
  const now = clock.now();
  const old = readSessionCookie(c);
  if (old) await revokeSessionByHash(db, await sha256Hex(old), now.toISOString());
  const token = toBase64Url(crypto.getRandomValues(new Uint8Array(32)));
  await insertSession(db, {
    userId,
    tokenHash: await sha256Hex(token),
    at: now.toISOString(),
    expiresAt: new Date(now.getTime() + SESSION_TTL_MS).toISOString(),
  });
  const host = hostCookieOptions(c);
  setCookie(c, SESSION_COOKIE, token, { path: '/', httpOnly: true, sameSite: 'Lax', ...host, maxAge: SESSION_TTL_MS / 1000 });
  deleteCookie(c, CSRF_COOKIE, { path: '/', ...host });
}

/** Ends the browser's session (server side first, then the cookie) and renews the CSRF token. */
export async function endSession(c: Context<AppEnv>): Promise<void> {
  const { db, clock } = c.get('deps');
  const token = readSessionCookie(c);
  if (token) await revokeSessionByHash(db, await sha256Hex(token), clock.now().toISOString());
  const host = hostCookieOptions(c);
  deleteCookie(c, SESSION_COOKIE, { path: '/', ...host });
  deleteCookie(c, CSRF_COOKIE, { path: '/', ...host });
}
