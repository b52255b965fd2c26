import { beforeAll, describe, expect, it } from 'vitest';
import { listAssignments } from '../db/repositories/assignments.repository.js';
import { listEvents } from '../db/repositories/events.repository.js';
import { createProcessors, type Processors } from '../queues/processors/index.js';
import { ManualClock } from '../src/clock.js';
import { processorDeps } from '../src/deps.js';
import { client, json, notificationsOf, seedCase, startWorkflowService, type Staff, type TestService } from './workflow-helpers.js';

// Tue 2026-12-01 10:00 Beijing: sign-for by Wed 12-02 10:00, reply by Tue 12-22 10:00.
const START = '2026-12-01T02:00:00.000Z';
const ms = (iso: string) => Date.parse(iso);

interface BureauRow {
  key: string;
  signedOnTime: number;
  signDue: number;
  responseRate: number | null;
  due: number;
  repliedOnTime: number;
  overdueNow: number;
  resolutionRate: number | null;
}

/**
 * A lead's return puts a case in triage, where no unit can act and no clock
 * runs. The units kept on it neither fall due nor turn late while it waits,
 * and get the time it waited back when a dispatcher routes it again.
 */
describe('the clock of the units kept on a case stops while it waits in triage', () => {
  let service: TestService;
  let clock: ManualClock;
  let processors: Processors;
  let tok: Staff;
  const bureauStats = async (): Promise<Record<string, BureauRow>> => {
    const res = await json(client(service.url, tok.dispatcher).get('/api/v1/stats?from=2026-11-01&to=2026-12-31&groupBy=bureau'));
    expect(res.status).toBe(200);
    return Object.fromEntries((res.body as { groups: BureauRow[] }).groups.map((g) => [g.key, g]));
  };

  beforeAll(async () => {
    ({ service, clock, staff: tok } = await startWorkflowService('triage-clock', {}, { role: 'api' }));
    clock.set(START);
    processors = createProcessors(processorDeps(service.deps));
  });

  it('does not count a kept unit due or late while the case waits, and moves its deadlines still owed later by the wait', async () => {
    const c = await seedCase(service, clock);
    const before = Object.fromEntries((await listAssignments(service.deps.db, c.id)).map((a) => [a.unitCode, a]));
    clock.set('2026-12-01T03:00:00.000Z');
    expect((await json(client(service.url, tok.econ).post(`/api/v1/cases/${c.id}/accept`))).status).toBe(200);
    // The office never signs: its sign-for deadline (Wed 10:00) is missed before the case goes to triage.
    clock.set('2026-12-03T02:00:00.000Z');
    const returned = await json(client(service.url, tok.epb).post(`/api/v1/cases/${c.id}/return`, { reason: 'not_our_remit', note: '不属本局职责' }));
    expect(returned.status).toBe(200);

    // 25 days in triage: past the 12-22 reply deadline of the units kept.
    clock.set('2026-12-28T02:00:00.000Z');
    expect(await processors.deadline({ caseId: c.id, at: clock.now().toISOString() }, { jobId: 't', attempt: 1, maxAttempts: 1 })).not.toContain('overdue');
    const waiting = await bureauStats();
    for (const unit of ['econ', 'xinglong']) expect(waiting[unit], unit).toMatchObject({ due: 0, overdueNow: 0, resolutionRate: null });
    // A sign-for missed before the case went to triage was missed all the same: it stays due while the case waits.
    expect(waiting.xinglong).toMatchObject({ signedOnTime: 0, signDue: 1, responseRate: 0 });
    expect(waiting.econ).toMatchObject({ signedOnTime: 1, signDue: 1, responseRate: 1 });

    const routed = await json(client(service.url, tok.dispatcher).post(`/api/v1/cases/${c.id}/route`, { type: 'illegal_discharge', reason: '仍由环保局牵头' }));
    expect(routed.status, JSON.stringify(routed.body)).toBe(200);
    const after = Object.fromEntries((await listAssignments(service.deps.db, c.id)).map((a) => [a.unitCode, a]));
    // The reply deadline (Tue 12-22 10:00) had 13 working days left when the case went to triage (Thu 12-03 10:00):
    // counted again from Mon 12-28 10:00, past 元旦, it is Fri 2027-01-15 10:00 — not 25 calendar days on, a Saturday.
    expect(before.econ!.deadlines.replyBy).toBe('2026-12-22T02:00:00.000Z');
    expect(after.econ!.deadlines.replyBy).toBe('2027-01-15T02:00:00.000Z');
    // A deadline missed before the wait stays missed; the one still ahead then moves.
    expect(after.xinglong!.deadlines.signBy).toBe(before.xinglong!.deadlines.signBy);
    expect(after.xinglong!.deadlines.replyBy).toBe('2027-01-15T02:00:00.000Z');
    // The lead given the case again starts afresh.
    expect(after.epb!.status).toBe('pending');
    expect(ms(after.epb!.deadlines.signBy!)).toBeGreaterThan(clock.now().getTime());
    const event = (await listEvents(service.deps.db, c.id)).filter((e) => e.kind === 'status' && e.toStatus === 'dispatched').at(-1)!;
    expect((event.data as { resumed?: Record<string, unknown> }).resumed).toEqual({
      econ: after.econ!.deadlines,
      xinglong: after.xinglong!.deadlines,
    });

    // Each kept unit is told its deadlines moved (its system and its group's post hold the ones it was given).
    const told = (await notificationsOf(service, c.id)).filter((n) => n.kind === 'deadlines');
    expect(told.map((n) => [n.audience, n.data]).sort()).toEqual([
      ['unit:econ', { role: 'co', deadlines: after.econ!.deadlines, why: 'resumed' }],
      ['unit:xinglong', { role: 'jurisdiction', deadlines: after.xinglong!.deadlines, why: 'resumed' }],
    ]);

    // Under handling again, the kept units are not late on what they got back; the office still is on its sign-for.
    const handled = await bureauStats();
    expect(handled.econ).toMatchObject({ due: 0, overdueNow: 0 });
    expect(handled.xinglong).toMatchObject({ due: 0, overdueNow: 1 });
    // The reply deadline they got back comes, and then they are due and late.
    clock.set(new Date(ms(after.econ!.deadlines.replyBy!) + 60_000).toISOString());
    const late = await bureauStats();
    expect(late.econ).toMatchObject({ due: 1, repliedOnTime: 0, overdueNow: 1, resolutionRate: 0 });
  });

  it('gives a kept unit back the working time it had left, so a reply deadline it gets back falls on a working day', async () => {
    // Urgent, dispatched Tue 12-01 10:00: the co-handler replies by Fri 12-04 10:00 (3 working days).
    clock.set(START);
    const c = await seedCase(service, clock, { urgent: true });
    const before = (await listAssignments(service.deps.db, c.id)).find((a) => a.unitCode === 'econ')!;
    expect(before.deadlines.replyBy).toBe('2026-12-04T02:00:00.000Z');
    expect((await json(client(service.url, tok.econ).post(`/api/v1/cases/${c.id}/accept`))).status).toBe(200);
    // The lead returns it on Thursday 10:00, a working day before the reply is due; a dispatcher routes it again a day later.
    clock.set('2026-12-03T02:00:00.000Z');
    expect((await json(client(service.url, tok.epb).post(`/api/v1/cases/${c.id}/return`, { reason: 'not_our_remit', note: '不属本局职责' }))).status).toBe(200);
    clock.set('2026-12-04T02:00:00.000Z');
    const routed = await json(client(service.url, tok.dispatcher).post(`/api/v1/cases/${c.id}/route`, { type: 'illegal_discharge', reason: '仍由环保局牵头' }));
    expect(routed.status, JSON.stringify(routed.body)).toBe(200);
    // Its working day back ends on Monday 10:00, not on Saturday 10:00 when the office is closed.
    const after = (await listAssignments(service.deps.db, c.id)).find((a) => a.unitCode === 'econ')!;
    expect(after.deadlines.replyBy).toBe('2026-12-07T02:00:00.000Z');
    // So nothing is overdue over the weekend; it is on Monday after 10:00.
    const deadline = (at: string) => processors.deadline({ caseId: c.id, at }, { jobId: 't', attempt: 1, maxAttempts: 1 });
    clock.set('2026-12-05T03:00:00.000Z');
    expect(await deadline(clock.now().toISOString())).not.toContain('overdue: econ reply');
    clock.set('2026-12-07T02:01:00.000Z');
    expect(await deadline(clock.now().toISOString())).toContain('overdue: econ reply');
  });
});
