import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ManualClock } from '../src/clock.js';
import { createPgDatabase, tempDir } from './harness.js';
import { openApiChecker, type OpenApiChecker } from './openapi-check.js';
import { notificationsOf, seedCase, startWorkflowService, type Staff, type TestService } from './workflow-helpers.js';

const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);

/**
 * A bureau's system that sends an action on a case and loses the answer on the way tries again. With an
 * `Idempotency-Key` the retry is answered as the first try was — its status, ETag and body, `Idempotent-Replayed:
 * true` — and nothing is done twice; without one it is refused as an action on a case that moved on, as always.
 */
describe.each([
  ['SQLite', async () => ({})],
  ['PostgreSQL', async () => ({ DATABASE_URL: await createPgDatabase('wfbretry') })],
])('retried bureau actions on %s', (_engine, dbEnv) => {
  let service: TestService;
  let clock: ManualClock;
  let staff: Staff;
  let openapi: OpenApiChecker;
  const uploads = tempDir('intake-retry-uploads-');

  beforeAll(async () => {
    ({ service, clock, staff } = await startWorkflowService('wfbretry', { ...(await dbEnv()), UPLOAD_DIR: uploads }));
    openapi = await openApiChecker(service.url);
  }, 60_000);

  /** An action over HTTP, its answer checked against the OpenAPI document. */
  async function act(token: string, path: string, body: unknown, headers: Record<string, string> = {}) {
    const url = `${service.url}${path}`;
    const res = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, ...(body instanceof FormData ? {} : { 'content-type': 'application/json' }), ...headers },
      body: body instanceof FormData ? body : JSON.stringify(body),
    });
    expect(await openapi.check('POST', url, res)).toEqual([]);
    const text = await res.text();
    return { status: res.status, text, body: JSON.parse(text) as any, etag: res.headers.get('etag'), replayed: res.headers.get('idempotent-replayed') };
  }

  /** What a retry must not repeat: the case's version and status, its events, notices, assignments and requests. */
  async function stateOf(id: string) {
    const db = service.deps.db;
    const row = await db.selectFrom('cases').select(['version', 'status']).where('id', '=', id).executeTakeFirstOrThrow();
    const events = await db.selectFrom('case_events').select('kind').where('case_id', '=', id).orderBy('id').execute();
    const assignments = await db.selectFrom('assignments').select(['unit_code', 'status']).where('case_id', '=', id).orderBy('unit_code').execute();
    const extensions = await db.selectFrom('extension_requests').select(['id', 'status']).where('case_id', '=', id).orderBy('id').execute();
    const attachments = await db.selectFrom('case_attachments').select('id').where('case_id', '=', id).execute();
    return { row, events: events.map((e) => e.kind), assignments, extensions, attachments: attachments.length, notifications: (await notificationsOf(service, id)).map((n) => `${n.audience} ${n.kind}`) };
  }

  /** A case whose only unit is the environmental bureau, signed for: its reply ends the bureau phase. */
  async function signedFor(text: string) {
    const { id } = await seedCase(service, clock, { text, assignments: [{ unit: 'epb', role: 'lead' }] });
    expect((await act(staff.epb, `/api/v1/cases/${id}/accept`, {})).status).toBe(200);
    return id;
  }

  it('answers a retried reply with the first answer, and replies, records and notifies once', async () => {
    const id = await signedFor('电镀厂偷排（答复重试）');
    const key = { 'idempotency-key': 'reply-7f3e2a90' };
    const first = await act(staff.epb, `/api/v1/cases/${id}/reply`, { text: '经查，该厂已停产整改。' }, key);
    expect(first.status, first.text).toBe(200);
    expect(first.replayed).toBeNull();
    expect(first.body.status).toBe('replied');
    expect(first.etag).toMatch(/^"v\d+"$/);
    const after = await stateOf(id);

    // The answer was lost; the retry comes after the case moved on, and with the If-Match the first try was sent with.
    const retried = await act(staff.epb, `/api/v1/cases/${id}/reply`, { text: '经查，该厂已停产整改。' }, key);
    expect(retried.status, retried.text).toBe(200);
    expect(retried.replayed).toBe('true');
    expect(retried.etag).toBe(first.etag);
    expect(retried.text).toBe(first.text);
    expect(await stateOf(id)).toEqual(after);
    expect(after.events.filter((k) => k === 'reply')).toHaveLength(1);
    expect(after.notifications.filter((n) => n === 'reporter replied')).toHaveLength(1);

    // Another account of the same unit (its system's other token) sending the same key is the same retry.
    const colleague = await act(staff.epb2, `/api/v1/cases/${id}/reply`, { text: '经查，该厂已停产整改。' }, key);
    expect(colleague.replayed).toBe('true');
    expect(colleague.text).toBe(first.text);
    expect(await stateOf(id)).toEqual(after);
  });

  it('refuses the same key with another reply: 409 idempotency_key_reused naming the header, nothing done', async () => {
    const id = await signedFor('电镀厂偷排（答复换内容）');
    const key = { 'idempotency-key': 'reply-reused-1' };
    expect((await act(staff.epb, `/api/v1/cases/${id}/reply`, { text: '经查，该厂已停产整改。' }, key)).status).toBe(200);
    const before = await stateOf(id);
    const other = await act(staff.epb, `/api/v1/cases/${id}/reply`, { text: '经查，情况属实，已立案。' }, key);
    expect(other.status, other.text).toBe(409);
    expect(other.replayed).toBeNull();
    expect(other.body.error).toMatchObject({ code: 'idempotency_key_reused', fields: { 'Idempotency-Key': 'already used for another reply' } });
    expect(await stateOf(id)).toEqual(before);

    // In Chinese for a client that asks for it; the code and the field's name stay.
    const zh = await act(staff.epb, `/api/v1/cases/${id}/reply`, { text: '经查，情况属实，已立案。' }, { ...key, 'accept-language': 'zh-CN' });
    expect(zh.status).toBe(409);
    expect(zh.body.error.code).toBe('idempotency_key_reused');
    expect(zh.body.error.fields['Idempotency-Key']).toMatch(/答复/);
  });

  it("never answers one unit with another unit's answer under the same key: the co-handler's reply is its own", async () => {
    const { id } = await seedCase(service, clock, { text: '电镀厂偷排（两个单位同一个键）', assignments: [{ unit: 'epb', role: 'lead' }, { unit: 'econ', role: 'co' }] });
    const key = { 'idempotency-key': 'same-key-both-units' };
    for (const token of [staff.epb, staff.econ]) expect((await act(token, `/api/v1/cases/${id}/accept`, {}, { 'idempotency-key': 'sign-1' })).replayed).toBeNull();
    const lead = await act(staff.epb, `/api/v1/cases/${id}/reply`, { text: '牵头单位：已责令停产。' }, key);
    expect(lead.status, lead.text).toBe(200);
    const co = await act(staff.econ, `/api/v1/cases/${id}/reply`, { text: '牵头单位：已责令停产。' }, key);
    expect(co.status, co.text).toBe(200);
    expect(co.replayed).toBeNull();
    expect(co.text).not.toBe(lead.text);
    expect(co.body.status).toBe('replied');
    const state = await stateOf(id);
    expect(state.assignments).toEqual([
      { unit_code: 'econ', status: 'replied' },
      { unit_code: 'epb', status: 'replied' },
    ]);
    expect(state.events.filter((k) => k === 'reply')).toHaveLength(2);

    // A unit with no part in the case learns nothing from a key another unit used on it: the case is not found.
    const stranger = await act(staff.agri, `/api/v1/cases/${id}/reply`, { text: '牵头单位：已责令停产。' }, key);
    expect(stranger.status, stranger.text).toBe(404);
    expect(stranger.body.error.code).toBe('not_found');
  });

  it('does as before without a key: the retry of a reply is refused as the case moved on, with no replay', async () => {
    const id = await signedFor('电镀厂偷排（无键重试）');
    const first = await act(staff.epb, `/api/v1/cases/${id}/reply`, { text: '经查，该厂已停产整改。' });
    expect(first.status, first.text).toBe(200);
    expect(first.replayed).toBeNull();
    const after = await stateOf(id);
    const retried = await act(staff.epb, `/api/v1/cases/${id}/reply`, { text: '经查，该厂已停产整改。' });
    expect(retried.status, retried.text).toBe(409);
    expect(retried.replayed).toBeNull();
    expect(retried.body.error.code).toBe('illegal_transition');
    expect(await stateOf(id)).toEqual(after);
  });

  it('replays a retried signature, return, progress note and extension request, each once done', async () => {
    const { id } = await seedCase(service, clock, { text: '电镀厂偷排（各种动作重试）', assignments: [{ unit: 'epb', role: 'lead' }, { unit: 'econ', role: 'co' }] });
    const steps: Array<[string, string, unknown]> = [
      [staff.epb, 'accept', {}],
      [staff.econ, 'return', { reason: 'not_our_remit', note: '不属于本单位职责' }],
      [staff.epb, 'progress', { note: '已到现场检查', public: true }],
      [staff.epb, 'extend', { workingDays: 5, reason: '等待检测报告' }],
    ];
    for (const [token, action, body] of steps) {
      const path = `/api/v1/cases/${id}/${action}`;
      const key = { 'idempotency-key': `${action}-once` };
      const first = await act(token, path, body, key);
      expect(first.status, `${action}: ${first.text}`).toBe(action === 'extend' ? 201 : 200);
      const after = await stateOf(id);
      const retried = await act(token, path, body, key);
      expect(retried.status, `${action}: ${retried.text}`).toBe(first.status);
      expect(retried.replayed, action).toBe('true');
      expect(retried.etag, action).toBe(first.etag);
      expect(retried.text, action).toBe(first.text);
      expect(await stateOf(id), action).toEqual(after);
    }
    const state = await stateOf(id);
    expect(state.events.filter((k) => k === 'progress')).toHaveLength(1);
    expect(state.extensions).toHaveLength(1);
    expect(state.notifications.filter((n) => n === 'reporter accepted')).toHaveLength(1);
    expect(state.notifications.filter((n) => n === 'dispatchers returned')).toHaveLength(1);
    expect(state.notifications.filter((n) => n === 'dispatchers extension_requested')).toHaveLength(1);

    // The key is the action's own: the same key on another action of the case names nothing of the first.
    const other = await act(staff.epb, `/api/v1/cases/${id}/progress`, { note: '已取样送检', public: false }, { 'idempotency-key': 'extend-once' });
    expect(other.status, other.text).toBe(200);
    expect(other.replayed).toBeNull();
  });

  it('replays to a unit only what it may still read: released from the case, its retried signature is a 404; its return is still its own', async () => {
    const { id } = await seedCase(service, clock, {
      text: '电镀厂偷排（退出后重试）',
      assignments: [{ unit: 'epb', role: 'lead' }, { unit: 'econ', role: 'co' }, { unit: 'agri', role: 'co' }],
    });
    const signed = await act(staff.econ, `/api/v1/cases/${id}/accept`, {}, { 'idempotency-key': 'sign-then-released' });
    expect(signed.status, signed.text).toBe(200);
    expect(signed.body.text).toContain('电镀厂偷排');
    const returned = await act(staff.agri, `/api/v1/cases/${id}/return`, { reason: 'not_our_remit', note: '不属于本单位职责' }, { 'idempotency-key': 'return-once' });
    expect(returned.status, returned.text).toBe(200);
    const desk = await act(staff.dispatcher, `/api/v1/cases/${id}/release`, { unit: 'econ', reason: '无需参与' });
    expect(desk.status, desk.text).toBe(200);
    const after = await stateOf(id);
    // The signature's answer showed the reporter's words: no longer econ's to read, as the case's page says.
    const retried = await act(staff.econ, `/api/v1/cases/${id}/accept`, {}, { 'idempotency-key': 'sign-then-released' });
    expect(retried.status, retried.text).toBe(404);
    expect(retried.body.error.code).toBe('not_found');
    expect(retried.replayed).toBeNull();
    expect(retried.text).not.toContain('电镀厂偷排');
    const page = await fetch(`${service.url}/api/v1/cases/${id}`, { headers: { authorization: `Bearer ${staff.econ}` } });
    expect(((await page.json()) as { access?: string }).access).toBe('withdrawn');
    // A unit that never had the case is told of none, whatever its key.
    expect((await act(staff.police, `/api/v1/cases/${id}/accept`, {}, { 'idempotency-key': 'sign-then-released' })).status).toBe(404);
    // agri's return answered it as a unit without the case: its retry is still answered so.
    const again = await act(staff.agri, `/api/v1/cases/${id}/return`, { reason: 'not_our_remit', note: '不属于本单位职责' }, { 'idempotency-key': 'return-once' });
    expect(again.status, again.text).toBe(200);
    expect(again.replayed).toBe('true');
    expect(again.text).toBe(returned.text);
    expect(await stateOf(id)).toEqual(after);
  });

  it('answers two simultaneous tries of one reply with one reply, the later one a replay of the other', async () => {
    for (let round = 0; round < 3; round++) {
      const id = await signedFor(`电镀厂偷排（同时重试 ${round}）`);
      const key = { 'idempotency-key': `together-${round}` };
      const answers = await Promise.all([1, 2].map(() => act(staff.epb, `/api/v1/cases/${id}/reply`, { text: '经查，该厂已停产整改。' }, key)));
      expect(answers.map((a) => a.status), answers.map((a) => a.text).join('\n')).toEqual([200, 200]);
      expect(answers.map((a) => a.replayed).sort()).toEqual(['true', null].sort());
      expect(answers[0]!.text).toBe(answers[1]!.text);
      const state = await stateOf(id);
      expect(state.events.filter((k) => k === 'reply')).toHaveLength(1);
      expect(state.notifications.filter((n) => n === 'reporter replied')).toHaveLength(1);
    }
  });

  it('keeps the files of a retried reply with attachments once: the retry stores none', async () => {
    const id = await signedFor('电镀厂偷排（附件答复重试）');
    const form = () => {
      const f = new FormData();
      f.append('text', '现场检查照片见附件。');
      f.append('attachments', new File([PNG], '现场.png', { type: 'image/png' }));
      return f;
    };
    const key = { 'idempotency-key': 'reply-with-photo' };
    const first = await act(staff.epb, `/api/v1/cases/${id}/reply`, form(), key);
    expect(first.status, first.text).toBe(200);
    const retried = await act(staff.epb, `/api/v1/cases/${id}/reply`, form(), key);
    expect(retried.replayed).toBe('true');
    expect(retried.text).toBe(first.text);
    expect((await stateOf(id)).attachments).toBe(1);
    expect(await readdir(join(uploads, 'replies', id))).toHaveLength(1);

    // Another file under the same key is another reply.
    const changed = form();
    changed.set('attachments', new File([PNG, new Uint8Array([1])], '现场.png', { type: 'image/png' }));
    const other = await act(staff.epb, `/api/v1/cases/${id}/reply`, changed, key);
    expect(other.status, other.text).toBe(409);
    expect(other.body.error.code).toBe('idempotency_key_reused');
    expect(await readdir(join(uploads, 'replies', id))).toHaveLength(1);
  });
});
