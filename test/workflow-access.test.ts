import { beforeAll, describe, expect, it } from 'vitest';
import type { ManualClock } from '../src/clock.js';
import { caseReference } from '../src/domain/case.js';
import { insertDeliveries } from '../db/repositories/deliveries.repository.js';
import { appendEvents } from '../db/repositories/events.repository.js';
import { documentProblems, openApiChecker, type OpenApiChecker } from './openapi-check.js';
import { client, json, seedCase, startWorkflowService, type Staff, type TestService } from './workflow-helpers.js';

/**
 * Every endpoint of the bureau and dispatcher work, called by every role:
 * no token → 401; a role without the right → 403; a bureau on another
 * unit's case → 404 (existence does not leak); the right role → 2xx.
 */

type Who = 'none' | 'operator' | 'ownBureau' | 'otherBureau' | 'dispatcher' | 'admin';
const WHO: Who[] = ['none', 'operator', 'ownBureau', 'otherBureau', 'dispatcher', 'admin'];

const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);

interface Ctx {
  id: string;
  photoId: string | null;
  extensionId: string | null;
  intoId: string | null;
}

interface Endpoint {
  name: string;
  /** Puts a fresh case in the state the call needs. */
  setup?: (h: Harness, caseId: string) => Promise<Partial<Ctx>>;
  call: (c: ReturnType<typeof client>, ctx: Ctx) => Promise<Response>;
  expected: Record<Who, number>;
}

interface Harness {
  service: TestService;
  clock: ManualClock;
  staff: Staff;
}

const readAll = { none: 401, operator: 200, ownBureau: 200, otherBureau: 404, dispatcher: 200, admin: 200 };
const bureauAct = (ok: number) => ({ none: 401, operator: 403, ownBureau: ok, otherBureau: 404, dispatcher: 403, admin: 403 });
const deskAct = (ok: number) => ({ none: 401, operator: 403, ownBureau: 403, otherBureau: 403, dispatcher: ok, admin: ok });
/** The hotline's operations: the call centre's staff (operators, dispatchers, admins), never a bureau. */
const hotlineAct = (ok: number) => ({ none: 401, operator: ok, ownBureau: 403, otherBureau: 403, dispatcher: ok, admin: ok });
/** A 12369 call of its own for each caller (its id taken from the fresh case's), so each may be created. */
const hotlineCall = (key: string) => ({
  hotline: '12369',
  callId: `ACCESS-${key}`,
  startedAt: '2026-11-02T09:00:00+08:00',
  transcript: '坐席：您好，请讲。\n来电人：兴隆办事处盐下村有个厂子往河里排黑水。',
});

async function accepted(h: Harness, caseId: string): Promise<Partial<Ctx>> {
  const res = await client(h.service.url, h.staff.epb).post(`/api/v1/cases/${caseId}/accept`);
  expect(res.status).toBe(200);
  return {};
}

async function extensionRequested(h: Harness, caseId: string): Promise<Partial<Ctx>> {
  const res = await json<{ id: string }>(client(h.service.url, h.staff.epb).post(`/api/v1/cases/${caseId}/extend`, { workingDays: 2, reason: '需检测' }));
  expect(res.status).toBe(201);
  return { extensionId: res.body.id };
}

