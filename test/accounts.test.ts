import { join } from 'node:path';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectDatabase, migrateToLatest } from '../db/connect.js';
import {
  authenticateToken,
  findPrincipalByToken,
  hashToken,
  issueToken,
  listTokens,
  revokeToken,
  revokeUserTokens,
} from '../db/repositories/tokens.repository.js';
import { createUser, deactivateUser, findUser, listUsers } from '../db/repositories/users.repository.js';
import type { Database } from '../db/schema.js';
import { authenticate, requireRoles } from '../handlers/auth.middleware.js';
import { createApp } from '../src/app.js';
import { accountProblems, canSeeCase, canSeeContact, requireCaseAccess, requireRole, type Principal, type Role } from '../src/auth/principal.js';
import { loadDistrictFile } from '../src/district/district-file.js';
import { ManualClock } from '../src/clock.js';
import { AppError } from '../src/errors.js';
import type { Service } from '../src/runtime.js';
import { bodyOf, createPgDatabase, startTestService, tempDir, testEnv } from './harness.js';

const AT = '2026-11-28T13:00:00.000Z';

/** One service for the HTTP tests of this file, started by the first describe that needs it. */
let service: Service & { url: string };
async function serviceUnderTest(): Promise<Service & { url: string }> {
  service ??= await startTestService(testEnv('accounts'), 'api');
  return service;
}

