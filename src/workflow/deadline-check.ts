import type { Kysely } from 'kysely';
import { listAssignments, type Assignment } from '../../db/repositories/assignments.repository.js';
import { findCase } from '../../db/repositories/cases.repository.js';
import type { Trx } from '../../db/repositories/db-types.js';
import { inChunks, parseJson } from '../../db/repositories/db-types.js';
import { appendEvents } from '../../db/repositories/events.repository.js';
import type { CaseUpdate, Database } from '../../db/schema.js';
import type { Clock } from '../clock.js';
import { WORKING } from '../domain/case.js';
import type { District, Duration } from '../district/district.schema.js';
import { stageDurations, type CaseDeadlines, type WorkCalendar } from '../pipeline/deadlines.js';
import { queueClosedNotices, queueNotification } from './notifications.js';
import { moveCase, SYSTEM } from './transition.js';

/**
 * The timers around every assignment's deadlines (DOMAIN: 催办, overdue,
 * 督办) and the rating window, computed from the district file and the
 * working-day calendar. Everything here is derived from the stored
 * deadlines and marks, never from a job's payload, so a wake-up that comes
 * twice, late, or from the reconciler's sweep does the same thing once.
 */

export type DeadlineDeps = { db: Kysely<Database>; clock: Clock; district: District; calendar: WorkCalendar };

export type Stage = 'sign' | 'reply';

const HOUR_MS = 3_600_000;

export interface SupervisionPolicy {
  /** A reminder goes to the unit this long before a deadline it has not met. */
  remindBeforeMs: number;
  /** Supervision (督办) once a deadline is this many working days past. */
  superviseAfterWorkingDays: number;
}

export function supervisionPolicy(district: District): SupervisionPolicy {
  const s = district.file.supervision;
  return { remindBeforeMs: s.remindBeforeHours * HOUR_MS, superviseAfterWorkingDays: s.superviseAfterWorkingDays };
}

/** When a missed deadline is escalated to supervision: N working days after it, same time of day. */
export function superviseAt(district: District, calendar: WorkCalendar, due: string): string {
  return calendar.addWorkingDays(new Date(due), supervisionPolicy(district).superviseAfterWorkingDays).toISOString();
}

export function remindAt(district: District, due: string): string | null {
  const before = supervisionPolicy(district).remindBeforeMs;
  return before > 0 ? new Date(Date.parse(due) - before).toISOString() : null;
}

/**
 * Every instant at which something may fall due for an assignment with these
 * deadlines: the reminder, the deadline itself and the supervision, for the
 * sign-for and the reply stage. Schedule a `deadline` job at each
 * (scheduleDeadlineChecks) whenever deadlines are set or moved.
 */
export function wakeUpsFor(
  district: District,
  calendar: WorkCalendar,
  deadlines: { signBy: string | null; replyBy: string | null },
): string[] {
  const out = new Set<string>();
  for (const due of [deadlines.signBy, deadlines.replyBy]) {
    if (!due) continue;
    const reminder = remindAt(district, due);
    if (reminder) out.add(reminder);
    out.add(new Date(due).toISOString());
    out.add(superviseAt(district, calendar, due));
  }
  return [...out].sort();
}

function half(d: Duration): Duration {
  if (d.workingDays !== undefined) return { workingDays: Math.max(1, Math.ceil(d.workingDays / 2)) };
  if (d.days !== undefined) return { days: d.days / 2 };
  return { hours: (d.hours ?? 0) / 2 };
}

/**
 * The deadlines of a case handed back to its lead bureau after a dissatisfied
 * rating (重办): `deadlines.reopened` of the district file (sign defaults to
 * the normal sign-for time, reply to half the normal reply time), and never
 * later than a first handling of the same type and priority would get.
 */
export function reopenDeadlines(
  district: District,
  calendar: WorkCalendar,
  typeCode: string | null,
  urgent: boolean,
  from: Date,
): CaseDeadlines {
  const normal = stageDurations(district, typeCode, urgent);
  const reopened = district.file.deadlines.reopened;
  const earlier = (a: Date, b: Date) => (a.getTime() <= b.getTime() ? a : b);
  const sign = earlier(calendar.add(from, reopened?.sign ?? normal.sign), calendar.add(from, normal.sign));
  const reply = earlier(calendar.add(from, reopened?.reply ?? half(normal.reply)), calendar.add(from, normal.reply));
  return { signBy: sign.toISOString(), replyBy: reply.toISOString() };
}

export type TimerKind = 'reminder' | 'overdue' | 'supervision';

export interface DueTimer {
  kind: TimerKind;
  stage: Stage;
  due: string;
}

