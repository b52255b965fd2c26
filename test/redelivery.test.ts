import { readFileSync } from 'node:fs';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listEvents } from '../db/repositories/events.repository.js';
import { issueToken } from '../db/repositories/tokens.repository.js';
import { createUser } from '../db/repositories/users.repository.js';
import { jobId } from '../queues/jobs.js';
import { createProcessors } from '../queues/processors/index.js';
import { requeueLostJobs } from '../queues/reconciler.js';
import { processorDeps } from '../src/deps.js';
import { DEFAULT_DISTRICT_PATH } from '../src/district/district-file.js';
import { buildDistrict, type DistrictFile } from '../src/district/district.schema.js';
import type { Service } from '../src/runtime.js';
import { bureauServer as startBureauServer } from './bureau-server.js';
import { createPgDatabase, postJson, startTestService, testEnv, waitFor } from './harness.js';
import { startTelegramEmulator } from './telegram-emulator.js';
import { TOKEN, telegramEnv } from './telegram-helpers.js';

const SECRET = 'redelivery-webhook-secret-0123';
// livestock_waste: lead agri, co epb, jurisdiction huilongxu (no webhook).
const REPORT = '回龙圩镇朱家观村有个养猪场把猪粪直接排到河里，臭得很';

/** The bureaus' servers: agri's answers 503 while `down` is set, and for `failNext` more requests after. */
async function bureauServer() {
  const state = { down: true, failNext: 0 };
  const server = await startBureauServer((path) => {
    const fail = path === '/agri' && (state.down || state.failNext > 0);
    if (fail && !state.down) state.failNext -= 1;
    return fail ? 503 : 204;
  });
  return { ...server, state };
}

function districtFile(): DistrictFile {
  return JSON.parse(readFileSync(DEFAULT_DISTRICT_PATH, 'utf8')) as DistrictFile;
}