const ENDPOINTS: Endpoint[] = [
  { name: 'GET /api/v1/cases', call: (c) => c.get('/api/v1/cases'), expected: { ...readAll, otherBureau: 200 } },
  { name: 'GET /api/v1/cases/:id', call: (c, x) => c.get(`/api/v1/cases/${x.id}`), expected: readAll },
  { name: 'GET /api/v1/cases/:id/photos/:photoId', call: (c, x) => c.get(`/api/v1/cases/${x.id}/photos/${x.photoId}`), expected: readAll },
  { name: 'POST /api/v1/cases/:id/accept', call: (c, x) => c.post(`/api/v1/cases/${x.id}/accept`), expected: bureauAct(200) },
  {
    name: 'POST /api/v1/cases/:id/return',
    call: (c, x) => c.post(`/api/v1/cases/${x.id}/return`, { reason: 'not_our_remit', note: '非本单位职责' }),
    expected: bureauAct(200),
  },
  { name: 'POST /api/v1/cases/:id/progress', setup: accepted, call: (c, x) => c.post(`/api/v1/cases/${x.id}/progress`, { note: '已到现场' }), expected: bureauAct(200) },
  { name: 'POST /api/v1/cases/:id/reply', setup: accepted, call: (c, x) => c.post(`/api/v1/cases/${x.id}/reply`, { text: '已处理' }), expected: bureauAct(200) },
  { name: 'POST /api/v1/cases/:id/extend', call: (c, x) => c.post(`/api/v1/cases/${x.id}/extend`, { workingDays: 3, reason: '需检测' }), expected: bureauAct(201) },
  { name: 'GET /api/v1/triage', call: (c) => c.get('/api/v1/triage'), expected: deskAct(200) },
  { name: 'POST /api/v1/cases/:id/route', call: (c, x) => c.post(`/api/v1/cases/${x.id}/route`, { type: 'noise', reason: '改派' }), expected: deskAct(200) },
  {
    name: 'POST /api/v1/cases/:id/merge',
    setup: async (h) => ({ intoId: (await seedCase(h.service, h.clock)).id }),
    call: (c, x) => c.post(`/api/v1/cases/${x.id}/merge`, { into: x.intoId, reason: '重复' }),
    expected: deskAct(200),
  },
  {
    name: 'POST /api/v1/cases/:id/unmerge',
    setup: async (h, caseId) => {
      const into = await seedCase(h.service, h.clock);
      expect((await client(h.service.url, h.staff.dispatcher).post(`/api/v1/cases/${caseId}/merge`, { into: into.id, reason: '重复' })).status).toBe(200);
      return {};
    },
    call: (c, x) => c.post(`/api/v1/cases/${x.id}/unmerge`, { reason: '并错了' }),
    expected: deskAct(200),
  },
  { name: 'POST /api/v1/cases/:id/transfer', call: (c, x) => c.post(`/api/v1/cases/${x.id}/transfer`, { reason: '非环境类' }), expected: deskAct(200) },
  {
    name: 'POST /api/v1/cases/:id/untransfer',
    setup: async (h, caseId) => {
      expect((await client(h.service.url, h.staff.dispatcher).post(`/api/v1/cases/${caseId}/transfer`, { reason: '非环境类' })).status).toBe(200);
      return {};
    },
    call: (c, x) => c.post(`/api/v1/cases/${x.id}/untransfer`, { reason: '属环境问题' }),
    expected: deskAct(200),
  },
  { name: 'POST /api/v1/cases/:id/release', call: (c, x) => c.post(`/api/v1/cases/${x.id}/release`, { unit: 'econ', reason: '无需参与' }), expected: deskAct(200) },
  { name: 'POST /api/v1/cases/:id/supervise', call: (c, x) => c.post(`/api/v1/cases/${x.id}/supervise`, { note: '请加快' }), expected: deskAct(200) },
  {
    name: 'POST /api/v1/extensions/:id/approve',
    setup: extensionRequested,
    call: (c, x) => c.post(`/api/v1/extensions/${x.extensionId}/approve`, { note: '同意' }),
    expected: deskAct(200),
  },
  {
    name: 'POST /api/v1/extensions/:id/refuse',
    setup: extensionRequested,
    call: (c, x) => c.post(`/api/v1/extensions/${x.extensionId}/refuse`, { note: '不同意' }),
    expected: deskAct(200),
  },
  { name: 'POST /api/v1/cases/:id/redeliver', call: (c, x) => c.post(`/api/v1/cases/${x.id}/redeliver`), expected: deskAct(200) },
  { name: 'POST /api/v1/units/:code/redeliver', call: (c) => c.post('/api/v1/units/epb/redeliver'), expected: deskAct(200) },
  { name: 'POST /api/v1/hotline/calls', call: (c, x) => c.post('/api/v1/hotline/calls', hotlineCall(x.id)), expected: hotlineAct(201) },
  {
    name: 'GET /api/v1/hotline/calls/:hotline/:callId',
    setup: async (h, caseId) => {
      expect((await client(h.service.url, h.staff.operator).post('/api/v1/hotline/calls', hotlineCall(caseId))).status).toBe(201);
      return {};
    },
    call: (c, x) => c.get(`/api/v1/hotline/calls/12369/${hotlineCall(x.id).callId}`),
    expected: hotlineAct(200),
  },
  {
    name: 'POST /api/v1/hotline/calls:import',
    call: (c, x) => c.postText('/api/v1/hotline/calls:import', `${JSON.stringify(hotlineCall(x.id))}\n`, 'application/x-ndjson'),
    expected: hotlineAct(200),
  },
];