type TimedAssignment = Pick<Assignment, 'unitCode' | 'status' | 'deadlines' | 'signOverdueAt' | 'replyOverdueAt' | 'supervisedAt'> &
  /** When the unit last got or acted on the assignment: a reminder falling before it is not sent (an urgent 2 h sign-for would be reminded at dispatch). */
  Partial<Pick<Assignment, 'updatedAt'>>;

/** The stages an assignment still owes, with their deadlines. */
function openStages(a: TimedAssignment): Array<{ stage: Stage; due: string }> {
  const stages: Array<{ stage: Stage; due: string }> = [];
  if (a.status === 'pending' && a.deadlines.signBy) stages.push({ stage: 'sign', due: a.deadlines.signBy });
  if ((a.status === 'pending' || a.status === 'accepted') && a.deadlines.replyBy) stages.push({ stage: 'reply', due: a.deadlines.replyBy });
  return stages;
}

export function reminderKey(unit: string, stage: Stage, due: string): string {
  return `${unit}|${stage}|${new Date(due).toISOString()}`;
}

/**
 * What is due on one assignment at `now` and not done yet. Pure. `reminded`
 * holds the reminders already sent (reminderKey), which live as events.
 */
export function dueTimers(
  district: District,
  calendar: WorkCalendar,
  a: TimedAssignment,
  now: Date,
  reminded: ReadonlySet<string>,
): DueTimer[] {
  const at = now.getTime();
  const due: DueTimer[] = [];
  let supervision: DueTimer | null = null;
  const stages = openStages(a);
  const supervised = supervisedSinceMissed(a, stages, at);
  for (const s of stages) {
    const deadline = Date.parse(s.due);
    const reminder = remindAt(district, s.due);
    const remindable = reminder !== null && (a.updatedAt === undefined || Date.parse(reminder) >= Date.parse(a.updatedAt));
    if (remindable && Date.parse(reminder) <= at && at < deadline && !reminded.has(reminderKey(a.unitCode, s.stage, s.due))) {
      due.push({ kind: 'reminder', ...s });
    }
    const marked = s.stage === 'sign' ? a.signOverdueAt : a.replyOverdueAt;
    if (deadline <= at && !marked) due.push({ kind: 'overdue', ...s });
    if (!supervision && !supervised && Date.parse(superviseAt(district, calendar, s.due)) <= at) {
      supervision = { kind: 'supervision', ...s };
    }
  }
  // Supervised once per assignment and round: the earliest stage that earned it.
  if (supervision) due.push(supervision);
  return due;
}

/**
 * Was the unit supervised (督办, by the timers or a dispatcher) since it first
 * missed a deadline of the assignment? A dispatcher's 督办 before anything was
 * late (a complaint's weight) does not stand for the one a missed deadline
 * earns; one after it does, as does the timers' own.
 */
function supervisedSinceMissed(a: TimedAssignment, stages: ReadonlyArray<{ due: string }>, at: number): boolean {
  if (!a.supervisedAt) return false;
  // Missed: a stage marked overdue (even if done since), or one still owed whose deadline has passed.
  const missed = [
    ...(a.signOverdueAt !== null && a.deadlines.signBy !== null ? [a.deadlines.signBy] : []),
    ...(a.replyOverdueAt !== null && a.deadlines.replyBy !== null ? [a.deadlines.replyBy] : []),
    ...stages.map((s) => s.due).filter((due) => Date.parse(due) <= at),
  ].map((d) => Date.parse(d));
  return missed.length === 0 || Date.parse(a.supervisedAt) >= Math.min(...missed);
}

/** The wake-ups of an assignment still ahead of `now` (for re-creating lost timers). */
export function futureWakeUps(district: District, calendar: WorkCalendar, a: TimedAssignment, now: Date): string[] {
  const stages = openStages(a);
  const deadlines = {
    signBy: stages.find((s) => s.stage === 'sign')?.due ?? null,
    replyBy: stages.find((s) => s.stage === 'reply')?.due ?? null,
  };
  return wakeUpsFor(district, calendar, deadlines).filter((x) => Date.parse(x) > now.getTime());
}


/** The reminders already sent on a case, as reminderKey values. */
export async function remindersSent(db: Kysely<Database> | Trx, caseIds: readonly string[]): Promise<Set<string>> {
  const keys = new Set<string>();
  const rows = await inChunks(caseIds, (ids) => db.selectFrom('case_events').select(['data']).where('kind', '=', 'reminder').where('case_id', 'in', ids).execute());
  for (const r of rows) {
    const d = parseJson<{ unit?: string; stage?: Stage; due?: string } | null>(r.data, null);
    if (d?.unit && d.stage && d.due) keys.add(reminderKey(d.unit, d.stage, d.due));
  }
  return keys;
}

const STAGE_ZH: Record<Stage, string> = { sign: '签收', reply: '答复' };