describe.each([
  ['SQLite', async () => ({})],
  ['PostgreSQL', async () => ({ DATABASE_URL: await createPgDatabase('redelivery') })],
])('sending again what failed for good, on %s', (_engine, dbEnv) => {
  let service: Service & { url: string };
  let bureaus: Awaited<ReturnType<typeof bureauServer>>;
  let dispatcher: { id: string; token: string };
  let clerk: string;

  beforeAll(async () => {
    bureaus = await bureauServer();
    const file = districtFile();
    for (const b of file.bureaus) if (b.code === 'agri' || b.code === 'epb') b.webhook = { url: `${bureaus.url}/${b.code}` };
    // Two quick attempts, so a delivery fails for good within the test.
    const env = testEnv('redelivery', { WEBHOOK_SECRET: SECRET, DISPATCH_ATTEMPTS: '2', DISPATCH_BACKOFF_MS: '20', ...(await dbEnv()) });
    service = await startTestService(env, 'all', { district: buildDistrict(file) });
    const at = new Date().toISOString();
    const user = await createUser(service.deps.db, { name: '调度老李', role: 'dispatcher', unitCode: null, at });
    dispatcher = { id: user.id, token: (await issueToken(service.deps.db, { userId: user.id, label: null, at })).token };
    const bureauUser = await createUser(service.deps.db, { name: '农业委钱七', role: 'bureau', unitCode: 'agri', at });
    clerk = (await issueToken(service.deps.db, { userId: bureauUser.id, label: null, at })).token;
  });
  afterAll(() => new Promise<void>((r) => bureaus.server.close(() => r())));

  const delivery = (caseId: string, unit: string) =>
    service.deps.db.selectFrom('deliveries').select(['id', 'status', 'attempts']).where('case_id', '=', caseId).where('unit_code', '=', unit).executeTakeFirstOrThrow();

  async function caseWithFailedAgri(): Promise<string> {
    const res = await postJson(`${service.url}/api/v1/reports`, { text: REPORT, anonymous: true });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    await waitFor(async () => (await delivery(id, 'agri').catch(() => null))?.status === 'failed', { what: "agri's delivery failing for good" });
    await waitFor(async () => (await delivery(id, 'epb')).status === 'delivered', { what: "epb's delivery" });
    return id;
  }

  const post = (path: string, token: string, body?: unknown) =>
    fetch(`${service.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });

  it("sends a case's failed delivery again with a fresh set of attempts once the bureau's server is back, and says who asked", async () => {
    bureaus.state.down = true;
    const id = await caseWithFailedAgri();
    const failed = await delivery(id, 'agri');
    expect(failed.attempts).toBe(2);
    expect((await listEvents(service.deps.db, id)).filter((e) => e.kind === 'delivery_failed').map((e) => e.data)).toMatchObject([{ unit: 'agri' }]);

    // Back, but still shaky: the first request sent again fails too, and a retry is left for it.
    bureaus.state.down = false;
    bureaus.state.failNext = 1;
    // The case's route takes no body: a since that would narrow it, as the unit's route takes one, is named, and nothing is sent.
    const narrowed = await post(`/api/v1/cases/${id}/redeliver`, dispatcher.token, { since: '2026-12-01T00:00:00+08:00' });
    expect(narrowed.status).toBe(400);
    expect(((await narrowed.json()) as { error: { fields: Record<string, string> } }).error.fields).toEqual({ since: 'unknown field' });
    expect((await delivery(id, 'agri')).attempts).toBe(2);
    const res = await post(`/api/v1/cases/${id}/redeliver`, dispatcher.token);
    expect(res.status, await res.clone().text()).toBe(200);
    expect(await res.json()).toEqual({ cases: 1, deliveries: 1, posts: 0, notifications: 0, queued: 1 });
    // The same BullMQ job, failed for good before, runs again with its attempts counted afresh and delivers.
    await waitFor(async () => (await delivery(id, 'agri')).status === 'delivered', { what: 'the delivery sent again' });
    expect((await delivery(id, 'agri')).attempts).toBe(2);
    const hits = bureaus.received.filter((r) => r.headers['x-intake-delivery'] === failed.id);
    expect(hits).toHaveLength(4);
    const events = await listEvents(service.deps.db, id);
    const redelivery = events.filter((e) => e.kind === 'redelivery');
    expect(redelivery).toHaveLength(1);
    expect(redelivery[0]).toMatchObject({ actor: { type: 'staff', id: dispatcher.id, role: 'dispatcher' }, data: { deliveries: ['agri'], posts: [], notifications: [] } });
    expect(events.filter((e) => e.kind === 'delivered').map((e) => (e.data as { unit: string }).unit).sort()).toEqual(['agri', 'epb']);

    // Nothing failed any more: nothing is sent, nothing recorded.
    const again = await post(`/api/v1/cases/${id}/redeliver`, dispatcher.token);
    expect(await again.json()).toEqual({ cases: 0, deliveries: 0, posts: 0, notifications: 0, queued: 0 });
    expect((await listEvents(service.deps.db, id)).filter((e) => e.kind === 'redelivery')).toHaveLength(1);
  });

  it("says in the assignment sent again that the unit's clerk already signed for it on the web, so its system does not take it for new work", async () => {
    bureaus.state.down = true;
    const id = await caseWithFailedAgri();
    const epb = bureaus.received.find((r) => r.path === '/epb' && (r.body as { case: { id: string } }).case.id === id);
    expect((epb?.body as { assignment: { status: string } }).assignment.status).toBe('pending');
    // The server down, the clerk works on the web meanwhile.
    const accepted = await post(`/api/v1/cases/${id}/accept`, clerk);
    expect(accepted.status, await accepted.clone().text()).toBe(200);
    bureaus.state.down = false;
    const failed = await delivery(id, 'agri');
    expect((await post(`/api/v1/cases/${id}/redeliver`, dispatcher.token)).status).toBe(200);
    await waitFor(async () => (await delivery(id, 'agri')).status === 'delivered', { what: 'the delivery sent again' });
    const got = bureaus.received.filter((r) => r.headers['x-intake-delivery'] === failed.id).at(-1)!;
    expect((got.body as { event: string; assignment: { role: string; status: string } })).toMatchObject({ event: 'case.assigned', assignment: { role: 'lead', status: 'accepted' } });
  });

  it('does not send a case to a unit released from it before its server took it, and sends it once the unit has it again', async () => {
    bureaus.state.down = true;
    const id = await caseWithFailedAgri();
    // A retry still owed when the dispatcher re-routes the case away from agri (its server was down until then).
    await service.deps.db.updateTable('deliveries').set({ status: 'pending' }).where('case_id', '=', id).where('unit_code', '=', 'agri').execute();
    const routed = await post(`/api/v1/cases/${id}/route`, dispatcher.token, { type: 'illegal_discharge', lead: 'epb', co: [], reason: '改派环保局' });
    expect(routed.status, await routed.clone().text()).toBe(200);
    bureaus.state.down = false;
    const before = bureaus.received.length;
    const dispatch = createProcessors(processorDeps(service.deps)).dispatch;
    const ctx = { jobId: 'd', attempt: 1, maxAttempts: 2 };
    expect(await dispatch({ caseId: id, unit: 'agri', channel: 'webhook' }, ctx)).toMatch(/no longer holds the case/);
    expect(bureaus.received.slice(before).filter((r) => r.path === '/agri')).toEqual([]);
    expect((await delivery(id, 'agri')).status).toBe('withdrawn');
    // Neither the reconciler nor a redelivery sends it while agri does not hold the case.
    expect(await (await post(`/api/v1/cases/${id}/redeliver`, dispatcher.token)).json()).toMatchObject({ deliveries: 0 });

    // Given back: the case goes to agri's server after all, as an assignment.
    const back = await post(`/api/v1/cases/${id}/route`, dispatcher.token, { type: 'livestock_waste', lead: 'agri', co: [], reason: '还是农业委' });
    expect(back.status, await back.clone().text()).toBe(200);
    expect((await delivery(id, 'agri')).status).toBe('pending');
    const renewed = await dispatch({ caseId: id, unit: 'agri', channel: 'webhook' }, ctx);
    expect(renewed === 'delivered to agri' || renewed.startsWith('skipped: delivery already delivered')).toBe(true);
    await waitFor(async () => (await delivery(id, 'agri')).status === 'delivered', { what: "agri's renewed delivery" });
    const got = bureaus.received.filter((r) => r.path === '/agri' && (r.body as { case?: { id: string } }).case?.id === id);
    expect(got.map((r) => (r.body as { event: string }).event)).toContain('case.assigned');
  });

  it('sends again everything that failed to one unit, since a time if given; a bad unit or time is named, bureaus may not', async () => {
    bureaus.state.down = true;
    const first = await caseWithFailedAgri();
    const second = await caseWithFailedAgri();
    bureaus.state.down = false;

    const later = new Date(Date.now() + 3_600_000).toISOString();
    const none = await post('/api/v1/units/agri/redeliver', dispatcher.token, { since: later });
    expect(await none.json()).toMatchObject({ deliveries: 0 });
    // The same time with its offset written without a colon (+0800).
    const basic = await post('/api/v1/units/agri/redeliver', dispatcher.token, { since: new Date(Date.now() + 3_600_000 + 8 * 3_600_000).toISOString().replace('Z', '+0800') });
    expect(basic.status).toBe(200);
    expect(await basic.json()).toMatchObject({ deliveries: 0 });
    expect((await delivery(first, 'agri')).status).toBe('failed');

    const forbidden = await post('/api/v1/units/agri/redeliver', clerk);
    expect(forbidden.status).toBe(403);
    const unknown = await post('/api/v1/units/nowhere/redeliver', dispatcher.token);
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: { fields: Record<string, string> } }).error.fields).toHaveProperty('code');
    const badTime = await post('/api/v1/units/agri/redeliver', dispatcher.token, { since: 'yesterday' });
    expect(badTime.status).toBe(400);
    expect(((await badTime.json()) as { error: { fields: Record<string, string> } }).error.fields).toHaveProperty('since');
    expect((await delivery(first, 'agri')).status).toBe('failed');

    const res = await post('/api/v1/units/agri/redeliver', dispatcher.token, {});
    expect(await res.json()).toMatchObject({ cases: 2, deliveries: 2, queued: 2 });
    for (const id of [first, second]) {
      await waitFor(async () => (await delivery(id, 'agri')).status === 'delivered', { what: 'each delivery sent again' });
    }
  });
});

describe('the reconciler, after Redis lost the jobs of notices and group posts', () => {
  it('re-creates every lost delivery and notice in one pass, a page at a time', async () => {
    const service = await startTestService(testEnv('reconcile-pages'), 'api');
    const connection = new Redis(service.deps.env.REDIS_URL, { maxRetriesPerRequest: null });
    const dispatchQueue = new Queue('dispatch', { connection, prefix: service.deps.env.QUEUE_PREFIX });
    const notifyQueue = new Queue('notify', { connection, prefix: service.deps.env.QUEUE_PREFIX });
    try {
      const res = await postJson(`${service.url}/api/v1/reports`, { text: REPORT, anonymous: true });
      const { id } = (await res.json()) as { id: string };
      const at = new Date().toISOString();
      // Seven units' deliveries and seven notices whose jobs Redis never had (or lost).
      const units = [...service.deps.district.units.keys()].slice(0, 7);
      for (const [i, unit] of units.entries()) {
        await service.deps.db
          .insertInto('deliveries')
          .values({ id: `d-${i}-${id}`, case_id: id, unit_code: unit, channel: 'webhook', status: 'pending', attempts: 0, last_error: null, last_attempt_at: null, created_at: at })
          .execute();
        await service.deps.db
          .insertInto('notifications')
          .values({ id: `n-${i}-${id}`, case_id: id, audience: `unit:${unit}`, kind: 'supervision', status: 'pending', data: '{}', created_at: at })
          .execute();
      }
      const deps = { db: service.deps.db, transport: service.deps.transport, logger: service.deps.logger };
      const later = new Date(Date.now() + 120_000);
      const opts = { graceMs: 60_000, notifications: true, batchSize: 3 };
      expect(await requeueLostJobs(deps, later, opts)).toMatchObject({ dispatch: 7, notify: 7 });
      for (const unit of units) expect(await dispatchQueue.getJob(jobId.dispatch({ caseId: id, unit, channel: 'webhook' }))).toBeDefined();
      for (const i of units.keys()) expect(await notifyQueue.getJob(jobId.notify({ notificationId: `n-${i}-${id}` }))).toBeDefined();
      expect(await requeueLostJobs(deps, later, opts)).toMatchObject({ dispatch: 0, notify: 0 });
    } finally {
      await dispatchQueue.close();
      await notifyQueue.close();
      connection.disconnect();
    }
  });

  it('re-creates the telegram_photos job of a Telegram report whose photos were never fetched, once', async () => {
    const service = await startTestService(testEnv('reconcile-photos'), 'api');
    const connection = new Redis(service.deps.env.REDIS_URL, { maxRetriesPerRequest: null });
    const photosQueue = new Queue('telegram_photos', { connection, prefix: service.deps.env.QUEUE_PREFIX });
    try {
      const res = await postJson(`${service.url}/api/v1/reports`, { text: REPORT, anonymous: true });
      const { id } = (await res.json()) as { id: string };
      // A report's photos to fetch, whose job Redis lost (restarted without persistence, flushed).
      await service.deps.db
        .insertInto('telegram_photo_fetches')
        .values({ case_id: id, file_ids: JSON.stringify(['file-1', 'file-2']), status: 'pending', created_at: new Date().toISOString(), done_at: null })
        .execute();
      const deps = { db: service.deps.db, transport: service.deps.transport, logger: service.deps.logger };
      const opts = { graceMs: 60_000, notifications: true };
      // Within the grace period nothing is touched.
      await requeueLostJobs(deps, new Date(), opts);
      expect(await photosQueue.getJob(jobId.telegram_photos({ caseId: id }))).toBeUndefined();

      const later = new Date(Date.now() + 120_000);
      const requeued = await requeueLostJobs(deps, later, opts);
      expect((await photosQueue.getJob(jobId.telegram_photos({ caseId: id })))?.data, 'the lost photos job re-created').toEqual({ caseId: id });
      expect(requeued).toMatchObject({ telegramPhotos: 1 });
      // The job is there now: the next pass adds nothing.
      expect(await requeueLostJobs(deps, later, opts)).toMatchObject({ telegramPhotos: 0 });

      // Once the photos are fetched, nothing more is owed.
      await (await photosQueue.getJob(jobId.telegram_photos({ caseId: id })))!.remove();
      await service.deps.db.updateTable('telegram_photo_fetches').set({ status: 'done', done_at: new Date().toISOString() }).where('case_id', '=', id).execute();
      expect(await requeueLostJobs(deps, later, opts)).toMatchObject({ telegramPhotos: 0 });
    } finally {
      await photosQueue.close();
      connection.disconnect();
    }
  });

  it('re-creates the notify job of a pending notice and the telegram_post job of an assignment its group never got, once', async () => {
    const emu = await startTelegramEmulator(TOKEN);
    const file = districtFile();
    for (const b of file.bureaus) if (b.code === 'agri') b.telegramChatId = -100_777;
    // The API alone: nothing consumes the jobs, so the queues show what was created.
    const service = await startTestService(telegramEnv(emu, 'reconcile-notices'), 'api', { district: buildDistrict(file) });
    const connection = new Redis(service.deps.env.REDIS_URL, { maxRetriesPerRequest: null });
    const queue = (name: string) => new Queue(name, { connection, prefix: service.deps.env.QUEUE_PREFIX });
    const [notifyQueue, postQueue] = [queue('notify'), queue('telegram_post')];
    try {
      const res = await postJson(`${service.url}/api/v1/reports`, { text: REPORT, anonymous: true });
      const { id } = (await res.json()) as { id: string };
      await createProcessors(processorDeps(service.deps)).intake({ caseId: id }, { jobId: 'i', attempt: 1, maxAttempts: 1 });
      const postJob = jobId.telegram_post({ caseId: id, unit: 'agri', round: 1 });
      await waitFor(() => postQueue.getJob(postJob), { what: 'the group post job relayed from the outbox' });
      const at = new Date().toISOString();
      await service.deps.db
        .insertInto('notifications')
        .values({ id: `lost-${id}`, case_id: id, audience: 'unit:agri', kind: 'supervision', status: 'pending', data: JSON.stringify({ note: '请加快办理' }), created_at: at })
        .execute();

      // Redis loses both jobs (the notice's was never there).
      await (await postQueue.getJob(postJob))!.remove();
      const deps = { db: service.deps.db, transport: service.deps.transport, logger: service.deps.logger };
      const opts = { graceMs: 60_000, notifications: true, groupUnits: ['agri'] };
      // Within the grace period nothing is touched.
      expect(await requeueLostJobs(deps, new Date(), opts)).toMatchObject({ notify: 0, telegramPost: 0 });

      const later = new Date(Date.now() + 120_000);
      expect(await requeueLostJobs(deps, later, opts)).toMatchObject({ notify: 1, telegramPost: 1 });
      // The case id rides along, so the job's log lines name the case.
      const notice = await notifyQueue.getJob(jobId.notify({ notificationId: `lost-${id}` }));
      expect(notice?.data).toEqual({ notificationId: `lost-${id}`, caseId: id });
      // A notice to a unit goes to the channel its assignments went to, retried as DISPATCH_ATTEMPTS / DISPATCH_BACKOFF_MS say.
      expect(notice?.opts).toMatchObject({ attempts: 3, backoff: { type: 'exponential', delay: 100 } });
      expect((await postQueue.getJob(postJob))?.data).toEqual({ caseId: id, unit: 'agri', round: 1 });
      // The jobs are there now: the next pass adds nothing.
      expect(await requeueLostJobs(deps, later, opts)).toMatchObject({ notify: 0, telegramPost: 0 });

      // Once the group has its post, nothing more is owed.
      await createProcessors(processorDeps(service.deps)).telegram_post({ caseId: id, unit: 'agri', round: 1 }, { jobId: 'p', attempt: 1, maxAttempts: 1 });
      await (await postQueue.getJob(postJob))!.remove();
      expect(await requeueLostJobs(deps, later, opts)).toMatchObject({ telegramPost: 0 });

      // A post being made again for a unit given the case back (its row older than the re-assignment):
      // the job re-created is the workflow's own `again` job, not a second one beside it.
      const reassignedAt = new Date(Date.now() + 1000).toISOString();
      await service.deps.db.updateTable('telegram_bureau_posts').set({ status: 'posting', message_id: null }).where('case_id', '=', id).execute();
      await service.deps.db.updateTable('assignments').set({ updated_at: reassignedAt }).where('case_id', '=', id).where('unit_code', '=', 'agri').execute();
      const evenLater = new Date(Date.now() + 240_000);
      expect(await requeueLostJobs(deps, evenLater, opts)).toMatchObject({ telegramPost: 1 });
      const again = jobId.telegram_post({ caseId: id, unit: 'agri', round: 1, again: true, at: Date.parse(reassignedAt) });
      expect((await postQueue.getJob(again))?.data).toEqual({ caseId: id, unit: 'agri', round: 1, again: true, at: Date.parse(reassignedAt) });
      expect(await requeueLostJobs(deps, evenLater, opts)).toMatchObject({ telegramPost: 0 });
    } finally {
      await notifyQueue.close();
      await postQueue.close();
      connection.disconnect();
    }
  });

  it("re-creates the lost post job of a unit given the case again after it was withdrawn from it, and leaves the notice waiting for that post to it", async () => {
    const emu = await startTelegramEmulator(TOKEN);
    const file = districtFile();
    for (const b of file.bureaus) if (b.code === 'agri') b.telegramChatId = -100_778;
    const service = await startTestService(telegramEnv(emu, 'reconcile-renewed'), 'api', { district: buildDistrict(file) });
    const connection = new Redis(service.deps.env.REDIS_URL, { maxRetriesPerRequest: null });
    const queue = (name: string) => new Queue(name, { connection, prefix: service.deps.env.QUEUE_PREFIX });
    const [postQueue, notifyQueue] = [queue('telegram_post'), queue('notify')];
    const processors = createProcessors(processorDeps(service.deps));
    const ctx = { jobId: 'p', attempt: 1, maxAttempts: 3 };
    try {
      const at = new Date().toISOString();
      const user = await createUser(service.deps.db, { name: '调度老周', role: 'dispatcher', unitCode: null, at });
      const desk = { authorization: `Bearer ${(await issueToken(service.deps.db, { userId: user.id, label: null, at })).token}` };
      const res = await postJson(`${service.url}/api/v1/reports`, { text: REPORT, anonymous: true });
      const { id } = (await res.json()) as { id: string };
      await processors.intake({ caseId: id }, ctx);
      expect(await processors.telegram_post({ caseId: id, unit: 'agri', round: 1 }, ctx)).toBe('posted to the agri group');
      // Taken from agri (its post says so), then given back within the round.
      const route = async (type: string) => expect((await postJson(`${service.url}/api/v1/cases/${id}/route`, { type, reason: '改派' }, desk)).status).toBe(200);
      await route('illegal_discharge');
      expect(await processors.telegram_post({ caseId: id, unit: 'agri', round: 1, settled: true }, ctx)).toBe('group post marked released');
      await route('livestock_waste');
      const { renewed_at: renewedAt } = await service.deps.db.selectFrom('telegram_bureau_posts').select('renewed_at').where('case_id', '=', id).executeTakeFirstOrThrow();
      expect(renewedAt).not.toBeNull();
      const again = jobId.telegram_post({ caseId: id, unit: 'agri', round: 1, again: true, at: Date.parse(renewedAt!) });
      await waitFor(() => postQueue.getJob(again), { what: "the workflow's post job relayed from the outbox" });
      // A 督办 made since waits for the new post.
      const supervised = await postJson(`${service.url}/api/v1/cases/${id}/supervise`, { note: '请尽快核查' }, desk);
      expect(supervised.status, await supervised.clone().text()).toBe(200);
      const notice = await service.deps.db
        .selectFrom('notifications')
        .select('id')
        .where('case_id', '=', id)
        .where('audience', '=', 'unit:agri')
        .where('kind', '=', 'supervision')
        .executeTakeFirstOrThrow();
      expect(await processors.notify({ notificationId: notice.id }, ctx)).toBe("waiting: agri's group once the case's post is made");

      // Redis loses both jobs: the reconciler re-creates the workflow's post job, and leaves the notice to it.
      await (await postQueue.getJob(again))!.remove();
      const noticeJob = jobId.notify({ notificationId: notice.id });
      await (await waitFor(() => notifyQueue.getJob(noticeJob), { what: 'the notice job relayed from the outbox' })).remove();
      const deps = { db: service.deps.db, transport: service.deps.transport, logger: service.deps.logger };
      const later = new Date(Date.now() + 120_000);
      expect(await requeueLostJobs(deps, later, { graceMs: 60_000, notifications: true, groupUnits: ['agri'] })).toMatchObject({ notify: 0, telegramPost: 1 });
      expect((await postQueue.getJob(again))?.data).toEqual({ caseId: id, unit: 'agri', round: 1, again: true, at: Date.parse(renewedAt!) });
      expect(await notifyQueue.getJob(noticeJob)).toBeUndefined();

      // Once the post is made, nothing more is owed, and the notice follows it.
      expect(await processors.telegram_post({ caseId: id, unit: 'agri', round: 1, again: true, at: Date.parse(renewedAt!) }, ctx)).toBe('posted to the agri group');
      expect((await service.deps.db.selectFrom('telegram_bureau_posts').select('renewed_at').where('case_id', '=', id).executeTakeFirstOrThrow()).renewed_at).toBeNull();
      await (await postQueue.getJob(again))!.remove();
      expect(await requeueLostJobs(deps, later, { graceMs: 60_000, groupUnits: ['agri'] })).toMatchObject({ telegramPost: 0 });
    } finally {
      await postQueue.close();
      await notifyQueue.close();
      connection.disconnect();
    }
  });
});

describe('a unit given back a case whose delivery was withdrawn', () => {
  it('gets the case from its queue at once, not only when the reconciler finds the delivery owed', async () => {
    const bureaus = await bureauServer();
    try {
      const file = districtFile();
      for (const b of file.bureaus) if (b.code === 'agri' || b.code === 'epb') b.webhook = { url: `${bureaus.url}/${b.code}` };
      // Retries far enough apart for the dispatcher to act between them; a reconciler that would not come round within the test.
      const env = testEnv('renewed-delivery', { WEBHOOK_SECRET: SECRET, DISPATCH_ATTEMPTS: '8', DISPATCH_BACKOFF_MS: '300', RECONCILE_INTERVAL_MS: '600000' });
      const service = await startTestService(env, 'all', { district: buildDistrict(file) });
      const at = new Date().toISOString();
      const user = await createUser(service.deps.db, { name: '调度老李', role: 'dispatcher', unitCode: null, at });
      const token = (await issueToken(service.deps.db, { userId: user.id, label: null, at })).token;
      const route = (id: string, body: unknown) =>
        fetch(`${service.url}/api/v1/cases/${id}/route`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const delivery = (caseId: string) =>
        service.deps.db.selectFrom('deliveries').select(['status', 'attempts']).where('case_id', '=', caseId).where('unit_code', '=', 'agri').executeTakeFirst();

      const res = await postJson(`${service.url}/api/v1/reports`, { text: REPORT, anonymous: true });
      const { id } = (await res.json()) as { id: string };
      await waitFor(async () => ((await delivery(id))?.attempts ?? 0) >= 1, { what: "agri's first failed attempt" });
      // Re-routed away while agri's server is down: its next attempt finds it no longer holds the case.
      expect((await route(id, { type: 'illegal_discharge', lead: 'epb', co: [], reason: '改派环保局' })).status).toBe(200);
      await waitFor(async () => (await delivery(id))?.status === 'withdrawn', { what: "agri's delivery withdrawn" });

      bureaus.state.down = false;
      expect((await route(id, { type: 'livestock_waste', lead: 'agri', co: [], reason: '还是农业委' })).status).toBe(200);
      await waitFor(async () => (await delivery(id))?.status === 'delivered', { what: "agri's renewed delivery", timeoutMs: 8000 });
      const got = bureaus.received.filter((r) => r.path === '/agri' && (r.body as { case?: { id: string } }).case?.id === id);
      expect(got.map((r) => (r.body as { event: string }).event)).toContain('case.assigned');
    } finally {
      await new Promise<void>((r) => bureaus.server.close(() => r()));
    }
  });
});
