import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Kysely, KyselyPlugin } from 'kysely';
import { InsertQueryNode, Migrator, SelectQueryNode, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectDatabase, migrateToLatest } from '../db/connect.js';
import { bufferingInserts } from '../db/insert-buffer.js';
import { createTransactionBatcher } from '../db/tx-batcher.js';
import { insertAssignments, listAssignments } from '../db/repositories/assignments.repository.js';
import { caseHandledIn, casesHandledIn, findCase, insertCases, findCaseByTrackingCode, findCasesByReference, insertCase, listStaleCases, transitionCase } from '../db/repositories/cases.repository.js';
import { findContact, insertContact } from '../db/repositories/contacts.repository.js';
import { isUniqueViolation } from '../db/repositories/db-types.js';
import { beginAttempt, endAttempt, findDelivery, insertDeliveries, listStalePendingDeliveries, recordAttempt } from '../db/repositories/deliveries.repository.js';
import { keepCodeNames } from '../db/repositories/code-names.repository.js';
import { appendEvents, listEvents } from '../db/repositories/events.repository.js';
import { exportCaseBatches, statsCaseBatches } from '../db/repositories/stats.repository.js';
import { findActionKey, insertActionKey, KEEP_ACTION_KEYS_MS, pruneActionKeys } from '../db/repositories/action-keys.repository.js';
import { findIdempotencyKey, insertIdempotencyKey, insertIdempotencyKeys, KEEP_IDEMPOTENCY_KEYS_MS, pruneIdempotencyKeys, scopedKey } from '../db/repositories/idempotency.repository.js';
import { listOverdueCases } from '../db/repositories/desk.repository.js';
import { insertExtensionRequest, mergedReportsOf } from '../db/repositories/case-queries.repository.js';
import { migrationProvider } from '../db/migrations/index.js';
import { addToOutbox, deleteFromOutbox, outboxSize, peekOutbox } from '../db/repositories/outbox.repository.js';
import type { Database, NewCase } from '../db/schema.js';
import { createUser } from '../db/repositories/users.repository.js';
import { insertSession, pruneSessions, pruneSignInAttempts, recordSignInAttempt } from '../db/repositories/web-sessions.repository.js';
import { outboxEntry } from '../queues/jobs.js';
import { DEFAULT_DISTRICT_PATH } from '../src/district/district-file.js';
import { buildDistrict, typeName, unitName, type DistrictFile } from '../src/district/district.schema.js';
import { KEEP_DRAFTS_MS, KEEP_EDIT_NOTICES_MS, KEEP_UPDATES_MS, pruneTelegramState } from '../src/telegram/chat-lock.js';
import type { PruneOptions } from '../db/repositories/batched-delete.js';
import { createPgDatabase, tempDir } from './harness.js';

function newCase(overrides: Partial<NewCase> = {}): NewCase {
  const at = '2026-11-02T02:00:00.000Z';
  return {
    id: randomUUID(),
    tracking_code: randomUUID().slice(0, 10).toUpperCase(),
    channel: 'web',
    text: '河里有死鱼',
    address: null,
    lat: 25.123456789,
    lng: 111.345678912,
    occurred_at: null,
    status: 'received',
    type_code: null,
    confidence: null,
    classification: null,
    urgent: 0,
    urgency_reasons: null,
    anonymous: 0,
    jurisdiction_code: null,
    place_source: null,
    flags: '[]',
    triage_reason: null,
    received_at: at,
    dispatched_at: null,
    sign_deadline_at: null,
    reply_deadline_at: null,
    updated_at: at,
    version: 0,
    ...overrides,
  };
}

/** The database, and how many delete statements went through it so far. */
function countingDeletes(db: Kysely<Database>): { db: Kysely<Database>; deletes: () => number } {
  let deletes = 0;
  const counted = db.withPlugin({
    transformQuery: (args) => {
      if (args.node.kind === 'DeleteQueryNode') deletes++;
      return args.node;
    },
    transformResult: async (args) => args.result,
  });
  return { db: counted, deletes: () => deletes };
}

/**
 * A prune given 25 rows past their time and 2 younger ones: each delete statement at most a batch (10 here), at most
 * the batches a call is given, none once stopped, a batch short of its size ending the call; the younger kept.
 */
async function expectPrunedInBatches(
  db: Kysely<Database>,
  prune: (db: Kysely<Database>, opts: PruneOptions) => Promise<number>,
  left: () => Promise<string[]>,
  younger: string[],
): Promise<void> {
  const counted = countingDeletes(db);
  expect(await prune(counted.db, { batchSize: 10, maxBatches: 2 })).toBe(20);
  expect(counted.deletes()).toBe(2);
  expect(await left()).toHaveLength(7);
  expect(await prune(db, { batchSize: 10, stopped: () => true })).toBe(0);
  expect(await prune(counted.db, { batchSize: 10 })).toBe(5);
  expect(counted.deletes()).toBe(3);
  expect(await left()).toEqual(younger);
}

/** The rows older than a time are found through the named index on their age (on PostgreSQL, one it may use at all). */
async function expectAgeIndex(db: Kysely<Database>, engine: string, table: string, column: string, index: string): Promise<void> {
  const query = sql`select 1 from ${sql.table(table)} where ${sql.ref(column)} < ${'2026-11-01T00:00:00.000Z'} limit 10`;
  const plan = await db.transaction().execute(async (trx) => {
    if (engine === 'SQLite') return (await sql<{ detail: string }>`explain query plan ${query}`.execute(trx)).rows.map((r) => r.detail);
    // A small table is read whole whatever its indexes: forbid that, so the plan shows whether an index serves.
    await sql`set local enable_seqscan = off`.execute(trx);
    return (await sql<{ 'QUERY PLAN': string }>`explain ${query}`.execute(trx)).rows.map((r) => r['QUERY PLAN']);
  });
  expect(plan.join('\n')).toContain(index);
}