describe.each([
  ['SQLite', async () => join(tempDir(), 'accounts.db')],
  ['PostgreSQL', async () => createPgDatabase('accounts')],
])('account repositories on %s', (_engine, url) => {
  let db: Kysely<Database>;

  beforeAll(async () => {
    db = connectDatabase(await url()).db;
    await migrateToLatest(db);
  });
  afterAll(async () => db.destroy());

  it('creates, finds and lists accounts with their live tokens', async () => {
    const user = await createUser(db, { name: ' 张三 ', role: 'bureau', unitCode: 'epb', at: AT });
    expect(user).toEqual({ id: expect.any(String), name: '张三', role: 'bureau', unitCode: 'epb', active: true, createdAt: AT, updatedAt: AT });
    expect(await findUser(db, user.id)).toEqual(user);
    expect(await findUser(db, 'no-such-user')).toBeNull();
    await issueToken(db, { userId: user.id, label: 'first', at: AT });
    const second = await issueToken(db, { userId: user.id, label: null, at: AT });
    await revokeToken(db, { id: second.id }, AT);
    const listed = (await listUsers(db, new Date(AT))).find((u) => u.id === user.id);
    // No web sign-in set: API tokens only.
    expect(listed).toEqual({ ...user, username: null, liveTokens: 1 });
  });

  it('stores a token only as its SHA-256 hash: the plaintext appears nowhere in the tables', async () => {
    const user = await createUser(db, { name: '李四', role: 'operator', unitCode: null, at: AT });
    const issued = await issueToken(db, { userId: user.id, label: 'laptop', at: AT });
    expect(issued.token).toMatch(/^eci_[A-Za-z0-9_-]{43}$/);
    const secret = issued.token.slice('eci_'.length);
    const dump = JSON.stringify([
      await db.selectFrom('users').selectAll().execute(),
      await db.selectFrom('api_tokens').selectAll().execute(),
    ]);
    expect(dump).not.toContain(secret);
    const row = await db.selectFrom('api_tokens').selectAll().where('id', '=', issued.id).executeTakeFirstOrThrow();
    expect(row.token_hash).toBe(hashToken(issued.token));
    expect(row.token_hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('gives every token a different value', async () => {
    const user = await createUser(db, { name: '王五', role: 'dispatcher', unitCode: null, at: AT });
    const tokens = new Set<string>();
    for (let i = 0; i < 20; i++) tokens.add((await issueToken(db, { userId: user.id, label: null, at: AT })).token);
    expect(tokens.size).toBe(20);
  });

  it('finds the principal behind a token, and nothing behind an unknown or malformed one', async () => {
    const user = await createUser(db, { name: '赵六', role: 'bureau', unitCode: 'xinglong', at: AT });
    const issued = await issueToken(db, { userId: user.id, label: null, at: AT });
    expect(await findPrincipalByToken(db, issued.token)).toEqual({
      principal: { userId: user.id, name: '赵六', role: 'bureau', unitCode: 'xinglong', tokenId: issued.id },
      lastUsedAt: null,
      expiresAt: null,
    });
    expect(await findPrincipalByToken(db, `eci_${'A'.repeat(43)}`)).toBeNull();
    expect(await findPrincipalByToken(db, 'not a token')).toBeNull();
    expect(await findPrincipalByToken(db, issued.token.slice(0, -1))).toBeNull();
  });

  it('revokes a token by id or by plaintext, once', async () => {
    const user = await createUser(db, { name: '钱七', role: 'operator', unitCode: null, at: AT });
    const a = await issueToken(db, { userId: user.id, label: null, at: AT });
    const b = await issueToken(db, { userId: user.id, label: null, at: AT });
    expect(await revokeToken(db, { id: a.id }, AT)).toEqual({ status: 'revoked', id: a.id, userId: user.id });
    expect(await revokeToken(db, { token: b.token }, AT)).toEqual({ status: 'revoked', id: b.id, userId: user.id });
    expect(await revokeToken(db, { token: b.token }, AT)).toEqual({ status: 'already_revoked', id: b.id, userId: user.id });
    expect(await revokeToken(db, { id: 'nope' }, AT)).toEqual({ status: 'not_found' });
    expect(await findPrincipalByToken(db, a.token)).toBeNull();
    expect(await findPrincipalByToken(db, b.token)).toBeNull();
    expect((await listTokens(db, user.id)).map((t) => t.revokedAt)).toEqual([AT, AT]);
  });

  it('revokes every token of an account', async () => {
    const user = await createUser(db, { name: '孙八', role: 'operator', unitCode: null, at: AT });
    const other = await createUser(db, { name: '周九', role: 'operator', unitCode: null, at: AT });
    const mine = [await issueToken(db, { userId: user.id, label: null, at: AT }), await issueToken(db, { userId: user.id, label: null, at: AT })];
    const theirs = await issueToken(db, { userId: other.id, label: null, at: AT });
    expect(await revokeUserTokens(db, user.id, AT)).toBe(2);
    expect(await revokeUserTokens(db, user.id, AT)).toBe(0);
    for (const t of mine) expect(await findPrincipalByToken(db, t.token)).toBeNull();
    expect(await findPrincipalByToken(db, theirs.token)).not.toBeNull();
  });

  it('grants nothing to a deactivated account, even with a live token', async () => {
    const user = await createUser(db, { name: '吴十', role: 'dispatcher', unitCode: null, at: AT });
    const issued = await issueToken(db, { userId: user.id, label: null, at: AT });
    expect(await deactivateUser(db, user.id, '2026-11-28T14:00:00.000Z')).toBe(true);
    expect(await deactivateUser(db, user.id, '2026-11-28T14:00:00.000Z')).toBe(false);
    expect(await findPrincipalByToken(db, issued.token)).toBeNull();
    expect(await findUser(db, user.id)).toMatchObject({ active: false, updatedAt: '2026-11-28T14:00:00.000Z' });
  });

  it('notes when a token was used, at most once a minute', async () => {
    const user = await createUser(db, { name: '郑一', role: 'admin', unitCode: null, at: AT });
    const issued = await issueToken(db, { userId: user.id, label: null, at: AT });
    const lastUsed = async () => (await listTokens(db, user.id))[0]?.lastUsedAt;
    const t0 = new Date('2026-11-28T15:00:00.000Z');
    expect(await authenticateToken(db, issued.token, t0)).toMatchObject({ status: 'granted', principal: { userId: user.id } });
    expect(await lastUsed()).toBe(t0.toISOString());
    await authenticateToken(db, issued.token, new Date(t0.getTime() + 30_000));
    expect(await lastUsed()).toBe(t0.toISOString());
    const t1 = new Date(t0.getTime() + 61_000);
    await authenticateToken(db, issued.token, t1);
    expect(await lastUsed()).toBe(t1.toISOString());
  });

  it('stops a token at the expiry it was issued with, without noting its use, and counts it no longer live', async () => {
    const user = await createUser(db, { name: '冯二', role: 'bureau', unitCode: 'epb', at: AT });
    const expiresAt = '2027-03-01T16:00:00.000Z';
    const issued = await issueToken(db, { userId: user.id, label: 'bureau system', at: AT, expiresAt });
    const forever = await issueToken(db, { userId: user.id, label: null, at: AT });
    expect(issued.expiresAt).toBe(expiresAt);
    expect(forever.expiresAt).toBeNull();
    const before = new Date(Date.parse(expiresAt) - 1000);
    expect(await authenticateToken(db, issued.token, before)).toMatchObject({ status: 'granted', principal: { userId: user.id, tokenId: issued.id } });
    expect((await listUsers(db, before)).find((u) => u.id === user.id)?.liveTokens).toBe(2);

    const after = new Date(expiresAt);
    expect(await authenticateToken(db, issued.token, after)).toEqual({ status: 'expired', expiresAt });
    expect(await authenticateToken(db, issued.token, new Date(Date.parse(expiresAt) + 120_000))).toEqual({ status: 'expired', expiresAt });
    // The token without an expiry goes on working; the expired one was last used before it expired.
    expect(await authenticateToken(db, forever.token, new Date('2036-01-01T00:00:00.000Z'))).toMatchObject({ status: 'granted' });
    const listed = await listTokens(db, user.id);
    expect(Object.fromEntries(listed.map((t) => [t.id, [t.expiresAt, t.lastUsedAt]]))).toEqual({
      [issued.id]: [expiresAt, before.toISOString()],
      [forever.id]: [null, '2036-01-01T00:00:00.000Z'],
    });
    expect((await listUsers(db, after)).find((u) => u.id === user.id)?.liveTokens).toBe(1);

    // Revoked or of a disabled account, an expired token is denied like any other: its expiry is said only to a token that would work.
    await revokeToken(db, { id: issued.id }, AT);
    expect(await authenticateToken(db, issued.token, after)).toEqual({ status: 'denied' });
    const other = await createUser(db, { name: '陈三', role: 'operator', unitCode: null, at: AT });
    const lapsed = await issueToken(db, { userId: other.id, label: null, at: AT, expiresAt });
    await deactivateUser(db, other.id, AT);
    expect(await authenticateToken(db, lapsed.token, after)).toEqual({ status: 'denied' });
  });

  it('keeps one account per token: a user that does not exist cannot get one', async () => {
    await expect(issueToken(db, { userId: 'no-such-user', label: null, at: AT })).rejects.toThrow();
  });
});

describe('permission helpers', () => {
  const as = (role: Role, unitCode: string | null = null): Principal => ({ userId: 'u', name: 'n', role, unitCode, tokenId: 't' });
  const district = loadDistrictFile();

  it('shows the reporter contact to operators, dispatchers and admins, to a bureau only when shared', () => {
    expect(canSeeContact(as('operator'), false)).toBe(true);
    expect(canSeeContact(as('dispatcher'), false)).toBe(true);
    expect(canSeeContact(as('bureau', 'epb'), false)).toBe(false);
    expect(canSeeContact(as('bureau', 'epb'), true)).toBe(true);
    expect(canSeeContact(as('admin'), false)).toBe(true);
  });

  it('lets a bureau see only the cases assigned to it, and hides the others as not found', () => {
    expect(canSeeCase(as('bureau', 'epb'), ['epb', 'xinglong'])).toBe(true);
    expect(canSeeCase(as('bureau', 'xinglong'), ['epb', 'xinglong'])).toBe(true);
    expect(canSeeCase(as('bureau', 'water'), ['epb'])).toBe(false);
    expect(canSeeCase(as('dispatcher'), [])).toBe(true);
    expect(() => requireCaseAccess(as('bureau', 'water'), ['epb'])).toThrow(expect.objectContaining({ code: 'not_found' }));
    expect(canSeeCase(as('admin'), ['epb'])).toBe(true);
    expect(() => requireCaseAccess(as('admin'), ['epb'])).not.toThrow();
  });

  it('answers forbidden for a role outside the list', () => {
    expect(() => requireRole(as('dispatcher'), 'dispatcher', 'admin')).not.toThrow();
    const err = (() => {
      try {
        requireRole(as('bureau', 'epb'), 'dispatcher');
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).status).toBe(403);
  });

  it('validates new accounts against the district file', () => {
    expect(accountProblems({ role: 'bureau', unitCode: 'epb', name: '张三' }, district)).toEqual([]);
    expect(accountProblems({ role: 'bureau', unitCode: 'xinglong', name: '张三' }, district)).toEqual([]);
    expect(accountProblems({ role: 'admin', unitCode: null, name: '张三' }, district)).toEqual([]);
    expect(accountProblems({ role: 'boss', unitCode: null, name: 'x' }, district)).toEqual([expect.stringContaining('unknown role "boss"')]);
    expect(accountProblems({ role: 'bureau', unitCode: null, name: 'x' }, district)).toEqual([expect.stringContaining('--bureau')]);
    expect(accountProblems({ role: 'bureau', unitCode: 'nowhere', name: 'x' }, district)).toEqual([expect.stringContaining('unknown bureau "nowhere"')]);
    expect(accountProblems({ role: 'dispatcher', unitCode: 'epb', name: 'x' }, district)).toEqual([expect.stringContaining('takes no --bureau')]);
    expect(accountProblems({ role: 'operator', unitCode: null, name: '  ' }, district)).toEqual([expect.stringContaining('name is required')]);
  });
});

describe('GET /api/v1/me', () => {
  let db: Kysely<Database>;

  beforeAll(async () => {
    db = (await serviceUnderTest()).deps.db;
  });

  async function account(role: Role, unitCode: string | null = null, name = `${role} staff`) {
    const user = await createUser(db, { name, role, unitCode, at: AT });
    const issued = await issueToken(db, { userId: user.id, label: null, at: AT });
    return { user, ...issued };
  }

  const me = (headers: Record<string, string> = {}) => fetch(`${service.url}/api/v1/me`, { headers });
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

  it('answers 401 without a token, with the error shape and a Bearer challenge', async () => {
    const res = await me();
    const body = await bodyOf(res);
    expect(res.status, JSON.stringify(body)).toBe(401);
    expect(body).toEqual({ error: { code: 'unauthorized', message: expect.any(String), requestId: expect.any(String) } });
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
  });

  it.each([
    ['an unknown token', `Bearer eci_${'x'.repeat(43)}`],
    ['a malformed token', 'Bearer hello'],
    ['another scheme', 'Basic dXNlcjpwYXNz'],
    ['an empty bearer', 'Bearer '],
  ])('answers 401 with %s', async (_what, header) => {
    const res = await me({ authorization: header });
    const body = (await bodyOf(res)) as { error: { code: string } };
    expect(res.status, JSON.stringify(body)).toBe(401);
    expect(body.error.code).toBe('unauthorized');
  });

  it('answers 401 once the token is revoked', async () => {
    const { token, id } = await account('operator');
    expect((await me(bearer(token))).status).toBe(200);
    await revokeToken(db, { id }, AT);
    const res = await me(bearer(token));
    expect(res.status, JSON.stringify(await bodyOf(res))).toBe(401);
  });

  it('answers 401 once the account is deactivated', async () => {
    const { token, user } = await account('dispatcher');
    expect((await me(bearer(token))).status).toBe(200);
    await deactivateUser(db, user.id, AT);
    const res = await me(bearer(token));
    expect(res.status, JSON.stringify(await bodyOf(res))).toBe(401);
  });

  it.each(['operator', 'dispatcher', 'admin'] as const)('shows a %s account without a unit', async (role) => {
    const { token, user } = await account(role);
    const res = await me(bearer(token));
    const body = await bodyOf(res);
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body).toEqual({ id: user.id, name: `${role} staff`, role, unit: null });
  });

  it('shows a bureau account with its bureau', async () => {
    const { token, user } = await account('bureau', 'epb', '张三');
    const res = await me(bearer(token));
    const body = await bodyOf(res);
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body).toEqual({ id: user.id, name: '张三', role: 'bureau', unit: { code: 'epb', name: '区环保局' } });
  });

  it('shows a sub-district office account with its office', async () => {
    const { token } = await account('bureau', 'xinglong', '李四');
    const body = (await (await me(bearer(token))).json()) as { unit: unknown };
    expect(body.unit).toEqual({ code: 'xinglong', name: '兴隆办事处' });
  });

  it('accepts the scheme name in any case', async () => {
    const { token } = await account('operator');
    expect((await me({ authorization: `bearer ${token}` })).status).toBe(200);
  });

  it('documents the bearer scheme in the OpenAPI document', async () => {
    const doc = (await (await fetch(`${service.url}/openapi.json`)).json()) as {
      components: { securitySchemes: Record<string, unknown> };
      paths: Record<string, { get: { security: unknown } }>;
    };
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.paths['/api/v1/me']?.get.security).toEqual([{ bearerAuth: [] }]);
  });
});

describe('an API token issued with an expiry', () => {
  const T0 = '2027-02-01T02:00:00.000Z';
  // The last day it works is 2027-03-01 in Beijing: it stops at midnight there.
  const EXPIRES_AT = '2027-03-01T16:00:00.000Z';
  let clock: ManualClock;
  let expiring: Service & { url: string };
  let db: Kysely<Database>;

  beforeAll(async () => {
    clock = new ManualClock(T0);
    expiring = await startTestService(testEnv('accounts-expiry'), 'api', { clock });
    db = expiring.deps.db;
  });

  const call = (path: string, token: string, init: RequestInit & { headers?: Record<string, string> } = {}) =>
    fetch(`${expiring.url}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, ...init.headers } });

  it('works until its expiry, then answers 401 token_expired saying when, and does nothing', async () => {
    clock.set(T0);
    const user = await createUser(db, { name: '环保局对接系统', role: 'bureau', unitCode: 'epb', at: T0 });
    const issued = await issueToken(db, { userId: user.id, label: 'epb system', at: T0, expiresAt: EXPIRES_AT });
    const forever = await issueToken(db, { userId: user.id, label: null, at: T0 });
    // A case waiting for epb to sign for it.
    const report = await fetch(`${expiring.url}/api/v1/reports`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: '工业园区的化工厂夜里排放刺鼻气体', anonymous: true }),
    });
    const { id: caseId } = (await report.json()) as { id: string };
    await db
      .insertInto('assignments')
      .values({ id: `a-${caseId}`, case_id: caseId, unit_code: 'epb', role: 'lead', status: 'pending', sign_deadline_at: null, reply_deadline_at: null, created_at: T0, updated_at: T0, round: 1 })
      .execute();

    clock.set(new Date(Date.parse(EXPIRES_AT) - 60_000));
    const before = await call('/api/v1/me', issued.token);
    expect(before.status, JSON.stringify(await bodyOf(before))).toBe(200);
    const usedAt = (await listTokens(db, user.id)).find((t) => t.id === issued.id)?.lastUsedAt;
    expect(usedAt).toBe(clock.now().toISOString());

    clock.set(EXPIRES_AT);
    const res = await call(`/api/v1/cases/${caseId}/accept`, issued.token, { method: 'POST' });
    const body = await bodyOf(res);
    expect(res.status, JSON.stringify(body)).toBe(401);
    expect(body).toEqual({
      error: { code: 'token_expired', message: 'the token expired at 2027-03-02T00:00:00+08:00: ask an administrator for a new one', requestId: expect.any(String) },
    });
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer .*error="invalid_token"/);
    // Nothing was done: the assignment still waits, no event was written, the token's use is not noted.
    const assignment = await db.selectFrom('assignments').select('status').where('id', '=', `a-${caseId}`).executeTakeFirstOrThrow();
    expect(assignment.status).toBe('pending');
    expect(await db.selectFrom('case_events').select('kind').where('case_id', '=', caseId).where('kind', '=', 'accepted').execute()).toEqual([]);
    expect((await listTokens(db, user.id)).find((t) => t.id === issued.id)?.lastUsedAt).toBe(usedAt);

    // In Chinese for a client that asks for it, with the same time.
    const zh = await call('/api/v1/me', issued.token, { headers: { 'accept-language': 'zh-CN' } });
    expect(zh.status).toBe(401);
    expect(await bodyOf(zh)).toMatchObject({ error: { code: 'token_expired', message: '访问令牌已于 2027-03-02T00:00:00+08:00 过期，请向管理员申请新的令牌' } });

    // The account's token without an expiry, like every token issued before expiries existed, still works.
    expect((await call('/api/v1/me', forever.token)).status).toBe(200);
  });

  it('answers an unknown or revoked token with unauthorized, not token_expired', async () => {
    clock.set(EXPIRES_AT);
    const user = await createUser(db, { name: '过期后吊销', role: 'operator', unitCode: null, at: T0 });
    const issued = await issueToken(db, { userId: user.id, label: null, at: T0, expiresAt: EXPIRES_AT });
    await revokeToken(db, { id: issued.id }, T0);
    for (const token of [issued.token, `eci_${'y'.repeat(43)}`]) {
      const res = await call('/api/v1/me', token);
      const body = (await bodyOf(res)) as { error: { code: string } };
      expect(res.status, JSON.stringify(body)).toBe(401);
      expect(body.error.code).toBe('unauthorized');
    }
  });
});

describe('requireRoles', () => {
  let app: ReturnType<typeof createApp>;

  beforeAll(async () => {
    await serviceUnderTest();
    // The real app with its error handling, plus one guarded route to try the middleware on.
    app = createApp(service.deps);
    app.get('/test/dispatch-desk', authenticate(), requireRoles('dispatcher', 'admin'), (c) => c.json({ ok: true }));
  });

  async function tokenFor(role: Role, unitCode: string | null = null): Promise<string> {
    const user = await createUser(service.deps.db, { name: role, role, unitCode, at: AT });
    return (await issueToken(service.deps.db, { userId: user.id, label: null, at: AT })).token;
  }

  it.each([
    ['dispatcher', null, 200],
    ['admin', null, 200],
    ['operator', null, 403],
    ['bureau', 'epb', 403],
  ] as const)('answers a %s (unit %s) with %i', async (role, unit, status) => {
    const res = await app.request('/test/dispatch-desk', { headers: { authorization: `Bearer ${await tokenFor(role, unit)}` } });
    const body = (await bodyOf(res)) as { error?: { code: string } };
    expect(res.status, JSON.stringify(body)).toBe(status);
    if (status === 403) expect(body.error?.code).toBe('forbidden');
  });

  it('answers 401 before looking at roles when there is no token', async () => {
    const res = await app.request('/test/dispatch-desk');
    expect(res.status).toBe(401);
  });
});
