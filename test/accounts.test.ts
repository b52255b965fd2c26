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
    const listed = (await listUsers(db)).find((u) => u.id === user.id);
    expect(listed).toEqual({ ...user, liveTokens: 1 });
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
    expect((await authenticateToken(db, issued.token, t0))?.userId).toBe(user.id);
    expect(await lastUsed()).toBe(t0.toISOString());
    await authenticateToken(db, issued.token, new Date(t0.getTime() + 30_000));
    expect(await lastUsed()).toBe(t0.toISOString());
    const t1 = new Date(t0.getTime() + 61_000);
    await authenticateToken(db, issued.token, t1);
    expect(await lastUsed()).toBe(t1.toISOString());
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
