import { beforeAll, describe, expect, it } from 'vitest';
import type { ManualClock } from '../src/clock.js';
import { createPgDatabase } from './harness.js';
import { json, notificationsOf, seedCase, startWorkflowService, type Staff, type TestService } from './workflow-helpers.js';

/** Races are probabilistic: each one is run this many times. */
const ROUNDS = 5;

/**
 * The staff API's optimistic concurrency: `GET /api/v1/cases/{id}` answers the case's version as an ETag, and an
 * action sent with `If-Match` is done only while the case is still at that version (412 and nothing done
 * otherwise). Without the header the actions are done as before.
 */
describe.each([
  ['SQLite', async () => ({})],
  ['PostgreSQL', async () => ({ DATABASE_URL: await createPgDatabase('wfifmatch') })],
])('If-Match on staff actions on %s', (_engine, dbEnv) => {
  let service: TestService;
  let clock: ManualClock;
  let staff: Staff;

  beforeAll(async () => {
    ({ service, clock, staff } = await startWorkflowService('wfifmatch', await dbEnv()));
  }, 60_000);

  const seed = (text: string, o: Parameters<typeof seedCase>[2] = {}) => seedCase(service, clock, { text, ...o });

  function post(token: string, path: string, body: unknown, headers: Record<string, string> = {}) {
    return fetch(`${service.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
  }
  const get = (token: string, path: string, headers: Record<string, string> = {}) =>
    fetch(`${service.url}${path}`, { headers: { authorization: `Bearer ${token}`, ...headers } });

  async function etagOf(id: string, token = staff.dispatcher): Promise<string> {
    const res = await get(token, `/api/v1/cases/${id}`);
    expect(res.status).toBe(200);
    await res.body?.cancel();
    return res.headers.get('etag')!;
  }

  /** What an action must leave alone when refused: the version, the history and the notices. */
  async function stateOf(id: string) {
    const db = service.deps.db;
    const row = await db.selectFrom('cases').select(['version', 'status', 'supervised_at']).where('id', '=', id).executeTakeFirstOrThrow();
    const events = await db.selectFrom('case_events').select('id').where('case_id', '=', id).execute();
    const assignments = await db.selectFrom('assignments').select(['unit_code', 'status', 'supervised_at']).where('case_id', '=', id).orderBy('unit_code').execute();
    const extensions = await db.selectFrom('extension_requests').select(['id', 'status']).where('case_id', '=', id).orderBy('id').execute();
    return { row, events: events.length, assignments, extensions, notifications: (await notificationsOf(service, id)).length };
  }

  it("answers a case with its version as a strong ETag, for every staff role that reads it", async () => {
    const { id } = await seed('电镀厂偷排（ETag 测试）');
    const version = (await service.deps.db.selectFrom('cases').select('version').where('id', '=', id).executeTakeFirstOrThrow()).version;
    expect(await etagOf(id)).toBe(`"v${version}"`);
    expect(await etagOf(id, staff.epb)).toBe(`"v${version}"`);
  });

  it('does a supervision whose If-Match is the current ETag, and answers the ETag of the case it left', async () => {
    const { id } = await seed('电镀厂偷排（If-Match 督办）');
    const etag = await etagOf(id);
    const res = await post(staff.dispatcher, `/api/v1/cases/${id}/supervise`, { note: '请尽快办理' }, { 'if-match': etag });
    const r = await json(res);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.supervisedAt).not.toBeNull();
    const after = res.headers.get('etag');
    expect(after).not.toBe(etag);
    expect(after).toBe(await etagOf(id));
    expect((await notificationsOf(service, id)).filter((n) => n.kind === 'supervision')).toHaveLength(1);
  });

  it('refuses a retried supervision with the If-Match it was first sent with: 412, and nothing changes', async () => {
    const { id } = await seed('电镀厂偷排（重试督办）');
    const etag = await etagOf(id);
    expect((await post(staff.dispatcher, `/api/v1/cases/${id}/supervise`, { note: '请尽快办理' }, { 'if-match': etag })).status).toBe(200);
    const before = await stateOf(id);
    const r = await json(post(staff.dispatcher, `/api/v1/cases/${id}/supervise`, { note: '请尽快办理' }, { 'if-match': etag }));
    expect(r.status, JSON.stringify(r.body)).toBe(412);
    expect(r.body.error).toMatchObject({ code: 'precondition_failed', requestId: expect.any(String) });
    expect(Object.keys(r.body.error.fields)).toEqual(['If-Match']);
    expect(r.body.error.fields['If-Match']).toContain(await etagOf(id));
    expect(await stateOf(id)).toEqual(before);
    expect((await notificationsOf(service, id)).filter((n) => n.kind === 'supervision')).toHaveLength(1);

    // In Chinese for a client that prefers it; the code and the field name stay.
    const zh = await json(post(staff.dispatcher, `/api/v1/cases/${id}/supervise`, { note: '请尽快办理' }, { 'if-match': etag, 'accept-language': 'zh-CN' }));
    expect(zh.status).toBe(412);
    expect(zh.body.error.code).toBe('precondition_failed');
    expect(zh.body.error.message).toMatch(/\p{Script=Han}/u);
    expect(zh.body.error.fields['If-Match']).toMatch(/^不是案件的当前版本/);
  });

  it('lets exactly one of two simultaneous supervisions with the same If-Match through, with one notice', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const { id } = await seed(`电镀厂偷排（并发督办 ${round}）`);
      const etag = await etagOf(id);
      const responses = await Promise.all([1, 2].map(() => post(staff.dispatcher, `/api/v1/cases/${id}/supervise`, { note: '请尽快办理' }, { 'if-match': etag })));
      const answers = await Promise.all(responses.map((r) => json(r)));
      expect(answers.map((a) => a.status).sort(), JSON.stringify(answers.map((a) => a.body.error ?? null))).toEqual([200, 412]);
      expect(answers.find((a) => a.status === 412)!.body.error.code).toBe('precondition_failed');
      expect((await notificationsOf(service, id)).filter((n) => n.kind === 'supervision')).toHaveLength(1);
      const events = await service.deps.db.selectFrom('case_events').select('kind').where('case_id', '=', id).where('kind', '=', 'supervised').execute();
      expect(events).toHaveLength(1);
    }
  });

  it('does an action without If-Match, or with If-Match: *, as before', async () => {
    const { id } = await seed('电镀厂偷排（无 If-Match）');
    const first = await post(staff.dispatcher, `/api/v1/cases/${id}/supervise`, { note: '请尽快办理' });
    expect(first.status).toBe(200);
    expect(first.headers.get('etag')).toMatch(/^"v\d+"$/);
    expect((await post(staff.dispatcher, `/api/v1/cases/${id}/supervise`, { note: '再次督办' })).status).toBe(200);
    expect((await post(staff.dispatcher, `/api/v1/cases/${id}/supervise`, { note: '第三次督办' }, { 'if-match': '*' })).status).toBe(200);
    expect((await notificationsOf(service, id)).filter((n) => n.kind === 'supervision')).toHaveLength(3);
  });

  it('takes a list of entity tags, one of which must be the current one; a weak tag never matches', async () => {
    const { id } = await seed('电镀厂偷排（ETag 列表）');
    const etag = await etagOf(id);
    const before = await stateOf(id);
    const weak = await json(post(staff.dispatcher, `/api/v1/cases/${id}/supervise`, { note: '请尽快办理' }, { 'if-match': `W/${etag}` }));
    expect(weak.status, JSON.stringify(weak.body)).toBe(412);
    expect(await stateOf(id)).toEqual(before);
    const listed = await post(staff.dispatcher, `/api/v1/cases/${id}/supervise`, { note: '请尽快办理' }, { 'if-match': `"v999999", ${etag}` });
    expect(listed.status).toBe(200);
  });

  it.each(['v1', '"1"', '"v1', 'abc', '*, "v1"', '"v1",', '"v12345678901234567"'])('refuses a malformed If-Match (%s) with 400 naming it, nothing done', async (value) => {
    const { id } = await seed(`电镀厂偷排（坏 If-Match ${value}）`);
    const before = await stateOf(id);
    const r = await json(post(staff.dispatcher, `/api/v1/cases/${id}/supervise`, { note: '请尽快办理' }, { 'if-match': value }));
    expect(r.status, JSON.stringify(r.body)).toBe(400);
    expect(r.body.error.code).toBe('validation_failed');
    expect(Object.keys(r.body.error.fields)).toEqual(['If-Match']);
    expect(await stateOf(id)).toEqual(before);
  });

  it("answers 404, not 412, to a bureau acting on another unit's case", async () => {
    const { id } = await seed('电镀厂偷排（他单位 If-Match）', { jurisdiction: null, assignments: [{ unit: 'epb', role: 'lead' }] });
    const r = await json(post(staff.agri, `/api/v1/cases/${id}/accept`, {}, { 'if-match': '"v999"' }));
    expect(r.status).toBe(404);
  });

  it("checks If-Match on every bureau action, answering the new ETag", async () => {
    const { id } = await seed('电镀厂偷排（部门 If-Match）', { jurisdiction: null, assignments: [{ unit: 'epb', role: 'lead' }, { unit: 'econ', role: 'co' }] });
    const stale = await etagOf(id, staff.epb);
    const actions: Array<[string, string, unknown]> = [
      [staff.econ, 'return', { reason: 'not_our_remit', note: '不属于本单位' }],
      [staff.epb, 'accept', {}],
      [staff.epb, 'progress', { note: '已到现场' }],
      [staff.epb, 'extend', { workingDays: 5, reason: '需要检测' }],
      [staff.epb, 'reply', { text: '已责令整改' }],
    ];
    for (const [token, action, body] of actions) {
      const current = await etagOf(id, token);
      if (current !== stale) {
        const before = await stateOf(id);
        const refused = await json(post(token, `/api/v1/cases/${id}/${action}`, body, { 'if-match': stale }));
        expect(refused.status, `${action}: ${JSON.stringify(refused.body)}`).toBe(412);
        expect(refused.body.error.fields).toHaveProperty('If-Match');
        expect(await stateOf(id)).toEqual(before);
      }
      const done = await post(token, `/api/v1/cases/${id}/${action}`, body, { 'if-match': current });
      expect(done.status, `${action}: ${await done.clone().text()}`).toBe(action === 'extend' ? 201 : 200);
      await done.body?.cancel();
      expect(done.headers.get('etag'), action).toBe(await etagOf(id, token));
    }
  });

  it('checks If-Match on every dispatcher action', async () => {
    const other = await seed('电镀厂偷排（并案目标）');
    const { id } = await seed('电镀厂偷排（调度 If-Match）', { jurisdiction: null, assignments: [{ unit: 'epb', role: 'lead' }, { unit: 'econ', role: 'co' }] });
    const stale = await etagOf(id);
    expect((await post(staff.dispatcher, `/api/v1/cases/${id}/supervise`, { note: '先督办一次' })).status).toBe(200);
    const actions: Array<[string, unknown]> = [
      ['release', { unit: 'econ', reason: '不需要协办' }],
      ['route', { type: 'illegal_discharge', lead: 'epb', co: ['police'], reason: '请派出所协办' }],
      ['transfer', { reason: '非环境类' }],
      ['untransfer', { reason: '是环境类' }],
      ['merge', { into: other.id, reason: '重复' }],
      ['unmerge', { reason: '并错了' }],
      ['supervise', { note: '督办' }],
    ];
    for (const [action, body] of actions) {
      if (action === 'supervise') {
        // Back from triage to be supervised.
        expect((await post(staff.dispatcher, `/api/v1/cases/${id}/route`, { type: 'illegal_discharge', reason: '重新派发' })).status).toBe(200);
      }
      const before = await stateOf(id);
      const refused = await json(post(staff.dispatcher, `/api/v1/cases/${id}/${action}`, body, { 'if-match': stale }));
      expect(refused.status, `${action}: ${JSON.stringify(refused.body)}`).toBe(412);
      expect(await stateOf(id)).toEqual(before);
      const done = await post(staff.dispatcher, `/api/v1/cases/${id}/${action}`, body, { 'if-match': await etagOf(id) });
      expect(done.status, `${action}: ${await done.clone().text()}`).toBe(200);
      await done.body?.cancel();
      expect(done.headers.get('etag'), action).toBe(await etagOf(id));
    }
  });

  /** A case whose lead (epb) asked for more time: the request's id, waiting for a dispatcher. */
  async function withExtensionRequest(text: string): Promise<{ id: string; requestId: string }> {
    const { id } = await seed(text, { jurisdiction: null, assignments: [{ unit: 'epb', role: 'lead' }] });
    const r = await json(post(staff.epb, `/api/v1/cases/${id}/extend`, { workingDays: 5, reason: '需要检测' }));
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    return { id, requestId: r.body.id };
  }

  const decisions: Array<[string, unknown, string]> = [
    ['approve', {}, 'extended'],
    ['refuse', { note: '请按期办理' }, 'extension_refused'],
  ];

  it.each(decisions)("decides (%s) an extension request whose If-Match is its case's ETag, answering the case's new ETag", async (action, body, kind) => {
    const { id, requestId } = await withExtensionRequest(`电镀厂偷排（延期 If-Match ${action}）`);
    const etag = await etagOf(id);
    const res = await post(staff.dispatcher, `/api/v1/extensions/${requestId}/${action}`, body, { 'if-match': etag });
    const r = await json(res);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.status).toBe(action === 'approve' ? 'approved' : 'refused');
    const after = res.headers.get('etag');
    expect(after).not.toBe(etag);
    expect(after).toBe(await etagOf(id));
    const events = await service.deps.db.selectFrom('case_events').select('kind').where('case_id', '=', id).where('kind', '=', kind).execute();
    expect(events).toHaveLength(1);
  });

  it.each(decisions)('refuses to decide (%s) an extension request on a case changed since its If-Match: 412, the request still waiting', async (action, body) => {
    const { id, requestId } = await withExtensionRequest(`电镀厂偷排（过期延期 ${action}）`);
    const stale = await etagOf(id);
    // The unit signs for the case meanwhile: the case is at a later version.
    expect((await post(staff.epb, `/api/v1/cases/${id}/accept`, {})).status).toBe(200);
    const before = await stateOf(id);
    expect(before.extensions).toEqual([{ id: requestId, status: 'pending' }]);
    const r = await json(post(staff.dispatcher, `/api/v1/extensions/${requestId}/${action}`, body, { 'if-match': stale }));
    expect(r.status, JSON.stringify(r.body)).toBe(412);
    expect(r.body.error.code).toBe('precondition_failed');
    expect(Object.keys(r.body.error.fields)).toEqual(['If-Match']);
    expect(r.body.error.fields['If-Match']).toContain(await etagOf(id));
    expect(await stateOf(id)).toEqual(before);

    // A retry with the If-Match of a decision that went through is a 412 as well, not a second decision.
    const current = await etagOf(id);
    expect((await post(staff.dispatcher, `/api/v1/extensions/${requestId}/${action}`, body, { 'if-match': current })).status).toBe(200);
    const decided = await stateOf(id);
    const retry = await json(post(staff.dispatcher, `/api/v1/extensions/${requestId}/${action}`, body, { 'if-match': current }));
    expect(retry.status, JSON.stringify(retry.body)).toBe(412);
    expect(await stateOf(id)).toEqual(decided);
  });

  it.each(decisions)('refuses a malformed If-Match on an extension decision (%s) with 400 naming it, nothing done', async (action, body) => {
    const { id, requestId } = await withExtensionRequest(`电镀厂偷排（坏 If-Match 延期 ${action}）`);
    const before = await stateOf(id);
    const r = await json(post(staff.dispatcher, `/api/v1/extensions/${requestId}/${action}`, body, { 'if-match': 'v1' }));
    expect(r.status, JSON.stringify(r.body)).toBe(400);
    expect(r.body.error.code).toBe('validation_failed');
    expect(Object.keys(r.body.error.fields)).toEqual(['If-Match']);
    expect(await stateOf(id)).toEqual(before);
  });

  it.each(decisions)('decides an extension request (%s) without If-Match as before; a decided one is still a 409', async (action, body) => {
    const { id, requestId } = await withExtensionRequest(`电镀厂偷排（无 If-Match 延期 ${action}）`);
    const res = await post(staff.dispatcher, `/api/v1/extensions/${requestId}/${action}`, body);
    expect(res.status, await res.clone().text()).toBe(200);
    await res.body?.cancel();
    expect(res.headers.get('etag')).toBe(await etagOf(id));
    const again = await json(post(staff.dispatcher, `/api/v1/extensions/${requestId}/${action}`, body, { 'if-match': '*' }));
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('illegal_transition');
  });

  it('lets exactly one of two simultaneous approvals with the same If-Match through; the other is a 412', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const { id, requestId } = await withExtensionRequest(`电镀厂偷排（并发延期 ${round}）`);
      const etag = await etagOf(id);
      const responses = await Promise.all([1, 2].map(() => post(staff.dispatcher, `/api/v1/extensions/${requestId}/approve`, {}, { 'if-match': etag })));
      const answers = await Promise.all(responses.map((r) => json(r)));
      expect(answers.map((a) => a.status).sort(), JSON.stringify(answers.map((a) => a.body.error ?? null))).toEqual([200, 412]);
      expect(answers.find((a) => a.status === 412)!.body.error.code).toBe('precondition_failed');
      const events = await service.deps.db.selectFrom('case_events').select('kind').where('case_id', '=', id).where('kind', '=', 'extended').execute();
      expect(events).toHaveLength(1);
      expect((await notificationsOf(service, id)).filter((n) => n.kind === 'deadlines' && n.data?.why === 'extended')).toHaveLength(1);
    }
  });

  it('answers 304 Not Modified, with the ETag and no body, to a GET whose If-None-Match names the current version', async () => {
    const { id } = await seed('电镀厂偷排（If-None-Match 未变）');
    const etag = await etagOf(id);
    const full = await get(staff.dispatcher, `/api/v1/cases/${id}`);
    await full.body?.cancel();
    // The tag itself, its weak form (compared weakly), `*`, and a list holding it.
    for (const value of [etag, `W/${etag}`, '*', `"v999999", ${etag}`, `W/"v999999",${etag}`, `"abc", , ${etag}`]) {
      const res = await get(staff.dispatcher, `/api/v1/cases/${id}`, { 'if-none-match': value });
      expect(res.status, value).toBe(304);
      expect(res.headers.get('etag'), value).toBe(etag);
      expect(await res.text(), value).toBe('');
      // What a 200 would say of caching goes with the 304 too (RFC 9110 §15.4.5).
      expect(res.headers.get('cache-control'), value).toBe(full.headers.get('cache-control'));
    }
    const bureau = await get(staff.epb, `/api/v1/cases/${id}`, { 'if-none-match': etag });
    expect(bureau.status).toBe(304);
    expect(bureau.headers.get('etag')).toBe(etag);
  });

  it("answers a unit's withdrawn view of a merged case in full once it was released from, or given, the case it went into: never a 304 with a stale mergedInto", async () => {
    const duplicate = await seed('电镀厂偷排（并案后 If-None-Match 重复件）');
    const survivor = await seed('电镀厂偷排（并案后 If-None-Match 主件）');
    expect((await post(staff.dispatcher, `/api/v1/cases/${duplicate.id}/merge`, { into: survivor.id, reason: '重复举报' })).status).toBe(200);
    /** econ's view of the duplicate: the case it holds too, where its work goes on. */
    const econView = async (ifNoneMatch?: string) => {
      const res = await get(staff.econ, `/api/v1/cases/${duplicate.id}`, ifNoneMatch ? { 'if-none-match': ifNoneMatch } : {});
      return { status: res.status, etag: res.headers.get('etag')!, body: res.status === 200 ? ((await res.json()) as { access: string; mergedInto: { id: string } | null }) : null };
    };
    const held = await econView();
    expect(held.body).toMatchObject({ access: 'withdrawn', mergedInto: { id: survivor.id } });
    expect((await econView(held.etag)).status).toBe(304);
    const version = () => service.deps.db.selectFrom('cases').select('version').where('id', '=', duplicate.id).executeTakeFirstOrThrow();
    const before = (await version()).version;

    // Released from the survivor: the duplicate's own version stays, what econ may read of it does not.
    expect((await post(staff.dispatcher, `/api/v1/cases/${survivor.id}/release`, { unit: 'econ', reason: '无需参与' })).status).toBe(200);
    expect((await version()).version).toBe(before);
    const released = await econView(held.etag);
    expect(released.status).toBe(200);
    expect(released.body).toMatchObject({ access: 'withdrawn', mergedInto: null });
    expect(released.etag).not.toBe(held.etag);
    expect((await econView(released.etag)).status).toBe(304);

    // Given the survivor again: the link comes back, and so does a 200.
    const rerouted = await post(staff.dispatcher, `/api/v1/cases/${survivor.id}/route`, { type: 'illegal_discharge', lead: 'epb', co: ['econ'], reason: '仍需经信委协办' });
    expect(rerouted.status, await rerouted.clone().text()).toBe(200);
    const given = await econView(released.etag);
    expect(given.status).toBe(200);
    expect(given.body).toMatchObject({ mergedInto: { id: survivor.id } });

    // The tag still names the case's version: an action sent with it as If-Match is done while the case is at it.
    const unmerged = await post(staff.dispatcher, `/api/v1/cases/${duplicate.id}/unmerge`, { reason: '并非同一企业' }, { 'if-match': given.etag });
    expect(unmerged.status, await unmerged.clone().text()).toBe(200);
  });

  it('answers the case in full to a GET whose If-None-Match names another version only', async () => {
    const { id } = await seed('电镀厂偷排（If-None-Match 已变）');
    const stale = await etagOf(id);
    expect((await post(staff.dispatcher, `/api/v1/cases/${id}/supervise`, { note: '请尽快办理' })).status).toBe(200);
    const current = await etagOf(id);
    expect(current).not.toBe(stale);
    for (const value of [stale, `W/${stale}`, `"v999999", ${stale}`, '"abc"']) {
      const res = await get(staff.dispatcher, `/api/v1/cases/${id}`, { 'if-none-match': value });
      expect(res.status, value).toBe(200);
      expect(res.headers.get('etag'), value).toBe(current);
      const body = (await res.json()) as { id: string; supervisedAt: string | null };
      expect(body.id, value).toBe(id);
      expect(body.supervisedAt, value).not.toBeNull();
    }
  });

  it.each(['v1', '"v1', 'abc', '*, "v1"', 'W/v1', '"v1" "v2"'])('ignores a malformed If-None-Match (%s): the case in full', async (value) => {
    const { id } = await seed(`电镀厂偷排（坏 If-None-Match ${value}）`);
    const etag = await etagOf(id);
    const res = await get(staff.dispatcher, `/api/v1/cases/${id}`, { 'if-none-match': `${value}, ${etag}` });
    expect(res.status).toBe(200);
    expect(res.headers.get('etag')).toBe(etag);
    expect(((await res.json()) as { id: string }).id).toBe(id);
  });

  it("answers 404, never 304, to a bureau asking after another unit's case with If-None-Match", async () => {
    const { id } = await seed('电镀厂偷排（他单位 If-None-Match）', { jurisdiction: null, assignments: [{ unit: 'epb', role: 'lead' }] });
    const etag = await etagOf(id);
    for (const value of [etag, '*']) {
      const res = await get(staff.agri, `/api/v1/cases/${id}`, { 'if-none-match': value });
      expect(res.status, value).toBe(404);
      expect(res.headers.get('etag'), value).toBeNull();
      expect(((await res.json()) as { error: { code: string } }).error.code, value).toBe('not_found');
    }
    expect((await json(get(staff.agri, `/api/v1/cases/no-such-case`, { 'if-none-match': '*' }))).status).toBe(404);
  });

  it('documents the If-Match header, the 412 and the ETag in the OpenAPI document', async () => {
    const doc = (await (await fetch(`${service.url}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { parameters?: Array<{ name: string; in: string }>; responses: Record<string, { headers?: Record<string, unknown> }> }>>;
    };
    const getCase = doc.paths['/api/v1/cases/{id}']!.get!;
    expect(getCase.responses['200']!.headers).toHaveProperty('ETag');
    expect(getCase.parameters?.some((p) => p.in === 'header' && p.name.toLowerCase() === 'if-none-match')).toBe(true);
    expect(getCase.responses['304']!.headers).toHaveProperty('ETag');
    for (const action of ['accept', 'return', 'progress', 'reply', 'extend', 'route', 'merge', 'unmerge', 'transfer', 'untransfer', 'release', 'supervise']) {
      const op = doc.paths[`/api/v1/cases/{id}/${action}`]!.post!;
      expect(op.parameters?.some((p) => p.in === 'header' && p.name.toLowerCase() === 'if-match'), action).toBe(true);
      expect(op.responses, action).toHaveProperty('412');
      expect(op.responses[action === 'extend' ? '201' : '200']!.headers, action).toHaveProperty('ETag');
    }
    for (const action of ['approve', 'refuse']) {
      const op = doc.paths[`/api/v1/extensions/{id}/${action}`]!.post!;
      expect(op.parameters?.some((p) => p.in === 'header' && p.name.toLowerCase() === 'if-match'), action).toBe(true);
      expect(op.responses, action).toHaveProperty('412');
      expect(op.responses['200']!.headers, action).toHaveProperty('ETag');
    }
  });
});