describe.each([
  ['SQLite', async () => join(tempDir(), 'repo.db')],
  ['PostgreSQL', async () => createPgDatabase('repo')],
])('repositories on %s', (engine, url) => {
  let db: Kysely<Database>;

  beforeAll(async () => {
    const handle = connectDatabase(await url());
    db = handle.db;
    expect(handle.engine).toBe(engine === 'SQLite' ? 'sqlite' : 'postgres');
    await migrateToLatest(db);
  });
  afterAll(async () => db.destroy());

  it('migrates once and is idempotent on a second run', async () => {
    expect(await migrateToLatest(db)).toEqual([]);
  });

  if (engine === 'SQLite') {
    it('runs SQLite in WAL mode with foreign keys on', async () => {
      const mode = await sql<{ journal_mode: string }>`pragma journal_mode`.execute(db);
      const fk = await sql<{ foreign_keys: number }>`pragma foreign_keys`.execute(db);
      expect(mode.rows[0]?.journal_mode).toBe('wal');
      expect(fk.rows[0]?.foreign_keys).toBe(1);
    });
  }

  it('stores and maps a case, keeping coordinates exact', async () => {
    const row = newCase({ anonymous: 1, urgent: 1, flags: '["place_unknown"]' });
    await insertCase(db, row);
    const c = await findCase(db, row.id);
    expect(c).toMatchObject({
      id: row.id,
      trackingCode: row.tracking_code,
      status: 'received',
      anonymous: true,
      urgent: true,
      flags: ['place_unknown'],
      location: { lat: 25.123456789, lng: 111.345678912 },
    });
    expect((await findCaseByTrackingCode(db, row.tracking_code))?.id).toBe(row.id);
    expect(await findCase(db, 'missing')).toBeNull();
  });

  it('refuses a second case with the same tracking code', async () => {
    const a = newCase();
    await insertCase(db, a);
    const err = await insertCase(db, newCase({ tracking_code: a.tracking_code })).catch((e: unknown) => e);
    expect(isUniqueViolation(err)).toBe(true);
  });

  it('finds a case by its reference, the last group of its id, through the index on it', async () => {
    const a = newCase();
    await insertCase(db, a);
    await insertCase(db, newCase());
    const tail = a.id.slice(a.id.lastIndexOf('-') + 1);
    expect((await findCasesByReference(db, tail)).map((c) => c.id)).toEqual([a.id]);
    expect(await findCasesByReference(db, 'ffffffffffff')).toEqual([]);
    if (engine === 'SQLite') {
      const plan = await sql<{ detail: string }>`explain query plan select * from cases where substr(id, 25) = ${tail}`.execute(db);
      expect(plan.rows.map((r) => r.detail).join(' ')).toContain('USING INDEX cases_reference');
    } else {
      await sql`set enable_seqscan = off`.execute(db);
      const plan = await sql<{ 'QUERY PLAN': string }>`explain select * from cases where substr(id, 25) = ${tail}`.execute(db);
      await sql`set enable_seqscan = on`.execute(db);
      expect(plan.rows.map((r) => r['QUERY PLAN']).join(' ')).toContain('cases_reference');
    }
  });

  it('finds the case merged reports are handled in, at the end of a way of merges, with one query a hop for all of them', async () => {
    const open = newCase({ status: 'dispatched' });
    const middle = newCase({ status: 'merged', merged_into: open.id });
    const other = newCase({ status: 'dispatched' });
    for (const c of [open, middle, other]) await insertCase(db, c);
    expect((await caseHandledIn(db, { mergedInto: middle.id }))?.id).toBe(open.id);
    expect((await caseHandledIn(db, { mergedInto: open.id }))?.id).toBe(open.id);
    expect(await caseHandledIn(db, { mergedInto: null })).toBeNull();

    let selects = 0;
    const counting = db.withPlugin({
      transformQuery: (args) => {
        if (SelectQueryNode.is(args.node)) selects += 1;
        return args.node;
      },
      transformResult: async (args) => args.result,
    });
    // Reports merged into the merged one (two hops), into the open one and into another open one (one hop), and into a case that is gone.
    const found = await casesHandledIn(counting, [middle.id, open.id, other.id, middle.id, 'missing']);
    expect(new Map([...found].map(([from, c]) => [from, c.id]))).toEqual(
      new Map([
        [middle.id, open.id],
        [open.id, open.id],
        [other.id, other.id],
      ]),
    );
    expect(selects).toBe(2);
    expect(await casesHandledIn(counting, [])).toEqual(new Map());
    expect(selects).toBe(2);
  });

  it('lists the reports merged into each case, also those merged into one of them before, one query a level', async () => {
    const open = newCase({ status: 'dispatched' });
    const middle = newCase({ status: 'merged', merged_into: open.id });
    const first = newCase({ status: 'merged', merged_into: middle.id });
    const other = newCase({ status: 'dispatched' });
    for (const c of [open, middle, first, other]) await insertCase(db, c);
    const found = await mergedReportsOf(db, [open.id, other.id]);
    expect(new Map([...found].map(([id, merged]) => [id, [...merged].sort()]))).toEqual(
      new Map([
        [open.id, [middle.id, first.id].sort()],
        [other.id, []],
      ]),
    );
    expect(await mergedReportsOf(db, [])).toEqual(new Map());
  });

  it('keeps the reporter contact apart from the case', async () => {
    const row = newCase();
    await insertCase(db, row);
    await insertContact(db, row.id, { name: '张三', phone: '13800001111', shareWithBureau: false });
    expect(await findContact(db, row.id)).toEqual({ name: '张三', phone: '13800001111', shareWithBureau: false });
    const caseRow = await db.selectFrom('cases').selectAll().where('id', '=', row.id).executeTakeFirstOrThrow();
    expect(JSON.stringify(caseRow)).not.toContain('13800001111');
  });

  it('moves a case only from the expected status, once, under concurrency', async () => {
    const row = newCase();
    await insertCase(db, row);
    const results = await Promise.all(
      Array.from({ length: 6 }, () =>
        db.transaction().execute((trx) =>
          transitionCase(trx, row.id, 'received', { status: 'dispatched', updated_at: '2026-11-02T02:00:01.000Z' }),
        ),
      ),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
    const c = await findCase(db, row.id);
    expect(c?.status).toBe('dispatched');
    expect(c?.version).toBe(1);
  });

  it('appends events in order and filters the public ones', async () => {
    const row = newCase();
    await insertCase(db, row);
    await appendEvents(db, [
      { caseId: row.id, at: row.received_at, kind: 'received', toStatus: 'received', note: '已受理', public: true, actor: { type: 'reporter' } },
      { caseId: row.id, at: row.received_at, kind: 'classified', data: { type: 'noise' } },
      { caseId: row.id, at: row.received_at, kind: 'status', fromStatus: 'received', toStatus: 'dispatched', public: true },
    ]);
    const all = await listEvents(db, row.id);
    expect(all.map((e) => e.kind)).toEqual(['received', 'classified', 'status']);
    expect(all[1]?.data).toEqual({ type: 'noise' });
    expect(all[0]?.actor).toEqual({ type: 'reporter', id: null, role: null });
    const pub = await listEvents(db, row.id, { publicOnly: true });
    expect(pub.map((e) => e.toStatus)).toEqual(['received', 'dispatched']);
  });

  it('rejects an event for a case that does not exist', async () => {
    await expect(appendEvents(db, [{ caseId: 'nope', at: '2026-01-01T00:00:00.000Z', kind: 'x' }])).rejects.toThrow();
  });

  it('keeps one assignment per case and unit', async () => {
    const row = newCase();
    await insertCase(db, row);
    const base = { caseId: row.id, signBy: null, replyBy: null, at: row.received_at };
    await insertAssignments(db, [
      { ...base, id: randomUUID(), unitCode: 'xinglong', role: 'jurisdiction' },
      { ...base, id: randomUUID(), unitCode: 'econ', role: 'co' },
      { ...base, id: randomUUID(), unitCode: 'epb', role: 'lead' },
    ]);
    expect((await listAssignments(db, row.id)).map((a) => [a.unitCode, a.role, a.status])).toEqual([
      ['epb', 'lead', 'pending'],
      ['econ', 'co', 'pending'],
      ['xinglong', 'jurisdiction', 'pending'],
    ]);
    const err = await insertAssignments(db, [{ ...base, id: randomUUID(), unitCode: 'epb', role: 'co' }]).catch((e: unknown) => e);
    expect(isUniqueViolation(err)).toBe(true);
  });

  it('moves outbox entries in order and deletes them', async () => {
    const before = await outboxSize(db);
    const now = new Date('2026-11-02T03:00:00.000Z');
    await addToOutbox(db, [outboxEntry('intake', { caseId: 'c1' }), outboxEntry('dispatch', { caseId: 'c1', unit: 'epb', channel: 'webhook' })], now);
    const rows = (await peekOutbox(db, 1000)).slice(before);
    expect(rows.map((r) => [r.name, r.jobId])).toEqual([
      ['intake', 'intake-c1'],
      ['dispatch', 'dispatch-c1-epb-webhook'],
    ]);
    expect(rows[1]?.payload).toEqual({ caseId: 'c1', unit: 'epb', channel: 'webhook' });
    await deleteFromOutbox(db, rows.map((r) => r.id));
    expect(await outboxSize(db)).toBe(before);
  });

  it('stores idempotency keys once', async () => {
    const row = newCase();
    await insertCase(db, row);
    const key = scopedKey('reports', 'k-1');
    await insertIdempotencyKey(db, { key, requestHash: 'h', caseId: row.id, at: row.received_at });
    expect(await findIdempotencyKey(db, key)).toEqual({ requestHash: 'h', caseId: row.id });
    const err = await insertIdempotencyKey(db, { key, requestHash: 'h2', caseId: row.id, at: row.received_at }).catch((e: unknown) => e);
    expect(isUniqueViolation(err)).toBe(true);
    // Another kind of submission with the same words is another key.
    expect(await findIdempotencyKey(db, scopedKey('supervise', row.id, 'k-1'))).toBeNull();
  });

  it('deletes the idempotency keys older than their retention a batch at a time, so many batches a call, keeping the younger', async () => {
    const row = newCase();
    await insertCase(db, row);
    // The day after the other tests' keys were made (2026-11-02): they are all younger than the retention.
    const now = new Date('2026-11-03T00:00:00.000Z');
    const ago = (ms: number) => new Date(now.getTime() - ms).toISOString();
    const tag = randomUUID();
    const entry = (name: string, madeAt: string) => ({ key: scopedKey('reports', `${tag}-${name}`), requestHash: 'h', caseId: row.id, at: madeAt });
    await insertIdempotencyKeys(db, [
      ...Array.from({ length: 25 }, (_, i) => entry(`old-${i}`, ago(KEEP_IDEMPOTENCY_KEYS_MS + (i + 1) * 60_000))),
      entry('young', ago(KEEP_IDEMPOTENCY_KEYS_MS - 60_000)),
      entry('just-made', ago(0)),
    ]);
    const mine = scopedKey('reports', `${tag}-`);
    const left = async () => (await db.selectFrom('idempotency_keys').select('key').where('key', 'like', `${mine}%`).execute()).map((r) => r.key.slice(mine.length)).sort();

    await expectPrunedInBatches(db, (on, opts) => pruneIdempotencyKeys(on, now, opts), left, ['just-made', 'young']);
  });

  it('deletes the units\' action keys older than their retention a batch at a time, so many batches a call, keeping the younger', async () => {
    const row = newCase();
    await insertCase(db, row);
    const now = new Date('2026-11-03T00:00:00.000Z');
    const ago = (ms: number) => new Date(now.getTime() - ms).toISOString();
    const answer = { status: 200, etag: null, body: '{}' };
    // Keys told apart by every column of the table's key: two units, two actions, the same words.
    const keep = (unitCode: string, action: string, key: string, at: string) =>
      insertActionKey(db, { unitCode, caseId: row.id, action, key, requestHash: 'h', answer, access: 'full', at });
    for (let i = 0; i < 25; i++) await keep(i % 2 ? 'epb' : 'water', Math.floor(i / 2) % 2 ? 'accept' : 'return', `old-${Math.floor(i / 4)}`, ago(KEEP_ACTION_KEYS_MS + (i + 1) * 60_000));
    await keep('epb', 'accept', 'young', ago(KEEP_ACTION_KEYS_MS - 60_000));
    await keep('water', 'return', 'just-made', ago(0));
    const left = async () => (await db.selectFrom('unit_action_keys').select('key').where('case_id', '=', row.id).execute()).map((r) => r.key).sort();

    await expectPrunedInBatches(db, (on, opts) => pruneActionKeys(on, now, opts), left, ['just-made', 'young']);
    await expectAgeIndex(db, engine, 'unit_action_keys', 'created_at', 'unit_action_keys_created_at');
  });

  it("deletes the Telegram bot's rows past their time a batch at a time, each table in its own, keeping the younger", async () => {
    const now = new Date('2026-11-20T00:00:00.000Z');
    const ago = (ms: number) => new Date(now.getTime() - ms).toISOString();
    const HOUR = 3600_000;
    const user = await createUser(db, { name: '联络员', role: 'bureau', unitCode: 'epb', at: ago(30 * 24 * HOUR) });
    // Three past their time in each table, one young.
    const ages = (keepMs: number) => [keepMs + 3 * HOUR, keepMs + 2 * HOUR, keepMs + HOUR, keepMs - HOUR].map(ago);
    const [updates, leases, tokens, drafts, edits] = [KEEP_UPDATES_MS, 0, 24 * HOUR, KEEP_DRAFTS_MS, KEEP_EDIT_NOTICES_MS].map(ages);
    await db.insertInto('telegram_updates').values(updates!.map((at, i) => ({ update_id: 9_000 + i, received_at: at }))).execute();
    await db.insertInto('telegram_chat_locks').values(leases!.map((at, i) => ({ chat_id: `lease-${i}`, holder: 'h', expires_at: at }))).execute();
    await db
      .insertInto('telegram_link_tokens')
      .values(tokens!.map((at, i) => ({ id: `token-${i}`, user_id: user.id, token_hash: `hash-${i}`, created_at: ago(30 * 24 * HOUR), expires_at: at, used_at: null, used_by: null })))
      .execute();
    await db.insertInto('telegram_sessions').values(drafts!.map((at, i) => ({ chat_id: `draft-${i}`, state: '{}', updated_at: at }))).execute();
    // Answered edits of one chat: the table's key is the chat and the message.
    await db.insertInto('telegram_edit_notices').values(edits!.map((at, i) => ({ chat_id: 'edits', message_id: 100 + i, noticed_at: at }))).execute();
    const left = async () => ({
      updates: (await db.selectFrom('telegram_updates').select('update_id').execute()).map((r) => Number(r.update_id)),
      leases: (await db.selectFrom('telegram_chat_locks').select('chat_id').execute()).map((r) => r.chat_id),
      tokens: (await db.selectFrom('telegram_link_tokens').select('id').execute()).map((r) => r.id),
      drafts: (await db.selectFrom('telegram_sessions').select('chat_id').execute()).map((r) => r.chat_id),
      edits: (await db.selectFrom('telegram_edit_notices').select('message_id').execute()).map((r) => Number(r.message_id)),
    });

    // Each table at most one batch of two this call: a delete statement for each, the last of them left for later.
    const counted = countingDeletes(db);
    expect(await pruneTelegramState(counted.db, now, { batchSize: 2, maxBatches: 1 })).toEqual({ deleted: 10, done: false });
    expect(counted.deletes()).toBe(5);
    const half = await left();
    expect(Object.values(half).map((rows) => rows.length)).toEqual([2, 2, 2, 2, 2]);
    expect(await pruneTelegramState(counted.db, now, { batchSize: 2, stopped: () => true })).toEqual({ deleted: 0, done: false });
    expect(await pruneTelegramState(counted.db, now, { batchSize: 2 })).toEqual({ deleted: 5, done: true });
    expect(await left()).toEqual({ updates: [9_003], leases: ['lease-3'], tokens: ['token-3'], drafts: ['draft-3'], edits: [103] });
    for (const [table, column, index] of [
      ['telegram_updates', 'received_at', 'telegram_updates_received'],
      ['telegram_link_tokens', 'expires_at', 'telegram_link_tokens_expires_at'],
      ['telegram_sessions', 'updated_at', 'telegram_sessions_updated_at'],
      ['telegram_edit_notices', 'noticed_at', 'telegram_edit_notices_noticed'],
    ] as const) {
      await expectAgeIndex(db, engine, table, column, index);
    }
  });

  it('forgets the sign-in attempts older than it is told a batch at a time, at most as many batches a call as it is given', async () => {
    const now = new Date('2026-11-21T00:00:00.000Z');
    const ago = (ms: number) => new Date(now.getTime() - ms).toISOString();
    const username = `batch-${randomUUID()}`;
    const attempt = (at: string) => recordSignInAttempt(db, { username, ip: '192.0.2.1', ok: false, at });
    for (let i = 0; i < 25; i++) await attempt(ago(25 * 3600_000 + i * 60_000));
    await attempt(ago(23 * 3600_000));
    await attempt(ago(0));
    const dayAgo = ago(24 * 3600_000);
    const left = async () => (await db.selectFrom('sign_in_attempts').select('at').where('username', '=', username).execute()).map((r) => r.at).sort();
    await expectPrunedInBatches(db, (on, opts) => pruneSignInAttempts(on, dayAgo, opts), left, [ago(23 * 3600_000), ago(0)]);
    // The username's and the address's indexes start with those: the batches' rows are found through one on the time.
    await expectAgeIndex(db, engine, 'sign_in_attempts', 'at', 'sign_in_attempts_at');
  });

  it('forgets the sessions that ended (expired or revoked) before it is told a batch at a time, through their indexes', async () => {
    const now = new Date('2026-11-21T00:00:00.000Z');
    const ago = (ms: number) => new Date(now.getTime() - ms).toISOString();
    const user = await createUser(db, { name: '值班员', role: 'operator', unitCode: null, at: ago(30 * 24 * 3600_000) });
    const session = async (label: string, expiresAt: string, revokedAt: string | null) => {
      const id = await insertSession(db, { userId: user.id, tokenHash: label, at: ago(40 * 3600_000), expiresAt });
      if (revokedAt) await db.updateTable('web_sessions').set({ revoked_at: revokedAt }).where('id', '=', id).execute();
    };
    for (let i = 0; i < 25; i++) {
      const longAgo = ago(25 * 3600_000 + i * 60_000);
      // Expired over a day ago; or signed out over a day ago, its expiry later than a day ago.
      if (i % 2 === 0) await session(`old-${i}`, longAgo, null);
      else await session(`old-${i}`, ago(13 * 3600_000), longAgo);
    }
    await session('expired-late', ago(23 * 3600_000), null);
    await session('revoked-late', ago(11 * 3600_000), ago(23 * 3600_000));
    const dayAgo = ago(24 * 3600_000);
    const left = async () => (await db.selectFrom('web_sessions').select('token_hash').where('user_id', '=', user.id).execute()).map((r) => r.token_hash).sort();
    await expectPrunedInBatches(db, (on, opts) => pruneSessions(on, dayAgo, opts), left, ['expired-late', 'revoked-late']);
    await expectAgeIndex(db, engine, 'web_sessions', 'expires_at', 'web_sessions_expires_at');
    await expectAgeIndex(db, engine, 'web_sessions', 'revoked_at', 'web_sessions_revoked_at');
    // A batch selects the rows either of whose times is past: both indexes serve that one statement.
    const either = sql`select id from web_sessions where (expires_at < ${dayAgo} or revoked_at < ${dayAgo}) limit 10`;
    const plan = await db.transaction().execute(async (trx) => {
      if (engine === 'SQLite') return (await sql<{ detail: string }>`explain query plan ${either}`.execute(trx)).rows.map((r) => r.detail);
      await sql`set local enable_seqscan = off`.execute(trx);
      return (await sql<{ 'QUERY PLAN': string }>`explain ${either}`.execute(trx)).rows.map((r) => r['QUERY PLAN']);
    });
    expect(plan.join('\n')).toContain('web_sessions_expires_at');
    expect(plan.join('\n')).toContain('web_sessions_revoked_at');
  });

  it('finds the idempotency keys of every kind of submission as earlier versions stored them', async () => {
    const row = newCase();
    await insertCase(db, row);
    const stored = {
      reports: 'reports:client-key-7',
      webForm: `web-form:csrf-token:2026-11-02:${'f'.repeat(32)}`,
      telegram: 'tg--1001234-987654',
      supervise: `supervise:${row.id}:desk-retry-1`,
    };
    await db
      .insertInto('idempotency_keys')
      .values(Object.values(stored).map((key) => ({ key, request_hash: 'h', case_id: row.id, created_at: row.received_at })))
      .execute();
    const made = {
      reports: scopedKey('reports', 'client-key-7'),
      webForm: scopedKey('web-form', 'csrf-token', '2026-11-02', 'f'.repeat(32)),
      telegram: scopedKey('telegram', '-1001234', 987654),
      supervise: scopedKey('supervise', row.id, 'desk-retry-1'),
    };
    expect(made).toEqual(stored);
    for (const key of Object.values(made)) expect(await findIdempotencyKey(db, key)).toEqual({ requestHash: 'h', caseId: row.id });
  });

  it('records delivery attempts and never reopens a finished delivery', async () => {
    const row = newCase();
    await insertCase(db, row);
    await insertDeliveries(db, [{ id: randomUUID(), caseId: row.id, unitCode: 'epb', channel: 'webhook', at: row.received_at }]);
    const d = (await findDelivery(db, row.id, 'epb', 'webhook'))!;
    expect(await recordAttempt(db, d.id, { status: 'delivered', error: null, at: '2026-11-02T02:00:05.000Z' })).toBe(true);
    expect(await recordAttempt(db, d.id, { status: 'failed', error: 'late', at: '2026-11-02T02:00:06.000Z' })).toBe(false);
    expect(await findDelivery(db, row.id, 'epb', 'webhook')).toMatchObject({ status: 'delivered', attempts: 1, deliveredAt: '2026-11-02T02:00:05.000Z' });
  });

  it('counts a delivery attempt as it begins, once, and keeps it counted when it ends', async () => {
    const row = newCase();
    await insertCase(db, row);
    await insertDeliveries(db, [{ id: randomUUID(), caseId: row.id, unitCode: 'epb', channel: 'webhook', at: row.received_at }]);
    const d = (await findDelivery(db, row.id, 'epb', 'webhook'))!;
    expect(await beginAttempt(db, d, '2026-11-02T02:00:01.000Z', null)).toBe(true);
    // A second run that read the delivery before the first began its attempt begins none.
    expect(await beginAttempt(db, d, '2026-11-02T02:00:01.500Z', null)).toBe(false);
    expect(await findDelivery(db, row.id, 'epb', 'webhook')).toMatchObject({ status: 'pending', attempts: 1, attemptStartedAt: '2026-11-02T02:00:01.000Z' });
    expect(await endAttempt(db, d.id, { status: 'pending', error: 'HTTP 503', at: '2026-11-02T02:00:02.000Z' })).toBe(true);
    // The run after a cut-off attempt notes it as the last error while its own is under way.
    const again = (await findDelivery(db, row.id, 'epb', 'webhook'))!;
    expect(await beginAttempt(db, again, '2026-11-02T02:00:03.000Z', 'attempt 1 got no outcome')).toBe(true);
    expect(await findDelivery(db, row.id, 'epb', 'webhook')).toMatchObject({ attempts: 2, lastError: 'attempt 1 got no outcome', attemptStartedAt: '2026-11-02T02:00:03.000Z' });
    expect(await endAttempt(db, d.id, { status: 'failed', error: 'HTTP 503', at: '2026-11-02T02:00:04.000Z' })).toBe(true);
    expect(await findDelivery(db, row.id, 'epb', 'webhook')).toMatchObject({ status: 'failed', attempts: 2, lastError: 'HTTP 503', attemptStartedAt: null });
    expect(await beginAttempt(db, { id: d.id, attempts: 2 }, '2026-11-02T02:00:05.000Z', null)).toBe(false);
  });

  it('finds stale cases and pending deliveries for the reconciler', async () => {
    const old = newCase({ updated_at: '2020-01-01T00:00:00.000Z' });
    await insertCase(db, old);
    await insertDeliveries(db, [{ id: randomUUID(), caseId: old.id, unitCode: 'water', channel: 'webhook', at: '2020-01-01T00:00:00.000Z' }]);
    const stale = await listStaleCases(db, 'received', '2021-01-01T00:00:00.000Z', 100);
    expect(stale.map((s) => s.id)).toContain(old.id);
    const pending = await listStalePendingDeliveries(db, '2021-01-01T00:00:00.000Z', 100);
    expect(pending.map((p) => p.caseId)).toContain(old.id);
  });

  it('rolls back everything written in a failed transaction', async () => {
    const row = newCase();
    await expect(
      db.transaction().execute(async (trx) => {
        await insertCase(trx, row);
        await appendEvents(trx, [{ caseId: row.id, at: row.received_at, kind: 'received' }]);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await findCase(db, row.id)).toBeNull();
    expect(await listEvents(db, row.id)).toEqual([]);
  });

  describe('rows appended by a batch of units', () => {
    // Counts the INSERT statements each table receives, through a Kysely plugin on the same database.
    function countingInserts(): { db: Kysely<Database>; inserts: Map<string, number> } {
      const inserts = new Map<string, number>();
      const plugin: KyselyPlugin = {
        transformQuery(args) {
          if (InsertQueryNode.is(args.node)) {
            const table = args.node.into?.table.identifier.name ?? '?';
            inserts.set(table, (inserts.get(table) ?? 0) + 1);
          }
          return args.node;
        },
        transformResult: async (args) => args.result,
      };
      return { db: db.withPlugin(plugin), inserts };
    }

    it('go in as one insert per table when the batch ends, all in its transaction', async () => {
      const { db: counted, inserts } = countingInserts();
      const batcher = createTransactionBatcher(counted);
      const rows = [newCase(), newCase(), newCase()];
      for (const row of rows) await insertCase(db, row);
      const seen = await Promise.all(
        rows.map((row) =>
          batcher.run(async (trx) => {
            expect(await transitionCase(trx, row.id, 'received', { status: 'dispatched', updated_at: row.received_at })).toBe(true);
            await appendEvents(trx, [
              { caseId: row.id, at: row.received_at, kind: 'classified' },
              { caseId: row.id, at: row.received_at, kind: 'status', fromStatus: 'received', toStatus: 'dispatched', public: true },
            ]);
            await addToOutbox(trx, [outboxEntry('dispatch', { caseId: row.id, unit: 'epb', channel: 'webhook' })], new Date());
            // Held back until the batch's units are done: not yet in the transaction.
            return (await listEvents(trx, row.id)).length;
          }),
        ),
      );
      expect(seen).toEqual([0, 0, 0]);
      expect(Object.fromEntries(inserts)).toEqual({ case_events: 1, outbox: 1 });
      for (const row of rows) {
        expect((await findCase(db, row.id))?.status).toBe('dispatched');
        expect((await listEvents(db, row.id)).map((e) => e.kind)).toEqual(['classified', 'status']);
      }
    });

    it('fail the unit that appended a bad row alone; the others of its batch commit', async () => {
      const batcher = createTransactionBatcher(db);
      const good = newCase();
      const bad = newCase();
      await insertCase(db, good);
      await insertCase(db, bad);
      const unit = (row: NewCase, eventFor: string) =>
        batcher.run(async (trx) => {
          await transitionCase(trx, row.id, 'received', { status: 'triage', updated_at: row.received_at });
          // An event for a case that does not exist breaks the foreign key only when the rows are written.
          await appendEvents(trx, [{ caseId: eventFor, at: row.received_at, kind: 'status', toStatus: 'triage' }]);
        });
      const [ok, failed] = await Promise.allSettled([unit(good, good.id), unit(bad, `missing-${bad.id}`)]);
      expect(ok.status).toBe('fulfilled');
      expect(failed.status).toBe('rejected');
      expect((await findCase(db, good.id))?.status).toBe('triage');
      expect((await listEvents(db, good.id)).map((e) => e.toStatus)).toEqual(['triage']);
      // The failed unit's status change went with its rows: nothing half-written.
      expect((await findCase(db, bad.id))?.status).toBe('received');
    });

    it("are split into statements each within the engine's limit on bound parameters", async () => {
      const row = newCase();
      await insertCase(db, row);
      // 6,000 events × 11 columns: more parameters than SQLite or PostgreSQL take in one statement.
      const events = Array.from({ length: 6000 }, (_, i) => ({ caseId: row.id, at: row.received_at, kind: 'note', note: String(i) }));
      await db.transaction().execute((trx) => bufferingInserts(trx, () => appendEvents(trx, events)));
      const stored = await listEvents(db, row.id);
      expect(stored).toHaveLength(6000);
      expect(stored.map((e) => e.note)).toEqual(events.map((e) => e.note));
    });

    it('are written at once outside a buffering transaction', async () => {
      const row = newCase();
      await insertCase(db, row);
      await db.transaction().execute(async (trx) => {
        await appendEvents(trx, [{ caseId: row.id, at: row.received_at, kind: 'received' }]);
        expect(await listEvents(trx, row.id)).toHaveLength(1);
      });
    });
  });

  it('lists overdue cases the longest overdue first, by the earliest deadline an open assignment missed', async () => {
    const at = '2026-11-02T02:00:00.000Z';
    const now = '2026-11-04T02:00:00.000Z';
    // Not signed for since 11-03 02:00 (its reply deadline weeks away) …
    const unsigned = newCase({ status: 'dispatched', sign_deadline_at: '2026-11-03T02:00:00.000Z', reply_deadline_at: '2026-11-23T02:00:00.000Z' });
    // … and signed for, its reply due 11-03 08:00: overdue six hours less.
    const lateReply = newCase({ status: 'accepted', sign_deadline_at: '2026-11-03T02:00:00.000Z', reply_deadline_at: '2026-11-03T08:00:00.000Z' });
    for (const c of [lateReply, unsigned]) await insertCase(db, c);
    await insertAssignments(db, [
      { id: randomUUID(), caseId: unsigned.id, unitCode: 'epb', role: 'lead', signBy: unsigned.sign_deadline_at!, replyBy: unsigned.reply_deadline_at!, at },
      { id: randomUUID(), caseId: lateReply.id, unitCode: 'epb', role: 'lead', signBy: lateReply.sign_deadline_at!, replyBy: lateReply.reply_deadline_at!, at },
    ]);
    await db.updateTable('assignments').set({ status: 'accepted', accepted_at: at }).where('case_id', '=', lateReply.id).execute();
    const listed = (await listOverdueCases(db, now)).map((c) => c.id).filter((id) => id === unsigned.id || id === lateReply.id);
    expect(listed).toEqual([unsigned.id, lateReply.id]);
  });
  it('reads the rows of a batch of more cases than one statement binds ids, each case with all of its own in order', async () => {
    // 200 cases of March 2025, each with two assignments, a status change back and forth and two ratings.
    const cases = Array.from({ length: 200 }, (_, i) => {
      const at = new Date(Date.parse('2025-03-10T02:00:00.000Z') + i * 60_000).toISOString();
      return newCase({ status: 'closed', received_at: at, updated_at: at, round: 2 });
    });
    await insertCases(db, cases);
    for (const c of cases) {
      const at = c.received_at;
      await insertAssignments(db, [
        { id: randomUUID(), caseId: c.id, unitCode: 'xinglong', role: 'jurisdiction', signBy: at, replyBy: at, at },
        { id: randomUUID(), caseId: c.id, unitCode: 'epb', role: 'lead', signBy: at, replyBy: at, at },
      ]);
      await appendEvents(db, [
        // The first round's lead (whose answer was rated dissatisfied) as the reopening recorded it; epb leads the second.
        { caseId: c.id, at: '2025-03-20T00:00:00.000Z', kind: 'status', fromStatus: 'replied', toStatus: 'reopened', data: { round: 1, lead: 'agri' } },
        { caseId: c.id, at: '2025-03-21T00:00:00.000Z', kind: 'status', fromStatus: 'reopened', toStatus: 'closed' },
      ]);
      await db
        .insertInto('ratings')
        .values([2, 1].map((round) => ({ id: randomUUID(), case_id: c.id, round, rating: round === 1 ? 'dissatisfied' : 'satisfied', solved: round - 1, channel: 'web', created_at: at })))
        .execute();
    }
    const read = [];
    for await (const batch of statsCaseBatches(db, { fromInstant: '2025-03-01T00:00:00.000Z', toInstant: '2025-04-01T00:00:00.000Z' }, 150)) read.push(...batch);
    expect(read.map((c) => c.id)).toEqual(cases.map((c) => c.id));
    for (const c of read) {
      expect(c.assignments.map((a) => a.unitCode)).toEqual(['epb', 'xinglong']);
      expect(c.ratings).toEqual([
        { rating: 'dissatisfied', solved: false, unitCode: 'agri' },
        { rating: 'satisfied', solved: true, unitCode: 'epb' },
      ]);
      expect(c.reopened).toBe(true);
    }
    const exported = [];
    for await (const batch of exportCaseBatches(db, { fromInstant: '2025-03-01T00:00:00.000Z', toInstant: '2025-04-01T00:00:00.000Z' })) exported.push(...batch);
    expect(exported.map((c) => [c.id, c.lead?.unitCode, c.rating?.rating])).toEqual(cases.map((c) => [c.id, 'epb', 'satisfied']));
  });

  it("keeps the district file's names by code, and gives back those of codes a later file dropped", async () => {
    const file = (edit: (d: DistrictFile) => void) => {
      const d = JSON.parse(readFileSync(DEFAULT_DISTRICT_PATH, 'utf8')) as DistrictFile;
      edit(d);
      return buildDistrict(d);
    };
    const names = () => db.selectFrom('code_names').selectAll().orderBy('kind').orderBy('code').execute();
    const first = file(() => {});
    await keepCodeNames(db, first, '2026-11-01T00:00:00.000Z');
    const kept = await names();
    expect(kept).toHaveLength(first.types.size + first.units.size);
    expect(kept.find((r) => r.kind === 'type' && r.code === 'noise')).toMatchObject({ name_zh: '噪声扰民', name_en: 'Noise nuisance' });
    expect(first.former.types.size + first.former.units.size).toBe(0);

    // The same file again writes nothing.
    await keepCodeNames(db, file(() => {}), '2026-11-02T00:00:00.000Z');
    expect(await names()).toEqual(kept);

    // Noise and the enforcement brigade dropped, 兴隆's code changed, the EPB renamed.
    const edited = file((d) => {
      d.types = d.types.filter((t) => t.code !== 'noise');
      delete d.routing.noise;
      d.bureaus = d.bureaus.filter((b) => b.code !== 'enforcement');
      for (const r of Object.values(d.routing)) {
        if (r.lead === 'enforcement') r.lead = 'epb';
        if (r.co) r.co = r.co.filter((c) => c !== 'enforcement' && c !== r.lead);
      }
      d.jurisdictions.find((j) => j.code === 'xinglong')!.code = 'xinglong_new';
      d.bureaus.find((b) => b.code === 'epb')!.name = { zh: '区生态环境分局', en: 'District Ecology and Environment Branch' };
    });
    await keepCodeNames(db, edited, '2026-11-03T00:00:00.000Z');
    expect(Object.fromEntries(edited.former.types)).toEqual({ noise: { zh: '噪声扰民', en: 'Noise nuisance' } });
    expect(Object.fromEntries(edited.former.units)).toEqual({
      enforcement: { zh: '区综合行政执法大队', en: 'District Urban Administration and Law Enforcement Brigade' },
      xinglong: { zh: '兴隆办事处', en: 'Xinglong Sub-district Office' },
    });
    expect(typeName(edited, 'noise', 'en')).toBe('Noise nuisance');
    expect(unitName(edited, 'xinglong')).toBe('兴隆办事处');
    expect(unitName(edited, 'xinglong_new')).toBe('兴隆办事处');
    expect(unitName(edited, 'epb')).toBe('区生态环境分局');
    expect(unitName(edited, 'never_named')).toBe('never_named');
    const after = await names();
    expect(after.find((r) => r.code === 'epb')).toMatchObject({ name_zh: '区生态环境分局', updated_at: '2026-11-03T00:00:00.000Z' });
    expect(after.find((r) => r.code === 'xinglong_new')).toMatchObject({ name_zh: '兴隆办事处', updated_at: '2026-11-03T00:00:00.000Z' });
    expect(after.find((r) => r.code === 'noise')).toMatchObject({ name_zh: '噪声扰民', updated_at: '2026-11-01T00:00:00.000Z' });

    // The first file back: its codes are its own again, nothing former.
    const back = file(() => {});
    await keepCodeNames(db, back, '2026-11-04T00:00:00.000Z');
    expect(back.former.types.size).toBe(0);
    expect([...back.former.units.keys()]).toEqual(['xinglong_new']);
    expect(unitName(back, 'epb', 'en')).toBe('District Environmental Protection Bureau');
    expect((await names()).find((r) => r.code === 'epb')).toMatchObject({ name_zh: '区环保局', updated_at: '2026-11-04T00:00:00.000Z' });
  });
});

describe.each([
  ['SQLite', async () => join(tempDir(), 'upgrade.db')],
  ['PostgreSQL', async () => createPgDatabase('upgrade')],
])('upgrading a database on %s', (_engine, url) => {
  it('lapses the extension requests a release before 2026-12-07T140000 left waiting, and only those', async () => {
    const { db } = connectDatabase(await url());
    try {
      const migrated = await new Migrator({ db, provider: migrationProvider }).migrateTo('2026-12-07T130000-api-token-expiry');
      expect(migrated.error).toBeUndefined();
      const c = newCase({ status: 'dispatched' });
      await insertCase(db, c);
      const at = '2026-11-02T03:00:00.000Z';
      const releasedAt = '2026-11-03T04:00:00.000Z';
      await insertAssignments(db, [
        { id: randomUUID(), caseId: c.id, unitCode: 'epb', role: 'lead', signBy: null, replyBy: null, at },
        { id: randomUUID(), caseId: c.id, unitCode: 'econ', role: 'co', signBy: null, replyBy: null, at },
      ]);
      await db.updateTable('assignments').set({ status: 'released', released_at: releasedAt }).where('case_id', '=', c.id).where('unit_code', '=', 'econ').execute();
      const ask = (unitCode: string) => ({ id: randomUUID(), caseId: c.id, unitCode, workingDays: 5, reason: '人手不足', requestedBy: 'staff-econ', at });
      const [released, lead] = [ask('econ'), ask('epb')];
      await insertExtensionRequest(db, released);
      await insertExtensionRequest(db, lead);
      expect(await migrateToLatest(db)).toContain('2026-12-07T140000-lapse-released-extensions');
      const rows = await db.selectFrom('extension_requests').select(['id', 'status', 'decision_note', 'decided_at']).where('case_id', '=', c.id).execute();
      expect(rows.find((r) => r.id === released.id)).toEqual({ id: released.id, status: 'lapsed', decision_note: 'released', decided_at: releasedAt });
      expect(rows.find((r) => r.id === lead.id)).toEqual({ id: lead.id, status: 'pending', decision_note: null, decided_at: null });
    } finally {
      await db.destroy();
    }
  });

  it('keeps the unit action keys stored before 2026-12-08T111000 as answers that showed the case in full', async () => {
    const { db } = connectDatabase(await url());
    try {
      const migrated = await new Migrator({ db, provider: migrationProvider }).migrateTo('2026-12-08T110000-unit-action-keys');
      expect(migrated.error).toBeUndefined();
      const c = newCase({ status: 'dispatched' });
      await insertCase(db, c);
      const answer = { status: 200, etag: '"v3"', body: '{"id":"x"}' };
      await (db as Kysely<any>)
        .insertInto('unit_action_keys')
        .values({ unit_code: 'epb', case_id: c.id, action: 'accept', key: 'k-1', request_hash: 'h', answer_status: answer.status, answer_etag: answer.etag, answer_body: answer.body, created_at: c.received_at })
        .execute();
      expect(await migrateToLatest(db)).toContain('2026-12-08T111000-unit-action-key-access');
      expect(await findActionKey(db, { unitCode: 'epb', caseId: c.id, action: 'accept', key: 'k-1' })).toEqual({ requestHash: 'h', answer, access: 'full' });
      await insertActionKey(db, { unitCode: 'epb', caseId: c.id, action: 'return', key: 'k-2', requestHash: 'h', answer, access: 'withdrawn', at: c.received_at });
      expect((await findActionKey(db, { unitCode: 'epb', caseId: c.id, action: 'return', key: 'k-2' }))?.access).toBe('withdrawn');
    } finally {
      await db.destroy();
    }
  });
});
