import { readFileSync } from 'node:fs';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { beforeAll, describe, expect, it } from 'vitest';
import { insertActionKey, KEEP_ACTION_KEYS_MS } from '../db/repositories/action-keys.repository.js';
import { listAssignments } from '../db/repositories/assignments.repository.js';
import { findCase } from '../db/repositories/cases.repository.js';
import { listEvents } from '../db/repositories/events.repository.js';
import { jobId } from '../queues/jobs.js';
import { createProcessors, type Processors } from '../queues/processors/index.js';
import { createReconciler, sweepDeadlines } from '../queues/reconciler.js';
import { ManualClock } from '../src/clock.js';
import { processorDeps } from '../src/deps.js';
import { buildDistrict, type DistrictFile } from '../src/district/district.schema.js';
import { DEFAULT_DISTRICT_PATH } from '../src/district/district-file.js';
import { createLogger } from '../src/logger.js';
import { calendarFor, WorkCalendar } from '../src/pipeline/deadlines.js';
import { createRuleClassifier } from '../src/pipeline/rule-classifier.js';
import type { Service } from '../src/runtime.js';
import { moveCase, SYSTEM } from '../src/workflow/transition.js';
import { superviseCase } from '../src/workflow/dispatcher.js';
import { dueTimers, reopenDeadlines, wakeUpsFor } from '../src/workflow/deadline-check.js';
import { createPgDatabase, postJson, startTestService, testEnv, waitFor } from './harness.js';

const HOUR = 3_600_000;

function districtFile(): DistrictFile {
  return JSON.parse(readFileSync(DEFAULT_DISTRICT_PATH, 'utf8')) as DistrictFile;
}

/** The default district, supervising 3 working days after a missed deadline (so the 2026 make-up Saturday counts). */
function testDistrict() {
  const file = districtFile();
  file.supervision = { remindBeforeHours: 4, superviseAfterWorkingDays: 3 };
  return buildDistrict(file);
}

// A pig farm in 回龙圩镇: livestock_waste → lead agri, co epb, jurisdiction huilongxu (not urgent).
const REPORT = '回龙圩镇朱家观村有个养猪场把猪粪直接排到河里，臭得很';