describe('who may call what', () => {
  let h: Harness;
  let openapi: OpenApiChecker;
  beforeAll(async () => {
    h = await startWorkflowService('wfaccess', {});
    openapi = await openApiChecker(h.service.url);
  });

  const token = (who: Who): string | null =>
    ({ none: null, operator: h.staff.operator, ownBureau: h.staff.epb, otherBureau: h.staff.agri, dispatcher: h.staff.dispatcher, admin: h.staff.admin })[who];

  for (const ep of ENDPOINTS) {
    it(`${ep.name}: ${WHO.map((w) => `${w} ${ep.expected[w]}`).join(', ')}`, async () => {
      const got: Record<string, number> = {};
      const undocumented: string[] = [];
      for (const who of WHO) {
        const seeded = await seedCase(h.service, h.clock, { photo: { bytes: PNG, mime: 'image/png' } });
        const extra = ep.setup ? await ep.setup(h, seeded.id) : {};
        const ctx: Ctx = { id: seeded.id, photoId: seeded.photoId, extensionId: null, intoId: null, ...extra };
        const res = await ep.call(client(h.service.url, token(who)), ctx);
        got[who] = res.status;
        if (res.status === 401) expect(res.headers.get('www-authenticate')).toContain('Bearer');
        // Every answer, to every role, is one the OpenAPI document describes (status, content type, body).
        undocumented.push(...(await openapi.check(ep.name.split(' ')[0]!, res.url, res)).map((p) => `${who}: ${p}`));
        await res.body?.cancel();
      }
      expect(got).toEqual(ep.expected);
      expect(undocumented).toEqual([]);
    });
  }

  it('documents every endpoint with the bearer scheme in the OpenAPI document', async () => {
    const doc = (await (await fetch(`${h.service.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, { security?: unknown[] }>> };
    for (const ep of ENDPOINTS) {
      const [method, path] = ep.name.split(' ') as [string, string];
      const openapiPath = path.replace(/\/:(\w+)/g, '/{$1}');
      const op = doc.paths[openapiPath]?.[method.toLowerCase()];
      expect(op, ep.name).toBeDefined();
      expect(op!.security, ep.name).toEqual([{ bearerAuth: [] }]);
    }
  });

  it('lists for another bureau none of the cases that are not its own', async () => {
    const { id } = await seedCase(h.service, h.clock);
    const list = await json(client(h.service.url, h.staff.agri).get('/api/v1/cases?limit=100'));
    expect(list.body.items.map((i: { id: string }) => i.id)).not.toContain(id);
    const all = await json(client(h.service.url, h.staff.operator).get('/api/v1/cases?limit=100'));
    expect(all.body.items.map((i: { id: string }) => i.id)).toContain(id);
  });

  it('names a page size that is no whole number, empty or in hex alike, and documents it as an integer', async () => {
    for (const [query, reason] of [
      ['limit=', 'must be a number'],
      ['limit=0x10', 'must be a number'],
      ['limit=2.5', 'must be a whole number'],
      ['limit=0', 'at least 1'],
    ] as const) {
      const res = await json(client(h.service.url, h.staff.operator).get(`/api/v1/cases?${query}`));
      expect(res.status, query).toBe(400);
      expect(res.body.error.fields, query).toEqual({ limit: reason });
    }
    const doc = (await (await fetch(`${h.service.url}/openapi.json`)).json()) as any;
    const limit = doc.paths['/api/v1/cases'].get.parameters.find((p: { name: string }) => p.name === 'limit');
    expect(limit.schema).toMatchObject({ type: 'integer', minimum: 1, maximum: 100 });
  });

  it('refuses receivedFrom after receivedTo with a 400 naming receivedFrom, as the statistics refuse from after to', async () => {
    const { id } = await seedCase(h.service, h.clock);
    const at = (await json(client(h.service.url, h.staff.operator).get(`/api/v1/cases/${id}`))).body.receivedAt as string;
    const later = new Date(Date.parse(at) + 60_000).toISOString();
    for (const t of [h.staff.operator, h.staff.epb, h.staff.dispatcher]) {
      const res = await json(client(h.service.url, t).get(`/api/v1/cases?receivedFrom=${encodeURIComponent(later)}&receivedTo=${encodeURIComponent(at)}`));
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      expect(res.body.error).toMatchObject({ code: 'validation_failed', fields: { receivedFrom: `must not be after receivedTo (${at})` } });
    }
    const zh = await fetch(`${h.service.url}/api/v1/cases?receivedFrom=${encodeURIComponent(later)}&receivedTo=${encodeURIComponent(at)}`, {
      headers: { authorization: `Bearer ${h.staff.dispatcher}`, 'accept-language': 'zh-CN' },
    });
    expect(((await zh.json()) as { error: { fields: Record<string, string> } }).error.fields).toEqual({ receivedFrom: '开始时间不能晚于结束时间' });
    // The window the other way round holds the case; an empty one (from = to, `receivedTo` exclusive) is no contradiction.
    const window = await json(client(h.service.url, h.staff.dispatcher).get(`/api/v1/cases?limit=100&receivedFrom=${encodeURIComponent(at)}&receivedTo=${encodeURIComponent(later)}`));
    expect(window.status).toBe(200);
    expect(window.body.items.map((i: { id: string }) => i.id)).toContain(id);
    expect((await client(h.service.url, h.staff.dispatcher).get(`/api/v1/cases?receivedFrom=${encodeURIComponent(at)}&receivedTo=${encodeURIComponent(at)}`)).status).toBe(200);
  });

  it('refuses a type or unit no district file has and no case carries with a 400 naming it, instead of an empty list', async () => {
    const { id } = await seedCase(h.service, h.clock, { type: 'noise' });
    for (const [who, query, fields] of [
      [h.staff.dispatcher, 'unit=nobody', { unit: 'unknown unit "nobody"' }],
      [h.staff.operator, 'unit=', { unit: 'unknown unit ""' }],
      [h.staff.dispatcher, 'type=noize', { type: 'unknown type "noize"' }],
      [h.staff.epb, 'type=noize', { type: 'unknown type "noize"' }],
      [h.staff.dispatcher, 'type=noize&unit=nobody', { type: 'unknown type "noize"', unit: 'unknown unit "nobody"' }],
      [h.staff.dispatcher, `type=${'x'.repeat(61)}`, { type: 'at most 60 characters' }],
      [h.staff.dispatcher, 'status=opened', { status: expect.stringMatching(/^use one of received, /) }],
    ] as const) {
      const res = await json(client(h.service.url, who).get(`/api/v1/cases?${query}`));
      expect(res.status, `${query}: ${JSON.stringify(res.body)}`).toBe(400);
      expect(res.body.error, query).toMatchObject({ code: 'validation_failed', fields });
    }
    const zh = await fetch(`${h.service.url}/api/v1/cases?unit=nobody`, { headers: { authorization: `Bearer ${h.staff.dispatcher}`, 'accept-language': 'zh-CN' } });
    expect(((await zh.json()) as { error: { fields: Record<string, string> } }).error.fields).toEqual({ unit: '请从列表中选择' });
    // The district's codes are taken, a local office's as a unit too; `type=` lists every type, as it did.
    for (const query of ['unit=epb&type=noise', 'unit=xinglong', 'type=']) {
      const res = await json(client(h.service.url, h.staff.dispatcher).get(`/api/v1/cases?limit=100&${query}`));
      expect(res.status, `${query}: ${JSON.stringify(res.body)}`).toBe(200);
      expect(res.body.items.map((i: { id: string }) => i.id), query).toContain(id);
    }
    // A bureau names no other unit, known or not: that stays a 403.
    expect((await client(h.service.url, h.staff.epb).get('/api/v1/cases?unit=nobody')).status).toBe(403);
  });

  it('answers 404 for a case that does not exist, to every role that may look', async () => {
    for (const t of [h.staff.operator, h.staff.epb, h.staff.dispatcher, h.staff.admin]) {
      expect((await client(h.service.url, t).get('/api/v1/cases/no-such-case')).status).toBe(404);
    }
    expect((await client(h.service.url, h.staff.epb).post('/api/v1/cases/no-such-case/accept')).status).toBe(404);
    expect((await client(h.service.url, h.staff.dispatcher).post('/api/v1/cases/no-such-case/route', { type: 'noise', reason: 'x' })).status).toBe(404);
    expect((await client(h.service.url, h.staff.dispatcher).post('/api/v1/cases/no-such-case/supervise', { note: 'x' })).status).toBe(404);
  });

  it('gives a co-handler the same rights on its own part, and none on a released part', async () => {
    const { id } = await seedCase(h.service, h.clock);
    expect((await client(h.service.url, h.staff.econ).post(`/api/v1/cases/${id}/accept`)).status).toBe(200);
    await client(h.service.url, h.staff.dispatcher).post(`/api/v1/cases/${id}/release`, { unit: 'econ', reason: '无需参与' });
    const r = await json(client(h.service.url, h.staff.econ).post(`/api/v1/cases/${id}/reply`, { text: '已配合' }));
    expect(r.status).toBe(409);
    // It still reads the record of what it did on the case (and nothing more: see below).
    const view = await json(client(h.service.url, h.staff.econ).get(`/api/v1/cases/${id}`));
    expect(view.status).toBe(200);
    expect(view.body.access).toBe('withdrawn');
  });

  it("shows a bureau the delivery errors of its own unit only: another unit's may name that unit's server", async () => {
    const { id } = await seedCase(h.service, h.clock);
    const at = h.clock.now().toISOString();
    await insertDeliveries(h.service.deps.db, [
      { id: `${id}-epb`, caseId: id, unitCode: 'epb', channel: 'webhook', at },
      { id: `${id}-econ`, caseId: id, unitCode: 'econ', channel: 'webhook', at },
    ]);
    await h.service.deps.db.updateTable('deliveries').set({ attempts: 1, last_error: 'redirected to https://econ-gateway.internal/hook' }).where('id', '=', `${id}-econ`).execute();
    await h.service.deps.db.updateTable('deliveries').set({ attempts: 1, last_error: 'HTTP 503' }).where('id', '=', `${id}-epb`).execute();
    const errors = async (token: string) => {
      const view = await json(client(h.service.url, token).get(`/api/v1/cases/${id}`));
      expect(view.status).toBe(200);
      return Object.fromEntries(view.body.deliveries.map((d: { unit: { code: string }; lastError: string | null; attempts: number }) => [d.unit.code, [d.attempts, d.lastError]]));
    };
    expect(await errors(h.staff.epb)).toEqual({ epb: [1, 'HTTP 503'], econ: [1, null] });
    expect(await errors(h.staff.econ)).toEqual({ epb: [1, null], econ: [1, 'redirected to https://econ-gateway.internal/hook'] });
    // Dispatchers, who resend what failed, read them all.
    expect(await errors(h.staff.dispatcher)).toEqual({ epb: [1, 'HTTP 503'], econ: [1, 'redirected to https://econ-gateway.internal/hook'] });
  });

  it("leaves out of a bureau's history the errors of another unit's failed deliveries and notices, which may name that unit's server", async () => {
    const { id } = await seedCase(h.service, h.clock);
    const at = h.clock.now().toISOString();
    const econServer = 'HTTP 301: the webhook URL redirects to https://econ-gateway.internal/hook';
    await appendEvents(h.service.deps.db, [
      { caseId: id, at, kind: 'delivery_failed', data: { unit: 'econ', channel: 'webhook', attempts: 1, error: econServer } },
      { caseId: id, at, kind: 'notification_failed', data: { audience: 'unit:econ', channel: 'webhook', notice: 'reminder', attempts: 8, error: econServer } },
      { caseId: id, at, kind: 'delivery_failed', data: { unit: 'epb', channel: 'webhook', attempts: 8, error: 'HTTP 503' } },
      { caseId: id, at, kind: 'notification_failed', data: { audience: 'reporter', channel: 'telegram', notice: 'accepted', attempts: 1, error: 'Forbidden: bot was blocked by the user' } },
    ]);
    const failures = async (token: string) => {
      const view = await json(client(h.service.url, token).get(`/api/v1/cases/${id}`));
      expect(view.status).toBe(200);
      return view.body.events.filter((e: { kind: string }) => e.kind.endsWith('_failed')).map((e: { data: { unit?: string; audience?: string; error?: string } }) => [e.data.unit ?? e.data.audience, e.data.error ?? null]);
    };
    expect(await failures(h.staff.epb)).toEqual([['econ', null], ['unit:econ', null], ['epb', 'HTTP 503'], ['reporter', null]]);
    expect(await failures(h.staff.econ)).toEqual([['econ', econServer], ['unit:econ', econServer], ['epb', null], ['reporter', null]]);
    // Dispatchers, who resend what failed, read them all.
    expect(await failures(h.staff.dispatcher)).toEqual([['econ', econServer], ['unit:econ', econServer], ['epb', 'HTTP 503'], ['reporter', 'Forbidden: bot was blocked by the user']]);
  });

  it('refuses a query parameter an operation does not take, naming it, instead of answering as if it were not there', async () => {
    const { trackingCode } = await seedCase(h.service, h.clock);
    for (const [who, path, param] of [
      [h.staff.epb, '/api/v1/cases?stauts=accepted', 'stauts'],
      [h.staff.dispatcher, '/api/v1/triage?limt=5', 'limt'],
      [h.staff.dispatcher, '/api/v1/stats?groupBy=type&form=2026-11-01', 'form'],
      [h.staff.dispatcher, '/api/v1/export/cases.csv?stauts=closed', 'stauts'],
      [h.staff.dispatcher, '/api/v1/export/stats.csv?groupBy=type&langu=en', 'langu'],
      [null, '/api/v1/public/stats?groupBy=type&month=2026-11', 'month'],
      [null, `/api/v1/track/${trackingCode}?lnag=en`, 'lnag'],
    ] as const) {
      const res = await fetch(`${h.service.url}${path}`, { headers: who ? { authorization: `Bearer ${who}` } : {} });
      const body = (await res.json()) as { error: { code: string; fields: Record<string, string> } };
      expect(res.status, path).toBe(400);
      expect(body.error, path).toMatchObject({ code: 'validation_failed', fields: { [param]: 'unknown query parameter' } });
    }
    // An operation that takes no query at all refuses any parameter: sent to one, a POST does nothing.
    const { id } = await seedCase(h.service, h.clock);
    for (const [who, method, path, param] of [
      [h.staff.epb, 'GET', `/api/v1/cases/${id}?stauts=open`, 'stauts'],
      [h.staff.epb, 'GET', '/api/v1/me?verbose=1', 'verbose'],
      [h.staff.dispatcher, 'POST', `/api/v1/cases/${id}/supervise?note=x`, 'note'],
    ] as const) {
      const res = await fetch(`${h.service.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${who}`, ...(method === 'POST' ? { 'content-type': 'application/json' } : {}) },
        ...(method === 'POST' ? { body: JSON.stringify({ note: '请尽快办理' }) } : {}),
      });
      const body = (await res.json()) as { error: { code: string; fields: Record<string, string> } };
      expect(res.status, path).toBe(400);
      expect(body.error, path).toMatchObject({ code: 'validation_failed', fields: { [param]: 'unknown query parameter' } });
    }
    expect(await h.service.deps.db.selectFrom('case_events').select('kind').where('case_id', '=', id).where('kind', '=', 'supervised').execute()).toEqual([]);
    // What the API answers is kept in no cache (a case with its reporter's contact, for a dispatcher).
    const read = await fetch(`${h.service.url}/api/v1/cases/${id}`, { headers: { authorization: `Bearer ${h.staff.dispatcher}` } });
    expect(read.status).toBe(200);
    expect(read.headers.get('cache-control')).toBe('no-store');
    // Spelt right, they are taken.
    expect((await client(h.service.url, h.staff.epb).get('/api/v1/cases?status=accepted')).status).toBe(200);
    expect((await fetch(`${h.service.url}/api/v1/track/${trackingCode}?lang=en`)).status).toBe(200);
  });

  it('serves an OpenAPI document that is well-formed: OpenAPI fields only, portable patterns, examples its schemas accept', () => {
    expect(documentProblems(openapi.doc)).toEqual([]);
    // Every operation has a name of its own, so a generated client's methods keep their names when a path changes.
    const operations = Object.values(openapi.doc.paths).flatMap((item) => Object.values(item as Record<string, { operationId?: string }>));
    const names = operations.map((op) => op.operationId);
    expect(names.filter((n) => typeof n !== 'string' || !/^[a-z][A-Za-z]+$/.test(n))).toEqual([]);
    expect(new Set(names).size).toBe(names.length);
    // Bodies that come in several media types are still required of the client.
    for (const path of ['/api/v1/reports', '/api/v1/cases/{id}/reply', '/api/v1/hotline/calls']) {
      expect((openapi.doc.paths[path]!.post as { requestBody?: { required?: boolean } }).requestBody?.required, path).toBe(true);
    }
  });

  it('answers the intake, tracking, hotline and statistics operations as its OpenAPI document says', async () => {
    const problems: string[] = [];
    const call = async (who: string | null, method: string, path: string, body?: string, headers: Record<string, string> = {}) => {
      const res = await fetch(`${h.service.url}${path}`, { method, body, headers: { ...(who ? { authorization: `Bearer ${who}` } : {}), ...headers } });
      problems.push(...(await openapi.check(method, path, res)));
      return res.status === 204 ? null : ((await res.json().catch(() => null)) as any);
    };
    const asJson = { 'content-type': 'application/json' };
    const report = { text: '兴隆办事处盐下村电镀厂晚上偷排废水', name: '李四', phone: '13912345678', shareContact: true, location: { lat: 25.2, lng: 111.35 } };
    const accepted = await call(null, 'POST', '/api/v1/reports', JSON.stringify(report), { ...asJson, 'idempotency-key': 'oa-1' });
    await call(null, 'POST', '/api/v1/reports', JSON.stringify(report), { ...asJson, 'idempotency-key': 'oa-1' });
    await call(null, 'POST', '/api/v1/reports', JSON.stringify({ text: '别的' }), { ...asJson, 'idempotency-key': 'oa-1' });
    await call(null, 'POST', '/api/v1/reports', JSON.stringify({ text: 'x', anonymus: true }), asJson);
    await call(null, 'POST', '/api/v1/reports', '{bad', asJson);
    await call(null, 'POST', '/api/v1/reports', 'x', { 'content-type': 'text/plain' });
    await call(null, 'POST', '/api/v1/reports', JSON.stringify({ text: 'x'.repeat(1_100_000) }), asJson);
    const { trackingCode } = await seedCase(h.service, h.clock);
    for (const path of [`/api/v1/track/${accepted.trackingCode}`, `/api/v1/track/${trackingCode}?lang=en`, '/api/v1/track/ACDEFGHJKM', '/api/v1/track/x?lang=fr']) await call(null, 'GET', path);
    await call(null, 'POST', `/api/v1/track/${trackingCode}/feedback`, JSON.stringify({ rating: 'satisfied', solved: true }), asJson);
    await call(null, 'POST', `/api/v1/track/${trackingCode}/feedback`, JSON.stringify({ rating: 'satisfied', solved: true, coment: 'x' }), asJson);
    for (const who of [null, 'eci_unknown', h.staff.operator, h.staff.epb, h.staff.dispatcher, h.staff.admin]) await call(who, 'GET', '/api/v1/me');
    for (const path of ['/api/v1/stats?groupBy=bureau', '/api/v1/stats?groupBy=month&from=2026-10-01', '/api/v1/stats', '/api/v1/export/cases.csv', '/api/v1/export/stats.csv?groupBy=type']) {
      for (const who of [null, h.staff.epb, h.staff.dispatcher]) await call(who, 'GET', path);
    }
    for (const path of ['/api/v1/public/stats?groupBy=type', '/api/v1/public/stats?groupBy=type&from=2026-13-01']) await call(null, 'GET', path);
    for (const path of ['/api/v1/cases?limit=1', '/api/v1/cases?limit=abc', '/api/v1/triage']) for (const who of [h.staff.epb, h.staff.operator]) await call(who, 'GET', path);

    const hotlineCall = {
      hotline: '12369',
      callId: 'OA-20261102-0001',
      startedAt: '2026-11-02T09:00:00+08:00',
      callerNumber: '0731-88886666转123',
      transcript: '坐席：您好，请讲。\n来电人：兴隆办事处盐下村有个厂子往河里排黑水。',
    };
    await call(h.staff.operator, 'POST', '/api/v1/hotline/calls', JSON.stringify({ ...hotlineCall, review: true }), asJson);
    await call(h.staff.operator, 'POST', '/api/v1/hotline/calls', JSON.stringify(hotlineCall), asJson);
    await call(h.staff.operator, 'POST', '/api/v1/hotline/calls', JSON.stringify(hotlineCall), asJson);
    await call(h.staff.operator, 'POST', '/api/v1/hotline/calls', JSON.stringify({ ...hotlineCall, transcript: `${hotlineCall.transcript}\n来电人：还有` }), asJson);
    await call(h.staff.epb, 'POST', '/api/v1/hotline/calls', JSON.stringify(hotlineCall), asJson);
    await call(h.staff.operator, 'POST', '/api/v1/hotline/calls', 'x', { 'content-type': 'application/xml' });
    await call(h.staff.operator, 'GET', `/api/v1/hotline/calls/12369/${hotlineCall.callId}`);
    await call(h.staff.operator, 'GET', '/api/v1/hotline/calls/12369/none');
    const line = JSON.stringify({ ...hotlineCall, callId: 'OA-20261102-0002' });
    await call(h.staff.operator, 'POST', '/api/v1/hotline/calls:import', `${line}\n`, { 'content-type': 'application/x-ndjson' });
    await call(h.staff.operator, 'POST', '/api/v1/hotline/calls:import', 'x', { 'content-type': 'text/plain' });
    expect(problems).toEqual([]);
  });
});

describe('a unit the case was withdrawn from', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startWorkflowService('wfaccessw', {});
  });
  const as = (t: string) => client(h.service.url, t);
  const TEXT = '兴隆办事处盐下村电镀厂晚上偷排废水，沟里全是黑水，就在学校后面';

  /** Everything a unit the case left must no longer read: the words, the place, the photo, the others on it. */
  function expectNothingOfTheReport(body: any) {
    const all = JSON.stringify(body);
    for (const words of ['电镀厂', '偷排废水', '学校后面', '13912345678', '李四']) expect(all, words).not.toContain(words);
    expect(body).toMatchObject({ access: 'withdrawn', text: null, address: null, location: null, type: null, reporter: null, photos: [], hotline: null });
  }

  it('keeps a released co-handler to its own record: no text, photos, other units or later history; not in its list', async () => {
    const { id, photoId } = await seedCase(h.service, h.clock, { text: TEXT, photo: { bytes: PNG, mime: 'image/png' } });
    expect((await as(h.staff.econ).post(`/api/v1/cases/${id}/accept`)).status).toBe(200);
    expect((await as(h.staff.econ).post(`/api/v1/cases/${id}/progress`, { note: '已派人到现场核查' })).status).toBe(200);
    expect((await as(h.staff.dispatcher).post(`/api/v1/cases/${id}/release`, { unit: 'econ', reason: '无需参与' })).status).toBe(200);
    // What happens on the case afterwards is no longer the unit's business.
    expect((await as(h.staff.epb).post(`/api/v1/cases/${id}/accept`)).status).toBe(200);
    expect((await as(h.staff.epb).post(`/api/v1/cases/${id}/progress`, { note: '环保局已立案调查' })).status).toBe(200);

    const view = await json(as(h.staff.econ).get(`/api/v1/cases/${id}`));
    expect(view.status).toBe(200);
    expectNothingOfTheReport(view.body);
    expect(view.body.assignments.map((a: any) => [a.bureau.code, a.status])).toEqual([['econ', 'released']]);
    const kinds = view.body.events.map((e: any) => e.kind);
    expect(kinds).toEqual(['accepted', 'progress', 'released']);
    expect(view.body.events[1].note).toBe('已派人到现场核查');
    expect(JSON.stringify(view.body)).not.toContain('环保局已立案调查');
    expect(view.body.events[2].data).toEqual({ unit: 'econ', reason: '无需参与', released: ['econ'] });

    expect((await as(h.staff.econ).get(`/api/v1/cases/${id}/photos/${photoId}`)).status).toBe(404);
    const list = await json(as(h.staff.econ).get('/api/v1/cases?limit=100'));
    expect(list.body.items.map((i: any) => i.id)).not.toContain(id);
    // The units still on it read it all.
    const lead = await json(as(h.staff.epb).get(`/api/v1/cases/${id}`));
    expect(lead.body).toMatchObject({ access: 'full', text: expect.stringContaining('电镀厂') });
    expect((await as(h.staff.epb).get(`/api/v1/cases/${id}/photos/${photoId}`)).status).toBe(200);
  });

  it('keeps a lead the case was re-routed away from, and a unit that returned it, to their record; given the case again, they read it all', async () => {
    const { id, photoId } = await seedCase(h.service, h.clock, { text: TEXT, photo: { bytes: PNG, mime: 'image/png' } });
    expect((await as(h.staff.epb).post(`/api/v1/cases/${id}/return`, { reason: 'not_our_remit', note: '属于农业面源' })).status).toBe(200);
    const returned = await json(as(h.staff.epb).get(`/api/v1/cases/${id}`));
    expectNothingOfTheReport(returned.body);
    // Its own return stays on its record (the lead's return is the case's move to triage).
    expect(returned.body.events.map((e: any) => e.data?.reason)).toContain('not_our_remit');

    // Re-routed to agriculture: the old co-handler econ is released by it.
    const routed = await as(h.staff.dispatcher).post(`/api/v1/cases/${id}/route`, { type: 'livestock_waste', lead: 'agri', co: [], reason: '改派农业委' });
    expect(routed.status).toBe(200);
    const econ = await json(as(h.staff.econ).get(`/api/v1/cases/${id}`));
    expectNothingOfTheReport(econ.body);
    const notice = econ.body.events.at(-1);
    // The notice says the unit was released, and why; not where the case went.
    expect(notice).toMatchObject({ kind: 'released', fromStatus: null, toStatus: null, note: null, data: { unit: 'econ', reason: '改派农业委' } });
    expect(JSON.stringify(econ.body)).not.toContain('agri');
    expect((await as(h.staff.econ).get(`/api/v1/cases/${id}/photos/${photoId}`)).status).toBe(404);
    expect((await json(as(h.staff.agri).get(`/api/v1/cases/${id}`))).body.access).toBe('full');

    // Given back to epb as a co-handler: it holds the case again.
    expect((await as(h.staff.dispatcher).post(`/api/v1/cases/${id}/route`, { type: 'livestock_waste', lead: 'agri', co: ['epb'], reason: '需环保配合' })).status).toBe(200);
    const back = await json(as(h.staff.epb).get(`/api/v1/cases/${id}`));
    expect(back.body).toMatchObject({ access: 'full', text: TEXT.replace('13912345678', '139****5678') });
    expect((await as(h.staff.epb).get(`/api/v1/cases/${id}/photos/${photoId}`)).status).toBe(200);
    expect((await json(as(h.staff.epb).get('/api/v1/cases?limit=100'))).body.items.map((i: any) => i.id)).toContain(id);
  });

  it('lets a unit fetch the files it attached to its own reply after it left the case, and no others', async () => {
    const { id } = await seedCase(h.service, h.clock, { text: TEXT });
    expect((await as(h.staff.econ).post(`/api/v1/cases/${id}/accept`)).status).toBe(200);
    const form = new FormData();
    form.set('text', '经信委已配合核查');
    form.append('attachments', new File([new Uint8Array([...PNG, 0x49, 0x48, 0x44, 0x52])], 'site.png', { type: 'image/png' }));
    const replied = await fetch(`${h.service.url}/api/v1/cases/${id}/reply`, { method: 'POST', headers: { authorization: `Bearer ${h.staff.econ}` }, body: form });
    expect(replied.status).toBe(200);
    const fileId = ((await replied.json()) as any).replyAttachments[0].id as string;
    expect((await as(h.staff.dispatcher).post(`/api/v1/cases/${id}/transfer`, { reason: '非环境类' })).status).toBe(200);
    const view = await json(as(h.staff.econ).get(`/api/v1/cases/${id}`));
    expectNothingOfTheReport(view.body);
    expect(view.body.replyAttachments.map((f: any) => f.id)).toEqual([fileId]);
    expect((await as(h.staff.econ).get(`/api/v1/cases/${id}/photos/${fileId}`)).status).toBe(200);
  });
});

describe('the tracking code, the reporter’s key to rating', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startWorkflowService('wfaccessc', {});
  });
  const as = (t: string) => client(h.service.url, t);

  it('never reaches a bureau, in its list, the case or a merge’s history: bureaus name a case by its reference', async () => {
    const seededFrom = h.clock.now().toISOString();
    const survivor = await seedCase(h.service, h.clock);
    const duplicate = await seedCase(h.service, h.clock);
    // A merge writes each case's code into the other's history.
    expect((await as(h.staff.dispatcher).post(`/api/v1/cases/${duplicate.id}/merge`, { into: survivor.id, reason: '重复举报' })).status).toBe(200);

    for (const c of [survivor, duplicate]) {
      const view = await json(as(h.staff.epb).get(`/api/v1/cases/${c.id}`));
      expect(view.status).toBe(200);
      expect(view.body).toMatchObject({ id: c.id, trackingCode: null, reference: caseReference(c.id) });
      const all = JSON.stringify(view.body);
      expect(all).not.toContain(survivor.trackingCode);
      expect(all).not.toContain(duplicate.trackingCode);
    }
    // The survivor's history names the duplicate merged into it by its reference.
    const kept = await json(as(h.staff.epb).get(`/api/v1/cases/${survivor.id}`));
    const mergedIn = kept.body.events.find((e: any) => e.kind === 'merged_in');
    expect(mergedIn.data).toEqual({ from: duplicate.id, fromReference: caseReference(duplicate.id), reason: '重复举报' });
    // The cases seeded here, not a first page the file's other cases may fill.
    const list = await json(as(h.staff.epb).get(`/api/v1/cases?limit=100&receivedFrom=${encodeURIComponent(seededFrom)}`));
    expect(list.body.items.find((i: any) => i.id === survivor.id)).toMatchObject({ trackingCode: null, reference: caseReference(survivor.id) });
    expect(JSON.stringify(list.body)).not.toContain(survivor.trackingCode);

    // Staff who answer residents read both.
    for (const who of [h.staff.dispatcher, h.staff.operator]) {
      const view = await json(as(who).get(`/api/v1/cases/${duplicate.id}`));
      expect(view.body).toMatchObject({ trackingCode: duplicate.trackingCode, reference: caseReference(duplicate.id), mergedInto: { trackingCode: survivor.trackingCode } });
    }
    // Undone, the merge is told on both histories by references too.
    expect((await as(h.staff.dispatcher).post(`/api/v1/cases/${duplicate.id}/unmerge`, { reason: '并错了' })).status).toBe(200);
    const after = await json(as(h.staff.epb).get(`/api/v1/cases/${survivor.id}`));
    expect(after.body.events.find((e: any) => e.kind === 'unmerged_out').data).toEqual({ from: duplicate.id, fromReference: caseReference(duplicate.id), reason: '并错了' });
    for (const code of [survivor.trackingCode, duplicate.trackingCode]) expect(JSON.stringify(after.body)).not.toContain(code);
    // Routed on its own, the report comes to a bureau with the merge in its history: by the other case's reference.
    expect((await as(h.staff.dispatcher).post(`/api/v1/cases/${duplicate.id}/route`, { type: 'illegal_discharge', reason: '单独派发' })).status).toBe(200);
    const routed = await json(as(h.staff.epb).get(`/api/v1/cases/${duplicate.id}`));
    expect(routed.status).toBe(200);
    expect(routed.body.events.find((e: any) => e.toStatus === 'merged').note).toBe(`与案件 ${caseReference(survivor.id)} 合并办理`);
    for (const code of [survivor.trackingCode, duplicate.trackingCode]) expect(JSON.stringify(routed.body)).not.toContain(code);
  });
});
