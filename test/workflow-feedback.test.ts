import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { beforeAll, describe, expect, it } from 'vitest';
import { listAssignments } from '../db/repositories/assignments.repository.js';
import { findCase } from '../db/repositories/cases.repository.js';
import { listEvents } from '../db/repositories/events.repository.js';
import { statsCaseBatches } from '../db/repositories/stats.repository.js';
import { assignmentFacts, createStatsAccumulator, type StatsAssignment, type StatsCase } from '../src/stats/stats.js';
import { issueToken } from '../db/repositories/tokens.repository.js';
import { createUser } from '../db/repositories/users.repository.js';
import { jobId } from '../queues/jobs.js';
import { createProcessors, type Processors } from '../queues/processors/index.js';
import { ManualClock } from '../src/clock.js';
import { processorDeps } from '../src/deps.js';
import { loadDistrictFile } from '../src/district/district-file.js';
import { createRuleClassifier } from '../src/pipeline/rule-classifier.js';
import type { Service } from '../src/runtime.js';
import { wakeUpsFor } from '../src/workflow/deadline-check.js';
import { bodyOf, createPgDatabase, postJson, startTestService, testEnv, waitFor } from './harness.js';

// livestock_waste → lead agri, co epb, jurisdiction huilongxu; not urgent.
const REPORT = '回龙圩镇朱家观村有个养猪场把猪粪直接排到河里，臭得很';
const START = '2026-11-02T02:00:00.000Z'; // Monday 10:00 in Beijing

interface PublicView {
  status: string;
  deadlines: { signBy: string | null; replyBy: string | null; rateBy: string | null };
  reply: { text: string; at: string } | null;
  rating: { rating: string; solved: boolean; at: string } | null;
  history: Array<{ status: string; at: string; note: string | null }>;
}

