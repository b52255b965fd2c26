import { beforeAll, describe, expect, it } from 'vitest';
import { issueToken } from '../db/repositories/tokens.repository.js';
import { createUser } from '../db/repositories/users.repository.js';
import { ManualClock } from '../src/clock.js';
import { loadDistrictFile } from '../src/district/district-file.js';
import { createRuleClassifier } from '../src/pipeline/rule-classifier.js';
import { startTestService, testEnv } from './harness.js';
import { T0, type TestService } from './workflow-helpers.js';

/**
 * The query of the hotline routes: it carries a call's fields beside a text/plain transcript only. With a JSON
 * call or an import, a query parameter is a 400 naming it (README: never ignored) — a JSON call sent with
 * ?review=true or ?anonymous=true would otherwise be created, and its caller named.
 */
describe('query parameters on the hotline routes', () => {
  let service: TestService;
  let token: string;
  beforeAll(async () => {
    const district = loadDistrictFile();
    service = await startTestService(testEnv('hotlineq'), 'api', { clock: new ManualClock(T0), district, classifier: createRuleClassifier(district) });
    const user = await createUser(service.deps.db, { name: '坐席小王', role: 'operator', unitCode: null, at: T0 });
    token = (await issueToken(service.deps.db, { userId: user.id, label: null, at: T0 })).token;
  });

  const call = (callId: string) => ({
    hotline: '12369',
    callId,
    startedAt: '2026-11-02T09:40:00+08:00',
    callerNumber: '13912340001',
    transcript: '坐席：请讲。\n来电人：李家塘路边有人烧垃圾，别说是我。',
  });
  const countCalls = async () => Number((await service.deps.db.selectFrom('hotline_calls').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);

  it('refuses a JSON call with query parameters, naming each, and creates nothing', async () => {
    const before = await countCalls();
    const res = await fetch(`${service.url}/api/v1/hotline/calls?review=true&anonymous=true`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(call(`Q-${process.pid}-1`)),
    });
    const body = (await res.json()) as { error: { code: string; fields: Record<string, string> } };
    expect(res.status, JSON.stringify(body)).toBe(400);
    expect(body.error.code).toBe('validation_failed');
    expect(body.error.fields).toEqual({ review: 'unknown query parameter', anonymous: 'unknown query parameter' });
    expect(await countCalls()).toBe(before);
  });

  it('still takes the fields from the query beside a text/plain transcript', async () => {
    const q = new URLSearchParams({ hotline: '12369', callId: `Q-${process.pid}-2`, startedAt: '2026-11-02T09:40:00+08:00', review: 'true' });
    const res = await fetch(`${service.url}/api/v1/hotline/calls?${q}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'text/plain' },
      body: '坐席：请讲。\n来电人：李家塘路边有人烧垃圾。',
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { review: boolean }).review).toBe(true);
  });

  it('takes a start whose offset\'s + was sent unencoded in the query, which decodes it as a space', async () => {
    const callId = `Q-${process.pid}-plus`;
    // As curl sends ?startedAt=2026-11-02T09:40:00+08:00 typed into its URL.
    const res = await fetch(`${service.url}/api/v1/hotline/calls?hotline=12369&callId=${callId}&startedAt=2026-11-02T09:40:00+08:00`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'text/plain' },
      body: '坐席：请讲。\n来电人：李家塘路边有人烧垃圾。',
    });
    expect(res.status, await res.clone().text()).toBe(201);
    const row = await service.deps.db.selectFrom('hotline_calls').select('started_at').where('call_id', '=', callId).executeTakeFirstOrThrow();
    expect(row.started_at).toBe('2026-11-02T01:40:00.000Z');
  });

  it('refuses an import with a query parameter, naming it, and imports nothing', async () => {
    const before = await countCalls();
    const res = await fetch(`${service.url}/api/v1/hotline/calls:import?format=csv`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-ndjson' },
      body: `${JSON.stringify(call(`Q-${process.pid}-3`))}\n`,
    });
    const body = (await res.json()) as { error: { code: string; fields: Record<string, string> } };
    expect(res.status, JSON.stringify(body)).toBe(400);
    expect(body.error.fields).toEqual({ format: 'unknown query parameter' });
    expect(await countCalls()).toBe(before);
  });
});