/**
 * Applies what is due on a case at `now` (the clock's time unless given):
 * a reminder to the unit before a deadline, an overdue mark with an
 * escalation to the dispatchers at it, supervision (督办) of the unit a
 * configured number of working days after it, and closing a reply nobody
 * rated within the window. Each happens once: marks and events are the
 * record, and the case row is locked first so two wake-ups at once cannot
 * both act.
 */
export async function checkDeadlines(deps: DeadlineDeps, caseId: string, now: Date = deps.clock.now()): Promise<string[]> {
  const at = now.toISOString();
  const done: string[] = [];
  await deps.db.transaction().execute(async (trx) => {
    // Takes the row lock (PostgreSQL) before reading, without changing anything.
    await trx
      .updateTable('cases')
      .set((eb) => ({ version: eb.ref('version') }))
      .where('id', '=', caseId)
      .execute();
    const c = await findCase(trx, caseId);
    if (!c) return;
    if (c.status === 'replied' && c.deadlines.rateBy && c.deadlines.rateBy <= at) {
      await moveCase(trx, c, 'closed', {
        actor: SYSTEM,
        at,
        reason: 'not_rated',
        note: '回访期满未评价，办结',
        changes: { closed_at: at, close_reason: 'not_rated' },
      });
      await queueNotification(trx, { caseId, audience: 'reporter', kind: 'closed', data: { reason: 'not_rated' } }, now);
      await queueClosedNotices(trx, caseId, { reason: 'not_rated', round: c.round }, now);
      done.push('closed: not rated');
      return;
    }
    if (!WORKING.includes(c.status)) return;

    const reminded = await remindersSent(trx, [caseId]);
    const caseChanges: Omit<CaseUpdate, 'status' | 'updated_at' | 'version'> = {};
    for (const a of await listAssignments(trx, caseId)) {
      for (const t of dueTimers(deps.district, deps.calendar, a, now, reminded)) {
        const data = { unit: a.unitCode, stage: t.stage, due: t.due, round: a.round };
        if (t.kind === 'reminder') {
          await appendEvents(trx, [{ caseId, at, kind: 'reminder', note: `${STAGE_ZH[t.stage]}即将到期，已催办`, data }]);
          await queueNotification(trx, { caseId, audience: `unit:${a.unitCode}`, kind: 'reminder', data }, now);
        } else if (t.kind === 'overdue') {
          const mark = t.stage === 'sign' ? { sign_overdue_at: at } : { reply_overdue_at: at };
          await trx.updateTable('assignments').set({ ...mark, updated_at: at }).where('id', '=', a.id).execute();
          await appendEvents(trx, [{ caseId, at, kind: 'overdue', data }]);
          await queueNotification(trx, { caseId, audience: 'dispatchers', kind: 'overdue', data }, now);
          if (!c.overdue) caseChanges.overdue = 1;
        } else {
          await trx.updateTable('assignments').set({ supervised_at: at, updated_at: at }).where('id', '=', a.id).execute();
          const supervisionData = { ...data, workingDaysOverdue: supervisionPolicy(deps.district).superviseAfterWorkingDays };
          await appendEvents(trx, [{ caseId, at, kind: 'supervised', note: '已督办', data: supervisionData, public: true }]);
          await queueNotification(trx, { caseId, audience: 'dispatchers', kind: 'supervision', data: supervisionData }, now);
          await queueNotification(trx, { caseId, audience: `unit:${a.unitCode}`, kind: 'supervision', data: supervisionData }, now);
          caseChanges.supervised_at = at;
          if (!c.overdue) caseChanges.overdue = 1;
        }
        done.push(`${t.kind}: ${a.unitCode} ${t.stage}`);
      }
    }
    if (Object.keys(caseChanges).length > 0) {
      await trx
        .updateTable('cases')
        .set((eb) => ({ ...caseChanges, updated_at: at, version: eb('version', '+', 1) }))
        .where('id', '=', caseId)
        .execute();
    }
  });
  return done;
}

/**
 * The next instant at which something may fall due on a case (a reminder, a
 * deadline, supervision, the end of the rating window), or null. Wake-ups are
 * chained one at a time: each `deadline` job schedules the next.
 */
export async function nextWakeUp(deps: DeadlineDeps, caseId: string, now: Date): Promise<string | null> {
  const c = await findCase(deps.db, caseId);
  if (!c) return null;
  const candidates: string[] = [];
  if (c.status === 'replied' && c.deadlines.rateBy && Date.parse(c.deadlines.rateBy) > now.getTime()) {
    candidates.push(c.deadlines.rateBy);
  }
  if (WORKING.includes(c.status)) {
    for (const a of await listAssignments(deps.db, caseId)) {
      if (a.status === 'pending' || a.status === 'accepted') candidates.push(...futureWakeUps(deps.district, deps.calendar, a, now));
    }
  }
  candidates.sort();
  return candidates[0] ?? null;
}