describe('deadline timers on the working-day calendar (no database)', () => {
  const district = buildDistrict(districtFile());
  const calendar = calendarFor(district);

  it('wakes up at the reminder, the deadline and the supervision instant of each stage, across National Day 2026', () => {
    // Dispatched Tue 2026-09-29 09:00 Beijing: sign by Wed 09-30 09:00; reply 15 working days later
    // (10-01..10-07 are off, Sat 10-10 is a make-up workday) = Mon 10-26 09:00.
    const deadlines = { signBy: '2026-09-30T01:00:00.000Z', replyBy: '2026-10-26T01:00:00.000Z' };
    expect(wakeUpsFor(district, calendar, deadlines)).toEqual([
      '2026-09-29T21:00:00.000Z', // 4 h before signing
      '2026-09-30T01:00:00.000Z', // sign-for deadline
      '2026-10-09T01:00:00.000Z', // 2 working days later: Thu 10-08, Fri 10-09
      '2026-10-25T21:00:00.000Z',
      '2026-10-26T01:00:00.000Z',
      '2026-10-28T01:00:00.000Z', // Tue 10-27, Wed 10-28
    ]);
    // With 3 working days the make-up Saturday counts as one.
    expect(wakeUpsFor(testDistrict(), calendar, deadlines)).toContain('2026-10-10T01:00:00.000Z');
  });

  it('defaults supervision to 4 h / 2 working days and the reopened reply to half the normal one when the file says nothing', () => {
    const file = districtFile();
    delete (file as Partial<DistrictFile>).supervision;
    delete file.deadlines.reopened;
    const bare = buildDistrict(file);
    expect(bare.file.supervision).toEqual({ remindBeforeHours: 4, superviseAfterWorkingDays: 2 });
    const cal = new WorkCalendar('Asia/Shanghai');
    // Reopened Mon 2026-11-02 10:00: sign 24 h, reply ceil(15 / 2) = 8 working days → Thu 11-12.
    expect(reopenDeadlines(bare, cal, 'livestock_waste', false, new Date('2026-11-02T02:00:00.000Z'))).toEqual({
      signBy: '2026-11-03T02:00:00.000Z',
      replyBy: '2026-11-12T02:00:00.000Z',
    });
    // The bundled file: 24 h and 5 working days; an urgent case keeps its shorter urgent times.
    const bundled = buildDistrict(districtFile());
    expect(reopenDeadlines(bundled, cal, 'livestock_waste', false, new Date('2026-11-02T02:00:00.000Z'))).toEqual({
      signBy: '2026-11-03T02:00:00.000Z',
      replyBy: '2026-11-09T02:00:00.000Z',
    });
    expect(reopenDeadlines(bundled, cal, 'livestock_waste', true, new Date('2026-11-02T02:00:00.000Z'))).toEqual({
      signBy: '2026-11-02T04:00:00.000Z',
      replyBy: '2026-11-05T02:00:00.000Z',
    });
  });

  it('does not remind a unit of a deadline closer than the reminder period when it got the case (an urgent 2 h sign-for)', () => {
    const dispatched = '2026-11-02T02:00:00.000Z';
    const a = {
      unitCode: 'epb',
      status: 'pending' as const,
      deadlines: { signBy: '2026-11-02T04:00:00.000Z', replyBy: '2026-11-05T02:00:00.000Z' },
      signOverdueAt: null,
      replyOverdueAt: null,
      supervisedAt: null,
      updatedAt: dispatched,
    };
    const soon = new Date('2026-11-02T02:05:00.000Z');
    expect(dueTimers(district, calendar, a, soon, new Set())).toEqual([]);
    // The reply stage, days away, is reminded 4 h before as usual (the missed sign-for is overdue and supervised by then).
    expect(dueTimers(district, calendar, a, new Date('2026-11-04T22:30:00.000Z'), new Set())).toEqual([
      { kind: 'overdue', stage: 'sign', due: '2026-11-02T04:00:00.000Z' },
      { kind: 'reminder', stage: 'reply', due: '2026-11-05T02:00:00.000Z' },
      { kind: 'supervision', stage: 'sign', due: '2026-11-02T04:00:00.000Z' },
    ]);
    // Without knowing when the unit got it, the sign-for reminder would go out at once.
    const { updatedAt: _unknown, ...bare } = a;
    expect(dueTimers(district, calendar, bare, soon, new Set())).toEqual([{ kind: 'reminder', stage: 'sign', due: '2026-11-02T04:00:00.000Z' }]);
  });

  it('supervises a missed deadline once per round, and a dispatcher\'s 督办 made before anything was late does not stand for it', () => {
    // Dispatched Mon 11-02 10:00: sign-for by Tue 11-03 10:00, supervised 2 working days after (Thu 11-05 10:00).
    const base = {
      unitCode: 'epb',
      deadlines: { signBy: '2026-11-03T02:00:00.000Z', replyBy: '2026-11-23T02:00:00.000Z' },
      replyOverdueAt: null,
      updatedAt: '2026-11-02T02:00:00.000Z',
    };
    const never = { ...base, status: 'pending' as const, signOverdueAt: '2026-11-03T02:00:00.000Z' };
    const thursday = new Date('2026-11-05T02:00:00.000Z');
    const supervision = { kind: 'supervision', stage: 'sign', due: '2026-11-03T02:00:00.000Z' };
    // Supervised by a dispatcher on the first day, on the complaint's weight: the missed sign-for still earns its own.
    expect(dueTimers(district, calendar, { ...never, supervisedAt: '2026-11-02T03:00:00.000Z' }, thursday, new Set())).toEqual([supervision]);
    // Supervised after the sign-for was missed (by a dispatcher or the timers): not again.
    expect(dueTimers(district, calendar, { ...never, supervisedAt: '2026-11-04T02:00:00.000Z' }, thursday, new Set())).toEqual([]);
    // Signed late and supervised for it: the reply missed later earns no second one in the round.
    const signedLate = { ...base, status: 'accepted' as const, signOverdueAt: '2026-11-03T02:00:00.000Z', replyOverdueAt: '2026-11-23T02:00:00.000Z' };
    expect(dueTimers(district, calendar, { ...signedLate, supervisedAt: '2026-11-05T02:00:00.000Z' }, new Date('2026-11-27T02:00:00.000Z'), new Set())).toEqual([]);
    // Signed in time after an early 督办: the missed reply is supervised 2 working days after it (Wed 11-25).
    const onTime = { ...base, status: 'accepted' as const, signOverdueAt: null, replyOverdueAt: '2026-11-23T02:00:00.000Z', supervisedAt: '2026-11-02T03:00:00.000Z' };
    expect(dueTimers(district, calendar, onTime, new Date('2026-11-25T01:59:59.999Z'), new Set())).toEqual([]);
    expect(dueTimers(district, calendar, onTime, new Date('2026-11-25T02:00:00.000Z'), new Set())).toEqual([
      { kind: 'supervision', stage: 'reply', due: '2026-11-23T02:00:00.000Z' },
    ]);
  });

  it('rejects a bad supervision entry in the district file', () => {
    const file = districtFile();
    (file as unknown as { supervision: unknown }).supervision = { remindBeforeHours: -1, superviseAfterWorkingDays: 1.5 };
    expect(() => buildDistrict(file)).toThrow(/supervision\.remindBeforeHours.*supervision\.superviseAfterWorkingDays/s);
  });
});

