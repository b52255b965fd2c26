import { beforeAll, describe, expect, it } from 'vitest';
import { issueToken } from '../db/repositories/tokens.repository.js';
import { createUser } from '../db/repositories/users.repository.js';
import { createPgDatabase, startTestService, testEnv, waitFor } from './harness.js';
import { client, json, T0, type TestService } from './workflow-helpers.js';

/**
 * The hotline's data path on PostgreSQL: one call, its duplicate and its
 * conflict, a split call, and an import run twice (the rest of the hotline
 * behaviour is covered on SQLite in hotline.test.ts and hotline-import.test.ts).
 */

let service: TestService;
let token: string;
const transcript = (what: string) => `[00:00:02] 坐席：您好，12369环保举报热线。\n[00:00:05] 来电人：我要举报兴隆办事处那边一个厂子${what}，别说是我举报的。`;

beforeAll(async () => {
  service = (await startTestService(testEnv('hotline-pg', { DATABASE_URL: await createPgDatabase('hotline') }))) as TestService;
  const user = await createUser(service.deps.db, { name: '坐席小王', role: 'operator', unitCode: null, at: T0 });
  token = (await issueToken(service.deps.db, { userId: user.id, label: null, at: T0 })).token;
});

const count = async (table: 'cases' | 'hotline_calls' | 'hotline_call_cases') =>
  Number((await service.deps.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);

describe('hotline calls on PostgreSQL', () => {
  it('creates a case once per call id, and refuses a different transcript under it', async () => {
    const body = { hotline: '12369', callId: 'PG-1', startedAt: '2026-11-02T09:40:00+08:00', callerNumber: '13912340001', transcript: transcript('晚上往沟里偷排黑水') };
    const first = await json(client(service.url, token).post('/api/v1/hotline/calls', body));
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    const again = await json(client(service.url, token).post('/api/v1/hotline/calls', body));
    expect(again.status).toBe(200);
    // The same cases; their status is today's, so the pipeline may have moved them on already.
    expect(again.body.cases).toEqual(
      first.body.cases.map(({ status: _status, ...c }: { status: string }) => expect.objectContaining({ ...c, status: expect.stringMatching(/^(received|dispatched)$/) })),
    );
    const conflict = await client(service.url, token).post('/api/v1/hotline/calls', { ...body, transcript: transcript('烧垃圾') });
    expect(conflict.status).toBe(409);
    expect(await count('cases')).toBe(1);
    const id = first.body.cases[0].id as string;
    await waitFor(async () => (await service.deps.db.selectFrom('cases').select('status').where('id', '=', id).executeTakeFirst())?.status === 'dispatched');
    const c = await service.deps.db.selectFrom('cases').select(['channel', 'anonymous', 'text']).where('id', '=', id).executeTakeFirstOrThrow();
    expect(c).toMatchObject({ channel: 'hotline12369', anonymous: 1 });
    expect(c.text).not.toContain('坐席');
    const contact = await service.deps.db.selectFrom('case_contacts').selectAll().where('case_id', '=', id).executeTakeFirstOrThrow();
    expect(contact.phone).toBe('13912340001');
  });

  it('splits a two-problem call into two linked cases', async () => {
    const res = await json(
      client(service.url, token).post('/api/v1/hotline/calls', {
        hotline: '12345',
        callId: 'PG-2',
        startedAt: '2026-11-02T10:00:00+08:00',
        transcript: transcript('偷排废水，旁边工地半夜施工噪音也大'),
        parts: [{ text: '兴隆办事处那边一个厂子偷排废水' }, { text: '旁边工地半夜施工噪音扰民', type: 'noise' }],
      }),
    );
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.cases).toHaveLength(2);
    const links = await service.deps.db.selectFrom('hotline_call_cases').select('case_id').where('case_id', 'in', res.body.cases.map((c: { id: string }) => c.id)).execute();
    expect(links).toHaveLength(2);
  });

  it('imports NDJSON exactly once, rejecting the bad line without stopping the good ones', async () => {
    const lines = [
      JSON.stringify({ hotline: '12369', callId: 'PG-IMP-1', startedAt: '2026-11-02T11:00:00+08:00', transcript: transcript('往河里排污水') }),
      '{"hotline": "12369", "callId": ',
      JSON.stringify({ hotline: '12369', callId: 'PG-IMP-2', startedAt: '2026-11-02T11:05:00+08:00', transcript: transcript('烧垃圾冒黑烟') }),
    ].join('\n');
    const run = async () => {
      const res = await fetch(`${service.url}/api/v1/hotline/calls:import`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-ndjson' },
        body: lines,
      });
      expect(res.status).toBe(200);
      return (await res.text()).trim().split('\n').map((l) => JSON.parse(l) as { line?: number; status?: string; summary?: Record<string, number> });
    };
    const before = await count('cases');
    const first = await run();
    expect(first.filter((r) => r.status).map((r) => [r.line, r.status])).toEqual([
      [1, 'created'],
      [2, 'rejected'],
      [3, 'created'],
    ]);
    const second = await run();
    expect(second.filter((r) => r.status).map((r) => r.status)).toEqual(['duplicate', 'rejected', 'duplicate']);
    expect(await count('cases')).toBe(before + 2);
    expect(await count('hotline_calls')).toBeGreaterThanOrEqual(4);
  });

  it('names a NUL character or bytes that are not UTF-8 as bad text, in one call or one import line, and creates nothing for it', async () => {
    const before = await count('cases');
    const nul = await json(
      client(service.url, token).post('/api/v1/hotline/calls', { hotline: '12369', callId: 'PG-NUL-1', startedAt: '2026-11-02T12:00:00+08:00', transcript: transcript('排\u0000污水') }),
    );
    expect(nul.status).toBe(400);
    expect(nul.body.error.fields).toEqual({ transcript: 'must not contain NUL characters' });
    // A transcript sent as text/plain in GB 18030 without saying so.
    const gb = Buffer.from([0xc0, 0xb4, 0xb5, 0xe7, 0xc8, 0xcb, 0xa3, 0xba, 0xc5, 0xc5, 0xce, 0xdb]);
    const plain = await fetch(`${service.url}/api/v1/hotline/calls?hotline=12369&callId=PG-GB-1&startedAt=2026-11-02T12:01:00%2B08:00`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'text/plain' },
      body: gb,
    });
    const plainBody = (await plain.json()) as { error: { fields: Record<string, string> } };
    expect(plain.status, JSON.stringify(plainBody)).toBe(400);
    expect(plainBody.error.fields.transcript).toContain('UTF-8');

    const lines = [
      JSON.stringify({ hotline: '12369', callId: 'PG-NUL-2', startedAt: '2026-11-02T12:02:00+08:00', transcript: transcript('往沟里\u0000排废水') }),
      JSON.stringify({ hotline: '12369', callId: 'PG-NUL-3', startedAt: '2026-11-02T12:03:00+08:00', transcript: transcript('半夜烧电缆') }),
    ].join('\n');
    const res = await fetch(`${service.url}/api/v1/hotline/calls:import`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-ndjson' },
      body: lines,
    });
    expect(res.status).toBe(200);
    const results = (await res.text()).trim().split('\n').map((l) => JSON.parse(l) as { line?: number; status?: string });
    expect(results.filter((r) => r.status).map((r) => [r.line, r.status])).toEqual([
      [1, 'rejected'],
      [2, 'created'],
    ]);
    expect(await count('cases')).toBe(before + 1);
  });

  it('keeps a call with English labels, a local start and a caller number with an extension, and knows it again by its main number', async () => {
    const body = {
      hotline: '12369',
      callId: 'PG-EN-1',
      startedAt: '2026-11-02 09:45:00',
      callerNumber: '0731-84446666转123',
      transcript: 'Operator: 您好，12369环保举报热线。\nCALLER: 兴隆办事处那边一个厂子晚上往沟里偷排黑水。\nAgent 2: 好的。',
    };
    const first = await json(client(service.url, token).post('/api/v1/hotline/calls', body));
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    const record = await json(client(service.url, token).get('/api/v1/hotline/calls/12369/PG-EN-1'));
    expect(record.body).toMatchObject({ startedAt: '2026-11-02T01:45:00.000Z', callerNumber: '073184446666转123' });
    const id = first.body.cases[0].id as string;
    const c = await service.deps.db.selectFrom('cases').select(['text', 'received_at']).where('id', '=', id).executeTakeFirstOrThrow();
    expect(c).toEqual({ text: '兴隆办事处那边一个厂子晚上往沟里偷排黑水。', received_at: '2026-11-02T01:45:00.000Z' });
    const again = await json(client(service.url, token).post('/api/v1/hotline/calls', { ...body, startedAt: '2026-11-02T09:45:00+08:00', callerNumber: '0731-84446666' }));
    expect(again.status, JSON.stringify(again.body)).toBe(200);
    expect(again.body.result).toBe('duplicate');
  });
});