describe.each([
  ['SQLite', async () => ({})],
  ['PostgreSQL', async () => ({ DATABASE_URL: await createPgDatabase('feedback') })],
])('POST /api/v1/track/:trackingCode/feedback on %s', (_engine, dbEnv) => {
  let service: Service & { url: string };
  let clock: ManualClock;
  let processors: Processors;
  let queue: Queue;
  let closeQueue: () => Promise<void>;
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    clock = new ManualClock(START);
    // The API alone: the test runs the intake itself, so nothing moves behind its back.
    const env = testEnv('feedback', await dbEnv());
    const district = loadDistrictFile();
    service = await startTestService(env, 'api', { clock, district, classifier: createRuleClassifier(district) });
    processors = createProcessors(processorDeps(service.deps));
    const connection = new Redis(env.REDIS_URL, { maxRetriesPerRequest: null });
    queue = new Queue('deadline', { connection, prefix: env.QUEUE_PREFIX });
    closeQueue = async () => {
      await queue.close();
      connection.disconnect();
    };
    for (const unit of ['agri', 'epb', 'huilongxu', 'water']) {
      const user = await createUser(service.deps.db, { name: `${unit} staff`, role: 'bureau', unitCode: unit, at: START });
      tokens[unit] = (await issueToken(service.deps.db, { userId: user.id, label: null, at: START })).token;
    }
    const dispatcher = await createUser(service.deps.db, { name: 'dispatcher', role: 'dispatcher', unitCode: null, at: START });
    tokens.dispatcher = (await issueToken(service.deps.db, { userId: dispatcher.id, label: null, at: START })).token;
    return () => closeQueue();
  });

  const api = () => `${service.url}/api/v1`;
  const ctx = { jobId: 'test', attempt: 1, maxAttempts: 1 };

  async function bureau(unit: string, caseId: string, action: 'accept' | 'reply', body: unknown = {}) {
    const res = await postJson(`${api()}/cases/${caseId}/${action}`, body, { authorization: `Bearer ${tokens[unit]}` });
    expect(res.ok, `${unit} ${action}: ${res.status} ${JSON.stringify(await bodyOf(res.clone()))}`).toBe(true);
  }

  async function dispatchedCase(): Promise<{ id: string; trackingCode: string }> {
    clock.set(START);
    const res = await postJson(`${api()}/reports`, { text: REPORT, anonymous: true });
    expect(res.status).toBe(202);
    const created = (await res.json()) as { id: string; trackingCode: string };
    expect(await processors.intake({ caseId: created.id }, ctx)).toBe('dispatch: livestock_waste');
    return created;
  }

  /** Every unit signs for and answers its part, the lead last; the lead's answer carries a phone number. */
  async function repliedCase(): Promise<{ id: string; trackingCode: string }> {
    const created = await dispatchedCase();
    clock.set('2026-11-03T02:00:00.000Z');
    for (const unit of ['epb', 'huilongxu', 'agri']) await bureau(unit, created.id, 'accept');
    clock.set('2026-11-05T02:00:00.000Z');
    await bureau('epb', created.id, 'reply', { text: '已配合现场检查' });
    await bureau('huilongxu', created.id, 'reply', { text: '已督促养殖户整改' });
    await bureau('agri', created.id, 'reply', { text: '已责令养猪场停止直排，整改联系人13912345678' });
    expect((await findCase(service.deps.db, created.id))!.status).toBe('replied');
    return created;
  }

  const rate = (code: string, body: unknown) => postJson(`${api()}/track/${code}/feedback`, body);

  /** A replied case rated dissatisfied on Friday 2026-11-06 10:00 (agri's answer), then re-routed to water as lead an hour later. */
  async function reopenedToWater(): Promise<{ id: string; trackingCode: string }> {
    const { id, trackingCode } = await repliedCase();
    clock.set('2026-11-06T02:00:00.000Z'); // Friday 10:00
    expect((await rate(trackingCode, { rating: 'dissatisfied', solved: false })).status).toBe(201);
    clock.set('2026-11-06T03:00:00.000Z');
    const routed = await postJson(
      `${api()}/cases/${id}/route`,
      { type: 'livestock_waste', lead: 'water', co: ['epb'], jurisdiction: 'huilongxu', reason: '重办改由水利局牵头' },
      { authorization: `Bearer ${tokens.dispatcher}` },
    );
    expect(routed.status, JSON.stringify(await bodyOf(routed.clone()))).toBe(200);
    return { id, trackingCode };
  }

  const track = async (code: string) => (await (await fetch(`${api()}/track/${code}`)).json()) as PublicView;

  it('closes the case on a satisfied rating and shows the reply and the rating publicly', async () => {
    const { id, trackingCode } = await repliedCase();
    const before = await track(trackingCode);
    // The rating window is 7 days from the reply.
    expect(before.deadlines.rateBy).toBe('2026-11-12T02:00:00.000Z');
    expect(before.reply).toEqual({ text: '已责令养猪场停止直排，整改联系人139****5678', at: '2026-11-05T02:00:00.000Z' });
    expect(before.rating).toBeNull();

    clock.set('2026-11-06T02:00:00.000Z');
    const res = await rate(trackingCode.toLowerCase(), { rating: 'satisfied', solved: true, comment: '处理得很及时' });
    const body = await bodyOf(res);
    expect(res.status, JSON.stringify(body)).toBe(201);
    expect(body).toEqual({
      trackingCode,
      status: 'closed',
      round: 1,
      rating: { rating: 'satisfied', solved: true, at: '2026-11-06T02:00:00.000Z' },
      deadlines: null,
    });

    const c = (await findCase(service.deps.db, id))!;
    expect(c).toMatchObject({ status: 'closed', closeReason: 'rated', closedAt: '2026-11-06T02:00:00.000Z', round: 1 });
    const ratings = await service.deps.db.selectFrom('ratings').selectAll().where('case_id', '=', id).execute();
    expect(ratings).toHaveLength(1);
    expect(ratings[0]).toMatchObject({ round: 1, rating: 'satisfied', comment: '处理得很及时', channel: 'web' });
    expect(Number(ratings[0]!.solved)).toBe(1);

    const after = await track(trackingCode);
    expect(after.status).toBe('closed');
    expect(after.rating).toEqual({ rating: 'satisfied', solved: true, at: '2026-11-06T02:00:00.000Z' });
    expect(after.history.at(-1)).toMatchObject({ status: 'closed', note: '评价：满意（已解决），办结' });
    // The comment is kept with the rating, never on the public timeline.
    expect(JSON.stringify(after)).not.toContain('处理得很及时');
    const events = await listEvents(service.deps.db, id);
    expect(events.at(-1)).toMatchObject({ kind: 'status', fromStatus: 'replied', toStatus: 'closed', actor: { type: 'reporter' } });
    const told = await service.deps.db.selectFrom('notifications').select(['kind', 'audience']).where('case_id', '=', id).where('audience', '=', 'reporter').execute();
    expect(told.map((n) => n.kind)).toContain('closed');

    // Rating twice is refused.
    const again = await rate(trackingCode, { rating: 'dissatisfied', solved: false });
    const againBody = (await bodyOf(again)) as { error: { code: string; message: string } };
    expect(again.status, JSON.stringify(againBody)).toBe(409);
    expect(againBody.error.code).toBe('illegal_transition');
    expect(againBody.error.message).toMatch(/already been rated/);
  });

  it('answers a rating sent again (a retry after its answer was lost) as the first send was, rating nothing twice; another rating is still refused', async () => {
    const ratingsOf = (id: string) => service.deps.db.selectFrom('ratings').select(['round', 'rating']).where('case_id', '=', id).execute();
    for (const [choices, status] of [
      [{ rating: 'satisfied', solved: true, comment: '处理得很及时' }, 'closed'],
      [{ rating: 'dissatisfied', solved: false }, 'reopened'],
    ] as const) {
      const { id, trackingCode } = await repliedCase();
      clock.set('2026-11-06T02:00:00.000Z');
      const first = await rate(trackingCode, choices);
      const firstBody = await bodyOf(first);
      expect(first.status, JSON.stringify(firstBody)).toBe(201);
      expect(firstBody).toMatchObject({ status });
      clock.set('2026-11-06T02:05:00.000Z');
      const again = await rate(trackingCode.toLowerCase(), choices);
      const againBody = await bodyOf(again);
      expect(again.status, JSON.stringify(againBody)).toBe(201);
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      expect(againBody).toEqual(firstBody);
      expect(await ratingsOf(id)).toEqual([{ round: 1, rating: choices.rating }]);
      // Other choices, or another comment, are another rating: refused as before.
      for (const other of [{ ...choices, rating: 'basic' }, { ...choices, comment: '另一条意见' }]) {
        const refused = await rate(trackingCode, other);
        const refusedBody = (await bodyOf(refused)) as { error: { code: string } };
        expect(refused.status, JSON.stringify(refusedBody)).toBe(409);
        expect(refusedBody.error.code).toBe('illegal_transition');
        expect(refused.headers.get('idempotent-replayed')).toBeNull();
      }
      expect(await ratingsOf(id)).toHaveLength(1);
    }
  });

  it('with the answer it rates, rates nothing when the bureau has answered again since: 409 naming answer; a retry of the rating made is still replayed', async () => {
    const ratingsOf = (id: string) => service.deps.db.selectFrom('ratings').select(['round', 'rating']).where('case_id', '=', id).orderBy('round').execute();
    const { id, trackingCode } = await repliedCase();
    const first = (await track(trackingCode)).reply!.at;
    clock.set('2026-11-06T02:00:00.000Z');
    const dissatisfied = { rating: 'dissatisfied', solved: false, answer: first };
    const made = await rate(trackingCode, dissatisfied);
    const madeBody = await bodyOf(made);
    expect(made.status, JSON.stringify(madeBody)).toBe(201);
    expect(madeBody).toMatchObject({ status: 'reopened', round: 2 });
    // The lead answers again while the app's answer was lost on the way.
    clock.set('2026-11-06T08:00:00.000Z');
    await bureau('agri', id, 'accept');
    clock.set('2026-11-10T02:00:00.000Z');
    await bureau('agri', id, 'reply', { text: '养猪场已建沼气池，粪污不再直排' });
    const second = (await track(trackingCode)).reply!.at;
    expect(second).toBe('2026-11-10T02:00:00.000Z');

    clock.set('2026-11-10T03:00:00.000Z');
    // The app's retry of what it sent: the rating made stands, the new answer is not rated unread.
    const retry = await rate(trackingCode, dissatisfied);
    const retryBody = await bodyOf(retry);
    expect(retry.status, JSON.stringify(retryBody)).toBe(201);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(retryBody).toMatchObject({ status: 'replied', round: 2, rating: { rating: 'dissatisfied', solved: false, at: '2026-11-06T02:00:00.000Z' } });
    // Another rating of the earlier answer: refused, naming the field, nothing rated.
    for (const other of [{ rating: 'satisfied', solved: true, answer: first }, { ...dissatisfied, comment: '还是在排' }]) {
      const refused = await rate(trackingCode, other);
      const refusedBody = (await bodyOf(refused)) as { error: { code: string; fields?: Record<string, string> } };
      expect(refused.status, JSON.stringify(refusedBody)).toBe(409);
      expect(refusedBody.error.code).toBe('conflict');
      expect(refusedBody.error.fields).toEqual({ answer: expect.stringContaining('not the current answer') });
      expect(refused.headers.get('idempotent-replayed')).toBeNull();
    }
    expect(await ratingsOf(id)).toEqual([{ round: 1, rating: 'dissatisfied' }]);
    expect((await findCase(service.deps.db, id))!.status).toBe('replied');
    // What is no time is named as such.
    const bad = await rate(trackingCode, { rating: 'satisfied', solved: true, answer: '上一次' });
    expect(bad.status).toBe(400);
    expect(((await bodyOf(bad)) as { error: { fields: Record<string, string> } }).error.fields).toEqual({ answer: expect.stringContaining('reply.at') });
    // The current answer, written with the district's offset too, is rated.
    const rated = await rate(trackingCode, { rating: 'satisfied', solved: true, answer: '2026-11-10T10:00:00+08:00' });
    const ratedBody = await bodyOf(rated);
    expect(rated.status, JSON.stringify(ratedBody)).toBe(201);
    expect(ratedBody).toMatchObject({ status: 'closed', round: 2 });
    expect(await ratingsOf(id)).toEqual([{ round: 1, rating: 'dissatisfied' }, { round: 2, rating: 'satisfied' }]);
    // The document says so.
    const doc = (await (await fetch(`${service.url}/openapi.json`)).json()) as { components: { schemas: Record<string, { properties: Record<string, { description?: string }> }> } };
    expect(doc.components.schemas.FeedbackInput!.properties.answer!.description).toContain('409 conflict');
  });

  it('reopens a re-routed case for the lead it was re-routed to, never the released one', async () => {
    const created = await dispatchedCase();
    clock.set('2026-11-02T03:00:00.000Z');
    // agri (lead) is released; water leads; "agri" sorts before "water", so a first-lead lookup would find the released row.
    const routed = await postJson(
      `${api()}/cases/${created.id}/route`,
      { type: 'livestock_waste', lead: 'water', co: ['epb'], jurisdiction: 'huilongxu', reason: '改由水利局牵头' },
      { authorization: `Bearer ${tokens.dispatcher}` },
    );
    expect(routed.status, JSON.stringify(await bodyOf(routed.clone()))).toBe(200);
    clock.set('2026-11-03T02:00:00.000Z');
    for (const unit of ['epb', 'huilongxu', 'water']) await bureau(unit, created.id, 'accept');
    clock.set('2026-11-05T02:00:00.000Z');
    await bureau('epb', created.id, 'reply', { text: '已配合现场检查' });
    await bureau('huilongxu', created.id, 'reply', { text: '已督促整改' });
    await bureau('water', created.id, 'reply', { text: '已封堵排污口' });
    expect((await track(created.trackingCode)) as unknown).toMatchObject({ status: 'replied', lead: { code: 'water' } });

    clock.set('2026-11-06T02:00:00.000Z');
    const res = await rate(created.trackingCode, { rating: 'dissatisfied', solved: false });
    expect(res.status, JSON.stringify(await bodyOf(res.clone()))).toBe(201);
    const leads = (await listAssignments(service.deps.db, created.id)).filter((a) => a.role === 'lead');
    expect(leads.map((a) => [a.unitCode, a.status, a.round]).sort()).toEqual([
      ['agri', 'released', 1],
      ['water', 'pending', 2],
    ]);
    const view = (await track(created.trackingCode)) as unknown as PublicView & { lead: { code: string }; coHandlers: Array<{ code: string }> };
    expect(view.lead.code).toBe('water');
    expect(view.coHandlers.map((u) => u.code)).toEqual(['epb']);
    expect(view.history.at(-1)!.note).toContain('区水利局');
    // The new lead can sign for the new round; the released one cannot act on the case.
    await bureau('water', created.id, 'accept');
    const released = await postJson(`${api()}/cases/${created.id}/accept`, {}, { authorization: `Bearer ${tokens.agri}` });
    expect(released.ok).toBe(false);
  });

  it('closes on a basically-satisfied rating even when the problem is not solved', async () => {
    const { id, trackingCode } = await repliedCase();
    const res = await rate(trackingCode, { rating: 'basic', solved: false });
    expect(res.status, JSON.stringify(await bodyOf(res.clone()))).toBe(201);
    expect((await findCase(service.deps.db, id))!).toMatchObject({ status: 'closed', closeReason: 'rated' });
    expect((await track(trackingCode)).rating).toMatchObject({ rating: 'basic', solved: false });
  });

  it('reopens a dissatisfied case for the lead bureau with shorter deadlines, and the bureau handles it again (重办)', async () => {
    const { id, trackingCode } = await repliedCase();
    const firstRound = await listAssignments(service.deps.db, id);

    clock.set('2026-11-06T02:00:00.000Z'); // Friday 10:00
    const res = await rate(trackingCode, { rating: 'dissatisfied', solved: false, comment: '还在排' });
    const body = await bodyOf(res);
    expect(res.status, JSON.stringify(body)).toBe(201);
    // Sign for within 24 h; reply within 5 working days (Mon 11-09 … Fri 11-13) instead of 15.
    const deadlines = { signBy: '2026-11-07T02:00:00.000Z', replyBy: '2026-11-13T02:00:00.000Z' };
    expect(body).toEqual({
      trackingCode,
      status: 'reopened',
      round: 2,
      rating: { rating: 'dissatisfied', solved: false, at: '2026-11-06T02:00:00.000Z' },
      deadlines,
    });

    const c = (await findCase(service.deps.db, id))!;
    expect(c).toMatchObject({ status: 'reopened', round: 2, deadlines: { ...deadlines, rateBy: null }, closedAt: null });
    const assignments = await listAssignments(service.deps.db, id);
    const lead = assignments.find((a) => a.role === 'lead')!;
    expect(lead).toMatchObject({
      unitCode: 'agri',
      status: 'pending',
      round: 2,
      deadlines,
      acceptedAt: null,
      acceptedBy: null,
      repliedAt: null,
      replyText: null,
      signOverdueAt: null,
      replyOverdueAt: null,
      supervisedAt: null,
    });
    // The co-handlers' part was done: they stay as they were.
    for (const a of assignments.filter((x) => x.role !== 'lead')) {
      expect(a).toEqual(firstRound.find((x) => x.id === a.id));
    }
    // The statistics still see the lead's first round (signed for and replied on time), besides the new one.
    const firstLead = firstRound.find((a) => a.role === 'lead')!;
    let seen: StatsAssignment[] = [];
    for await (const batch of statsCaseBatches(service.deps.db, { fromInstant: START, toInstant: '2026-11-07T00:00:00.000Z' })) {
      seen = batch.find((x) => x.id === id)?.assignments ?? seen;
    }
    expect(seen.filter((a) => a.unitCode === 'agri')).toEqual([
      { unitCode: 'agri', status: 'replied', signBy: firstLead.deadlines.signBy, replyBy: firstLead.deadlines.replyBy, acceptedAt: firstLead.acceptedAt, repliedAt: firstLead.repliedAt, returnedAt: null, releasedAt: null },
      { unitCode: 'agri', status: 'pending', signBy: deadlines.signBy, replyBy: deadlines.replyBy, acceptedAt: null, repliedAt: null, returnedAt: null, releasedAt: null },
    ]);
    expect(assignmentFacts(seen[0]!, true, Date.parse('2026-11-06T02:00:00.000Z'))).toMatchObject({ signedOnTime: true, due: true, repliedOnTime: true });
    const ratings = await service.deps.db.selectFrom('ratings').select(['round', 'rating', 'channel']).where('case_id', '=', id).execute();
    expect(ratings).toEqual([{ round: 1, rating: 'dissatisfied', channel: 'web' }]);

    // The reporter and the lead bureau are told; wake-ups are queued at the new timers.
    const notes = await service.deps.db.selectFrom('notifications').select(['audience', 'kind']).where('case_id', '=', id).where('kind', '=', 'reopened').execute();
    expect(notes.map((n) => n.audience).sort()).toEqual(['reporter', 'unit:agri']);
    const wakeUps = wakeUpsFor(service.deps.district, service.deps.calendar, deadlines);
    expect(wakeUps).toContain(deadlines.signBy);
    // One timer at a time: the first wake-up of the new round (each wake-up schedules the next).
    const ahead = wakeUps.filter((at) => Date.parse(at) > service.deps.clock.now().getTime()).sort();
    await waitFor(
      async () => queue.getJob(jobId.deadline({ caseId: id, at: ahead[0]! })),
      { what: 'the first wake-up of the new round in the queue' },
    );

    // The public view: reopened, new deadlines, the first reply still readable, the rating shown.
    const view = await track(trackingCode);
    expect(view.status).toBe('reopened');
    expect(view.deadlines).toEqual({ ...deadlines, rateBy: null });
    expect(view.reply).toEqual({ text: '已责令养猪场停止直排，整改联系人139****5678', at: '2026-11-05T02:00:00.000Z' });
    expect(view.rating).toEqual({ rating: 'dissatisfied', solved: false, at: '2026-11-06T02:00:00.000Z' });
    expect(view.history.at(-1)).toMatchObject({ status: 'reopened' });
    expect(JSON.stringify(view)).not.toContain('还在排');

    // Rating again before the new reply is refused: the case is not replied.
    const early = await rate(trackingCode, { rating: 'satisfied', solved: true });
    expect(early.status).toBe(409);
    expect(((await bodyOf(early)) as { error: { code: string } }).error.code).toBe('illegal_transition');

    // A co-handler cannot act on the new round: it has nothing left to do.
    const coAccept = await postJson(`${api()}/cases/${id}/accept`, {}, { authorization: `Bearer ${tokens.epb}` });
    expect(coAccept.status).toBe(409);

    // Round 2: the lead signs for it and replies again; that alone ends the bureau phase.
    clock.set('2026-11-06T08:00:00.000Z');
    await bureau('agri', id, 'accept');
    expect((await findCase(service.deps.db, id))!.status).toBe('accepted');
    clock.set('2026-11-10T02:00:00.000Z');
    await bureau('agri', id, 'reply', { text: '养猪场已建沼气池，粪污不再直排' });
    const replied = (await findCase(service.deps.db, id))!;
    expect(replied).toMatchObject({ status: 'replied', round: 2, deadlines: { rateBy: '2026-11-17T02:00:00.000Z' } });
    expect((await track(trackingCode)).reply).toEqual({ text: '养猪场已建沼气池，粪污不再直排', at: '2026-11-10T02:00:00.000Z' });

    // The second reply gets its own rating.
    const second = await rate(trackingCode, { rating: 'satisfied', solved: true });
    expect(second.status, JSON.stringify(await bodyOf(second.clone()))).toBe(201);
    expect(((await second.json()) as { status: string; round: number })).toMatchObject({ status: 'closed', round: 2 });
    const all = await service.deps.db.selectFrom('ratings').select(['round', 'rating']).where('case_id', '=', id).orderBy('round').execute();
    expect(all).toEqual([
      { round: 1, rating: 'dissatisfied' },
      { round: 2, rating: 'satisfied' },
    ]);
    expect((await track(trackingCode)).rating).toMatchObject({ rating: 'satisfied', solved: true });
  });

  it('gives a unit the dispatcher adds to a reopened case the shorter deadlines of the reopened round', async () => {
    const { id } = await reopenedToWater();
    // Sign for within 24 h and reply within 5 working days (Mon 11-09 … Fri 11-13), as the reopened lead had: not 15.
    const shorter = { signBy: '2026-11-07T03:00:00.000Z', replyBy: '2026-11-13T03:00:00.000Z' };
    const water = (await listAssignments(service.deps.db, id)).find((a) => a.unitCode === 'water')!;
    expect(water).toMatchObject({ role: 'lead', status: 'pending', round: 2, deadlines: shorter });
    expect((await findCase(service.deps.db, id))!).toMatchObject({ status: 'dispatched', deadlines: { ...shorter, rateBy: null } });
  });

  it('credits each rating to the lead whose answer it judged: the first lead, and the one a dispatcher re-routed the reopened case to', async () => {
    const { id, trackingCode } = await reopenedToWater();
    // The re-route gives the co-handler and the local office the case again: every unit answers the new round.
    clock.set('2026-11-06T08:00:00.000Z');
    for (const unit of ['epb', 'huilongxu', 'water']) await bureau(unit, id, 'accept');
    clock.set('2026-11-10T02:00:00.000Z');
    await bureau('epb', id, 'reply', { text: '已再次现场检查' });
    await bureau('huilongxu', id, 'reply', { text: '已督促清理' });
    await bureau('water', id, 'reply', { text: '河道已清淤' });
    const second = await rate(trackingCode, { rating: 'satisfied', solved: true });
    expect(second.status, JSON.stringify(await bodyOf(second.clone()))).toBe(201);

    let seen: StatsCase | undefined;
    for await (const batch of statsCaseBatches(service.deps.db, { fromInstant: START, toInstant: '2026-11-07T00:00:00.000Z' })) {
      seen = batch.find((x) => x.id === id) ?? seen;
    }
    expect(seen!.ratings).toEqual([
      { rating: 'dissatisfied', solved: false, unitCode: 'agri' },
      { rating: 'satisfied', solved: true, unitCode: 'water' },
    ]);
    // By bureau, the case is received by every unit it was given to, and each rating (and the reopening) counts for the
    // lead that answered: the co-handler and the local office, whose parts nobody rated, have no satisfaction rate.
    const acc = createStatsAccumulator({ groupBy: 'bureau', now: clock.now(), timeZone: 'Asia/Shanghai' });
    acc.add(seen!);
    const byUnit = Object.fromEntries(
      [...acc.counts()].map(([unit, c]) => [unit, { received: c.received, rated: c.rated, satisfied: c.satisfied, dissatisfied: c.dissatisfied, solved: c.solved, reopened: c.reopened }]),
    );
    const none = { rated: 0, satisfied: 0, dissatisfied: 0, solved: 0, reopened: 0 };
    expect(byUnit).toEqual({
      agri: { received: 1, rated: 1, satisfied: 0, dissatisfied: 1, solved: 0, reopened: 1 },
      water: { received: 1, rated: 1, satisfied: 1, dissatisfied: 0, solved: 1, reopened: 0 },
      epb: { received: 1, ...none },
      huilongxu: { received: 1, ...none },
    });
    // The totals count each rating once.
    expect(acc.totals()).toMatchObject({ received: 1, rated: 2, satisfied: 1, dissatisfied: 1, solved: 1, reopened: 1 });
  });

  it('refuses to rate a case that has not been replied to', async () => {
    const { id, trackingCode } = await dispatchedCase();
    const res = await rate(trackingCode, { rating: 'satisfied', solved: true });
    const body = (await bodyOf(res)) as { error: { code: string; message: string } };
    expect(res.status, JSON.stringify(body)).toBe(409);
    expect(body.error).toMatchObject({ code: 'illegal_transition', message: expect.stringMatching(/only a replied case can be rated; this case is dispatched/) });
    expect(await service.deps.db.selectFrom('ratings').select('id').where('case_id', '=', id).execute()).toEqual([]);
  });

  it('refuses a rating after the window closed, even before the timer closed the case', async () => {
    const { trackingCode } = await repliedCase();
    clock.set('2026-11-12T02:00:00.000Z');
    const res = await rate(trackingCode, { rating: 'satisfied', solved: true });
    expect(res.status).toBe(409);
    expect(((await bodyOf(res)) as { error: { message: string } }).error.message).toMatch(/rating window closed/);
  });

  it('lets only one of two simultaneous ratings through', async () => {
    const { id, trackingCode } = await repliedCase();
    const results = await Promise.all([
      rate(trackingCode, { rating: 'satisfied', solved: true }),
      rate(trackingCode, { rating: 'dissatisfied', solved: false }),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual([201, 409]);
    expect(await service.deps.db.selectFrom('ratings').select('id').where('case_id', '=', id).execute()).toHaveLength(1);
    const status = (await findCase(service.deps.db, id))!.status;
    expect(['closed', 'reopened']).toContain(status);
  });

  it.each([
    ['an unknown rating', { rating: 'excellent', solved: true }, 'rating'],
    ['no rating', { solved: true }, 'rating'],
    ['no solved', { rating: 'satisfied' }, 'solved'],
    ['solved as text', { rating: 'satisfied', solved: 'yes' }, 'solved'],
    ['a comment over 500 characters', { rating: 'satisfied', solved: true, comment: '很'.repeat(501) }, 'comment'],
    ['a comment that is not text', { rating: 'satisfied', solved: true, comment: 5 }, 'comment'],
    ['a comment with a NUL character', { rating: 'satisfied', solved: true, comment: '还在\u0000排' }, 'comment'],
  ])('answers 400 naming the field for %s', async (_what, body, field) => {
    const { trackingCode } = await dispatchedCase();
    const res = await rate(trackingCode, body);
    const answer = (await bodyOf(res)) as { error: { code: string; fields: Record<string, string> } };
    expect(res.status, JSON.stringify(answer)).toBe(400);
    expect(answer.error.code).toBe('validation_failed');
    expect(Object.keys(answer.error.fields)).toContain(field);
  });

  it('names a field it does not know instead of rating without it: a misspelt comment', async () => {
    const { id, trackingCode } = await repliedCase();
    const res = await rate(trackingCode, { rating: 'satisfied', solved: true, coment: '处理得很及时' });
    const answer = (await bodyOf(res)) as { error: { code: string; fields: Record<string, string> } };
    expect(res.status, JSON.stringify(answer)).toBe(400);
    expect(answer.error.fields).toEqual({ coment: 'unknown field' });
    // Nothing rated: the case waits for the reporter's rating as before.
    expect(await service.deps.db.selectFrom('ratings').select('id').where('case_id', '=', id).execute()).toEqual([]);
    expect((await findCase(service.deps.db, id))!.status).toBe('replied');
  });

  it('answers 400 for a body that is not JSON', async () => {
    const { trackingCode } = await dispatchedCase();
    const res = await postJson(`${api()}/track/${trackingCode}/feedback`, '{"rating":');
    expect(res.status).toBe(400);
  });

  it.each([
    ['a code nobody was given', 'AAAAAAAAAA'],
    ['something that is not a tracking code', 'not-a-code!'],
  ])('answers 404 for %s', async (_what, code) => {
    const res = await rate(code, { rating: 'satisfied', solved: true });
    const body = (await bodyOf(res)) as { error: { code: string } };
    expect(res.status, JSON.stringify(body)).toBe(404);
    expect(body.error.code).toBe('not_found');
  });

  it('is public: a staff token neither helps nor is needed', async () => {
    const { id, trackingCode } = await repliedCase();
    const res = await postJson(`${api()}/track/${trackingCode}/feedback`, { rating: 'satisfied', solved: true }, { authorization: `Bearer ${tokens.agri}` });
    expect(res.status).toBe(201);
    // Recorded as the reporter's own rating through the web, whoever's token came along.
    const ratings = await service.deps.db.selectFrom('ratings').select('channel').where('case_id', '=', id).execute();
    expect(ratings).toEqual([{ channel: 'web' }]);
    const last = (await listEvents(service.deps.db, id)).at(-1)!;
    expect(last.actor).toEqual({ type: 'reporter', id: null, role: null });
  });
});