describe.each([
  ['SQLite', async () => ({})],
  ['PostgreSQL', async () => ({ DATABASE_URL: await createPgDatabase('deadlines') })],
])('deadline timers on %s', (_engine, dbEnv) => {
  let service: Service & { url: string };
  let clock: ManualClock;
  let processors: Processors;
  let queue: Queue;

  beforeAll(async () => {
    clock = new ManualClock('2026-09-29T01:00:00.000Z');
    const district = testDistrict();
    // The API alone: no worker picks up the (real-time) delayed jobs, so only the test moves time.
    service = await startTestService(testEnv('deadlines', await dbEnv()), 'api', {
      clock,
      district,
      classifier: createRuleClassifier(district),
    });
    processors = createProcessors(processorDeps(service.deps));
    const connection = new Redis(service.deps.env.REDIS_URL, { maxRetriesPerRequest: null });
    queue = new Queue('deadline', { connection, prefix: service.deps.env.QUEUE_PREFIX });
    return async () => {
      await queue.close();
      connection.disconnect();
    };
  });

  /** A report dispatched at the clock's time. */
  async function dispatchedCase(at: string): Promise<{ id: string; trackingCode: string }> {
    clock.set(at);
    const res = await postJson(`${service.url}/api/v1/reports`, { text: REPORT, anonymous: true });
    expect(res.status).toBe(202);
    const created = (await res.json()) as { id: string; trackingCode: string };
    expect(await processors.intake({ caseId: created.id }, { jobId: 'x', attempt: 1, maxAttempts: 1 })).toBe('dispatch: livestock_waste');
    return created;
  }

  const ctx = { jobId: 'test', attempt: 1, maxAttempts: 1 };
  const wake = (caseId: string, at: string) => {
    clock.set(at);
    return processors.deadline({ caseId, at }, ctx);
  };

  async function notifications(caseId: string) {
    return service.deps.db
      .selectFrom('notifications')
      .select(['audience', 'kind', 'data'])
      .where('case_id', '=', caseId)
      .orderBy('created_at')
      .orderBy('audience')
      .execute();
  }

  it('reminds a unit that never signs, marks it overdue at the deadline, and supervises it 3 working days later (the make-up Saturday)', async () => {
    const { id, trackingCode } = await dispatchedCase('2026-09-29T01:00:00.000Z');
    const assignments = await listAssignments(service.deps.db, id);
    expect(assignments.map((a) => [a.unitCode, a.role])).toEqual([
      ['agri', 'lead'],
      ['epb', 'co'],
      ['huilongxu', 'jurisdiction'],
    ]);
    for (const a of assignments) {
      expect(a.deadlines).toEqual({ signBy: '2026-09-30T01:00:00.000Z', replyBy: '2026-10-26T01:00:00.000Z' });
    }

    // The wake-ups of each stage: reminder, deadline, supervision. One timer is
    // pending at a time: the intake schedules the first, each wake-up the next.
    const instants = wakeUpsFor(service.deps.district, service.deps.calendar, assignments[0]!.deadlines);
    expect(instants).toEqual([
      '2026-09-29T21:00:00.000Z',
      '2026-09-30T01:00:00.000Z',
      '2026-10-10T01:00:00.000Z',
      '2026-10-25T21:00:00.000Z',
      '2026-10-26T01:00:00.000Z',
      '2026-10-29T01:00:00.000Z',
    ]);
    await waitFor(() => queue.getJob(jobId.deadline({ caseId: id, at: instants[0]! })), { what: 'the first wake-up in the queue' });
    expect(await queue.getJob(jobId.deadline({ caseId: id, at: instants[1]! }))).toBeUndefined();

    expect(await wake(id, '2026-09-29T20:59:59.999Z')).toBe('nothing due');

    // 催办: 4 h before the sign-for deadline, once per unit.
    expect(await wake(id, '2026-09-29T21:00:00.000Z')).toBe('reminder: agri sign, reminder: epb sign, reminder: huilongxu sign');
    // …and that wake-up scheduled the next one, at the deadline.
    await waitFor(() => queue.getJob(jobId.deadline({ caseId: id, at: instants[1]! })), { what: 'the next wake-up in the queue' });
    const afterReminder = await notifications(id);
    expect(afterReminder.filter((n) => n.kind === 'reminder').map((n) => n.audience)).toEqual(['unit:agri', 'unit:epb', 'unit:huilongxu']);
    expect(await wake(id, '2026-09-29T23:00:00.000Z')).toBe('nothing due');

    // The deadline: overdue marks and escalation to the dispatchers.
    expect(await wake(id, '2026-09-30T01:00:00.000Z')).toBe('overdue: agri sign, overdue: epb sign, overdue: huilongxu sign');
    let c = (await findCase(service.deps.db, id))!;
    expect(c.overdue).toBe(true);
    expect(c.supervisedAt).toBeNull();
    const overdue = (await notifications(id)).filter((n) => n.kind === 'overdue');
    expect(overdue.map((n) => n.audience)).toEqual(['dispatchers', 'dispatchers', 'dispatchers']);
    expect((await listAssignments(service.deps.db, id)).every((a) => a.signOverdueAt === '2026-09-30T01:00:00.000Z')).toBe(true);

    // Working days 1 and 2 after the deadline are Thu 10-08 and Fri 10-09 (10-01..10-07 are the holiday).
    expect(await wake(id, '2026-10-09T01:00:00.000Z')).toBe('nothing due');
    expect(await wake(id, '2026-10-10T00:59:59.999Z')).toBe('nothing due');
    // Working day 3 is the make-up Saturday 10-10: 督办.
    expect(await wake(id, '2026-10-10T01:00:00.000Z')).toBe(
      'supervision: agri sign, supervision: epb sign, supervision: huilongxu sign',
    );
    c = (await findCase(service.deps.db, id))!;
    expect(c.supervisedAt).toBe('2026-10-10T01:00:00.000Z');
    expect(c.status).toBe('dispatched');
    expect((await listAssignments(service.deps.db, id)).every((a) => a.supervisedAt === '2026-10-10T01:00:00.000Z')).toBe(true);
    const supervision = (await notifications(id)).filter((n) => n.kind === 'supervision').map((n) => n.audience);
    expect(supervision.sort()).toEqual(['dispatchers', 'dispatchers', 'dispatchers', 'unit:agri', 'unit:epb', 'unit:huilongxu']);
    const publicEvents = await listEvents(service.deps.db, id, { publicOnly: true });
    expect(publicEvents.filter((e) => e.kind === 'supervised').map((e) => e.note)).toEqual(['已督办', '已督办', '已督办']);
    // Nothing in the public view names who reported it, supervised or not.
    const view = await (await fetch(`${service.url}/api/v1/track/${trackingCode}`)).json();
    expect(view).toMatchObject({ status: 'dispatched', reply: null, rating: null });

    // The reply deadline passes too: marked overdue, no second supervision, no late reminder.
    expect(await wake(id, '2026-10-26T01:00:00.000Z')).toBe('overdue: agri reply, overdue: epb reply, overdue: huilongxu reply');
    expect(await wake(id, '2026-10-29T01:00:00.000Z')).toBe('nothing due');
  });

  it('still supervises a lead whose missed sign-for comes after a dispatcher supervised it on the complaint\'s weight', async () => {
    const { id } = await dispatchedCase('2026-11-02T02:00:00.000Z');
    clock.set('2026-11-02T03:00:00.000Z');
    const desk = { userId: 'desk', name: '调度老李', role: 'dispatcher' as const, unitCode: null, tokenId: 'desk' };
    // Nothing is late yet: the lead is the one supervised.
    expect(await superviseCase(service.deps, desk, id, { note: '群众反映强烈，请尽快核查' })).toEqual({ units: ['agri'], replayed: false });
    expect(await wake(id, '2026-11-03T02:00:00.000Z')).toBe('overdue: agri sign, overdue: epb sign, overdue: huilongxu sign');
    // Three working days after the missed sign-for: every unit that missed it is supervised, the lead too.
    expect(await wake(id, '2026-11-06T02:00:00.000Z')).toBe('supervision: agri sign, supervision: epb sign, supervision: huilongxu sign');
    expect(await wake(id, '2026-11-09T02:00:00.000Z')).toBe('nothing due');
  });

  it('changes nothing when the same deadline job is processed twice', async () => {
    const { id } = await dispatchedCase('2026-11-02T02:00:00.000Z');
    const snapshot = async () => ({
      events: await listEvents(service.deps.db, id),
      notifications: await notifications(id),
      assignments: await listAssignments(service.deps.db, id),
      case: await findCase(service.deps.db, id),
    });
    const signBy = '2026-11-03T02:00:00.000Z';
    expect(await wake(id, signBy)).toBe('overdue: agri sign, overdue: epb sign, overdue: huilongxu sign');
    const once = await snapshot();
    expect(await wake(id, signBy)).toBe('nothing due');
    expect(await snapshot()).toEqual(once);
  });

  it('does not remind a unit that signed, and does not mark it overdue for signing', async () => {
    const { id } = await dispatchedCase('2026-11-02T02:00:00.000Z');
    const agri = (await listAssignments(service.deps.db, id)).find((a) => a.unitCode === 'agri')!;
    await service.deps.db
      .updateTable('assignments')
      .set({ status: 'accepted', accepted_at: '2026-11-02T03:00:00.000Z', updated_at: '2026-11-02T03:00:00.000Z' })
      .where('id', '=', agri.id)
      .execute();
    expect(await wake(id, '2026-11-02T22:00:00.000Z')).toBe('reminder: epb sign, reminder: huilongxu sign');
    expect(await wake(id, '2026-11-03T02:00:00.000Z')).toBe('overdue: epb sign, overdue: huilongxu sign');
  });

  it('sweeps what is due without any job: overdue marks, and a reply nobody rated closes as not rated after the window', async () => {
    const { id, trackingCode } = await dispatchedCase('2026-11-02T02:00:00.000Z');
    const deps = { ...service.deps };
    // The sign-for deadline passed while no wake-up came (Redis lost it): the sweep applies it.
    clock.set('2026-11-03T02:00:00.000Z');
    const swept = await sweepDeadlines(deps, clock.now());
    expect(swept.actions).toEqual(expect.arrayContaining([`${id}: overdue: agri sign`, `${id}: overdue: epb sign`, `${id}: overdue: huilongxu sign`]));
    expect((await sweepDeadlines(deps, clock.now())).actions.filter((a) => a.startsWith(id))).toEqual([]);

    // The bureaus answer (state set up directly: the bureau routes are tested elsewhere).
    const at = '2026-11-04T02:00:00.000Z';
    clock.set(at);
    await service.deps.db
      .updateTable('assignments')
      .set({ status: 'replied', accepted_at: at, replied_at: at, reply_text: '已责令整改', updated_at: at })
      .where('case_id', '=', id)
      .execute();
    const rateBy = '2026-11-11T02:00:00.000Z';
    await service.deps.db.transaction().execute(async (trx) => {
      const c = (await findCase(trx, id))!;
      await moveCase(trx, c, 'replied', { actor: SYSTEM, at, changes: { replied_at: at, rate_deadline_at: rateBy } });
    });

    clock.set('2026-11-11T01:59:59.999Z');
    expect((await sweepDeadlines(deps, clock.now())).checked).not.toContain(id);
    expect((await findCase(service.deps.db, id))!.status).toBe('replied');

    clock.set(rateBy);
    expect((await sweepDeadlines(deps, clock.now())).actions).toContain(`${id}: closed: not rated`);
    const closed = (await findCase(service.deps.db, id))!;
    expect(closed).toMatchObject({ status: 'closed', closeReason: 'not_rated', closedAt: rateBy });
    expect((await notifications(id)).filter((n) => n.audience === 'reporter').map((n) => n.kind)).toEqual(['dispatched', 'closed']);
    const view = (await (await fetch(`${service.url}/api/v1/track/${trackingCode}`)).json()) as { status: string; history: Array<{ status: string; note: string }> };
    expect(view.status).toBe('closed');
    expect(view.history.at(-1)).toMatchObject({ status: 'closed', note: '回访期满未评价，办结' });
    // A rating sent afterwards (a page left open) is told the time to rate ended, and when.
    const late = await fetch(`${service.url}/api/v1/track/${trackingCode}/feedback`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ rating: 'satisfied', solved: true }),
    });
    expect(late.status).toBe(409);
    expect(((await late.json()) as { error: { message: string } }).error.message).toBe(`the rating window closed at ${rateBy}`);
    // A wake-up that comes late finds nothing to do.
    expect(await wake(id, rateBy)).toBe('nothing due');
  });

  it('reads only the assignments with a timer due or inside the wake-up window, not the whole open backlog', async () => {
    const near = await dispatchedCase('2026-11-02T02:00:00.000Z');
    // Dispatched a week later: its first timer (the reminder) is days after the pass below.
    const far = await dispatchedCase('2026-11-09T02:00:00.000Z');
    const units = async (id: string) => (await listAssignments(service.deps.db, id)).length;
    const open = await service.deps.db
      .selectFrom('assignments as a')
      .innerJoin('cases as c', 'c.id', 'a.case_id')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('c.status', 'in', ['dispatched', 'accepted', 'reopened'])
      .where('a.status', 'in', ['pending', 'accepted'])
      .executeTakeFirstOrThrow();

    // Signing for the first case falls due now; one hour of wake-up window.
    clock.set('2026-11-03T02:00:00.000Z');
    const swept = await sweepDeadlines(service.deps, clock.now(), { ensureWithinMs: HOUR });
    expect(swept.actions).toEqual(expect.arrayContaining([`${near.id}: overdue: epb sign`]));
    expect(swept.checked).not.toContain(far.id);
    expect(swept.assignmentsRead).toBeLessThan(Number(open.n));
    expect(swept.assignmentsRead).toBeGreaterThanOrEqual(await units(near.id));

    // Without a window (every wake-up ensured) the pass reads every open assignment.
    expect((await sweepDeadlines(service.deps, clock.now())).assignmentsRead).toBe(Number(open.n));
  });

  it("deletes on the reconciler's pass the units' action keys kept longer than a day, and keeps a fresh one", async () => {
    const { id } = await dispatchedCase('2026-11-02T02:00:00.000Z');
    const answer = { status: 200, etag: '"v2"', body: '{}' };
    const kept = (key: string, at: string) => insertActionKey(service.deps.db, { unitCode: 'epb', caseId: id, action: 'accept', key, requestHash: 'h', answer, access: 'full', at });
    clock.set('2026-11-04T02:00:00.000Z');
    await kept('a-day-and-a-minute', new Date(clock.now().getTime() - KEEP_ACTION_KEYS_MS - 60_000).toISOString());
    await kept('an-hour', new Date(clock.now().getTime() - HOUR).toISOString());
    const reconciler = createReconciler({ db: service.deps.db, transport: service.deps.transport, clock, logger: createLogger('silent'), intervalMs: HOUR, graceMs: HOUR });
    try {
      expect((await reconciler.runOnce()).actionKeysPruned).toBeGreaterThanOrEqual(1);
      const keys = await service.deps.db.selectFrom('unit_action_keys').select('key').where('case_id', '=', id).execute();
      expect(keys.map((k) => k.key)).toEqual(['an-hour']);
    } finally {
      await reconciler.stop();
    }
  });

  it('re-creates a wake-up job that Redis lost', async () => {
    const { id } = await dispatchedCase('2026-11-02T02:00:00.000Z');
    // The next timer of the case: the reminder, 4 h before signing is due (Tue 11-03 10:00 Beijing).
    const reminder = '2026-11-02T22:00:00.000Z';
    const lostId = jobId.deadline({ caseId: id, at: reminder });
    await waitFor(() => queue.getJob(lostId), { what: 'the reminder wake-up in the queue' });
    await (await queue.getJob(lostId))!.remove();
    expect(await queue.getJob(lostId)).toBeUndefined();

    // A pass re-creates the wake-ups that fall within its next few intervals
    // (later ones are re-created by a later pass): two hours before the reminder.
    clock.set('2026-11-02T20:00:00.000Z');
    const reconciler = createReconciler({
      db: service.deps.db,
      transport: service.deps.transport,
      clock,
      logger: createLogger('silent'),
      intervalMs: HOUR,
      graceMs: HOUR,
      district: service.deps.district,
      calendar: service.deps.calendar,
    });
    try {
      const first = await reconciler.runOnce();
      expect(first.wakeUps).toBeGreaterThanOrEqual(1);
      const job = await queue.getJob(lostId);
      expect(job?.data).toEqual({ caseId: id, at: reminder });
      expect(job?.opts.jobId).toBe(lostId);
      // Every wake-up exists now: a second pass adds nothing.
      expect((await reconciler.runOnce()).wakeUps).toBe(0);
    } finally {
      await reconciler.stop();
    }
  });
});
