import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import { authenticateToken } from '../db/repositories/tokens.repository.js';
import { requireRole, type Principal, type Role } from '../src/auth/principal.js';
import { expiryText } from '../src/auth/token-lifetime.js';
import { AppError } from '../src/errors.js';
import type { AppEnv } from './app-env.js';

/** The name of the bearer security scheme in the OpenAPI document. */
export const BEARER_SCHEME = 'bearerAuth';

/** After `authenticate()` the principal is always there. */
export interface AuthedEnv {
  Variables: AppEnv['Variables'] & { principal: Principal };
}

function unauthorized(c: Context, message: string): AppError {
  // RFC 6750: tell the client which scheme to use.
  c.header('WWW-Authenticate', 'Bearer realm="intake"');
  return new AppError('unauthorized', message);
}

/**
 * 401 `token_expired` for a token past the expiry it was issued with, saying
 * when (on the district's clock). Only a token that would otherwise grant
 * access gets it: whoever holds it learns what they already could (that it
 * is a real token), and that they need a new one rather than a fixed typo.
 */
function expired(c: Context, expiresAt: string, timeZone: string): AppError {
  c.header('WWW-Authenticate', 'Bearer realm="intake", error="invalid_token", error_description="the token expired"');
  const at = expiryText(expiresAt, timeZone);
  return new AppError('token_expired', `the token expired at ${at}: ask an administrator for a new one`, undefined, undefined, `访问令牌已于 ${at} 过期，请向管理员申请新的令牌`);
}

/**
 * Resolves `Authorization: Bearer <token>` to the account behind it and sets
 * `principal`; a missing, unknown or revoked token, or an inactive account, is 401
 * `unauthorized`, the same answer for each, so a caller learns nothing about which
 * tokens exist. An expired token is 401 `token_expired`.
 */
export function authenticate() {
  return createMiddleware<AuthedEnv>(async (c, next) => {
    const header = c.req.header('authorization');
    if (!header) throw unauthorized(c, 'an Authorization: Bearer <token> header is required');
    const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
    if (!match?.[1]) throw unauthorized(c, 'use Authorization: Bearer <token>');
    const deps = c.get('deps');
    const found = await authenticateToken(deps.db, match[1], deps.clock.now());
    if (found.status === 'expired') throw expired(c, found.expiresAt, deps.district.file.district.timezone);
    if (found.status === 'denied') throw unauthorized(c, 'the token is unknown, revoked, or its account is disabled');
    c.set('principal', found.principal);
    await next();
  });
}

/** 403 unless the authenticated principal has one of the roles (mount after `authenticate()`). */
export function requireRoles(...roles: Role[]) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const principal = c.get('principal');
    if (!principal) throw unauthorized(c, 'an Authorization: Bearer <token> header is required');
    requireRole(principal, ...roles);
    await next();
  });
}
