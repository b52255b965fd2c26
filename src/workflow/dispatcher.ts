import { createHash } from 'node:crypto';
import { HOLDING_STATUSES, insertAssignments, listAssignments, stintOf, type Assignment, type NewAssignment } from '../../db/repositories/assignments.repository.js';
import {
  decideExtensionRequest,
  findExtensionRequest,
  type ExtensionRequest,
  isClosedStatus,
  lapseExtensionRequests,
  reassign,
  updateAssignmentIf,
} from '../../db/repositories/case-queries.repository.js';
import { findCase, lockCase } from '../../db/repositories/cases.repository.js';
import type { Trx } from '../../db/repositories/db-types.js';
import { insertDeliveries, listDeliveries, renewUndelivered } from '../../db/repositories/deliveries.repository.js';
import { findIdempotencyKey, insertIdempotencyKey, scopedKey } from '../../db/repositories/idempotency.repository.js';
import { addToOutbox } from '../../db/repositories/outbox.repository.js';
import { appendEvents, enteredStatusAt, listEvents } from '../../db/repositories/events.repository.js';
import { outboxEntry } from '../../queues/jobs.js';
import type { Principal } from '../auth/principal.js';
import { leadProblem, unitName } from '../district/district.schema.js';
import { canTransition, WORKING, type Case, type CaseStatus } from '../domain/case.js';
import { newId } from '../domain/ids.js';
import { AppError, refused } from '../errors.js';
import { dispatchDeadlines, stageDurations } from '../pipeline/deadlines.js';
import { decideUrgency } from '../pipeline/extract.js';
import type { AssignmentRole } from '../pipeline/route.js';
import { completeBureauPhaseIfDone, currentRound, live, staffActor, overdueFlag, type WorkflowDeps } from './bureau.js';
import { reopenDeadlines, wakeUpsFor } from './deadline-check.js';
import { queueBureauPosts, queuePostSettled } from '../telegram/post-queue.js';
import { isServiceWords, saidKey, type Said } from './service-words.js';
import { queueNotification, scheduleDeadlineChecks } from './notifications.js';
import { correctType, transferUnit, typeBeforeTransfer } from './type-labels.js';
import { inCaseTransaction, moveCase, touchCase, unchangedSince, type Actor, type SeenCase } from './transition.js';

export type { SeenCase } from './transition.js';

/**
 * The dispatcher's desk (district environment office): re-route, merge,
 * transfer to 12345, release a co-handler, decide extensions, supervise.
 */

async function inTransaction<T>(deps: WorkflowDeps, fn: (trx: Trx, now: Date, at: string) => Promise<T>): Promise<T> {
  const now = deps.clock.now();
  const result = await inCaseTransaction(deps.db, (trx) => fn(trx, now, now.toISOString()));
  deps.kickOutbox();
  return result;
}

/** The case the action is on, locked until the action ends: a second action on it waits and sees what this one did. */
async function loadCase(trx: Trx, caseId: string): Promise<Case> {
  const c = await lockCase(trx, caseId);
  if (!c) throw new AppError('not_found', 'no such case');
  return c;
}


/**
 * The case's 督办 mark after its units changed: the latest of those still holding it this round. A unit released or
 * replaced takes its 督办 along, so a case a new lead was given (or whose supervised unit was let go) does not read
 * as supervised on the desk's overdue list while nobody holding it ever was.
 */
async function supervisedMark(trx: Trx, c: Case): Promise<string | null> {
  const marks = active(currentRound(c, await listAssignments(trx, c.id)))
    .map((a) => a.supervisedAt)
    .filter((at): at is string => at !== null)
    .sort();
  return marks.at(-1) ?? null;
}

/**
 * The local offices that returned the case in its round `round` as outside their area (退回：不属于本辖区), their part
 * returned still or released since (the row keeps its reason until the office is given the case again). The desk
 * does not offer them as the case's place, nor does giving the place take one (`setCasePlace`); a re-route may name one
 * on purpose, with its reason, when the dispatcher finds the return unfounded.
 */
export function officesThatDisowned(round: number, assignments: Iterable<{ unit: string; round: number; status: string; returnReason: string | null }>): Set<string> {
  const out = new Set<string>();
  for (const a of assignments) {
    if (a.round === round && a.returnReason === 'wrong_jurisdiction' && (a.status === 'returned' || a.status === 'released')) out.add(a.unit);
  }
  return out;
}

/** Assignments that hold work: waiting to be signed for, signed for, or answered (`HOLDING_STATUSES`). */
function active(assignments: readonly Assignment[]): Assignment[] {
  return assignments.filter((a) => HOLDING_STATUSES.includes(a.status));
}

/**
 * Deadlines for units given the case now: a reopened case (重办, any round
 * after the first) keeps the shorter deadlines of a reopened round for every
 * unit the dispatcher adds, as its lead got when it was reopened.
 */
function deadlinesForRound(deps: WorkflowDeps, c: Case, typeCode: string | null, now: Date, urgent = c.urgent) {
  return c.round > 1
    ? reopenDeadlines(deps.district, deps.calendar, typeCode, urgent, now)
    : dispatchDeadlines(deps.district, deps.calendar, typeCode, urgent, now);
}

/** The earlier of two deadlines (either may be none). */
function sooner(a: string | null, b: string | null): string | null {
  if (a === null) return b;
  if (b === null) return a;
  return a < b ? a : b;
}

/**
 * Gives each kept assignment the deadlines `next` says, where they differ from its own (the row must still be in
 * the status it was read in); says which changed, with their new deadlines.
 */
async function moveDeadlines(
  trx: Trx,
  kept: readonly Assignment[],
  at: string,
  next: (a: Assignment) => Assignment['deadlines'],
): Promise<Map<string, Assignment['deadlines']>> {
  const changed = new Map<string, Assignment['deadlines']>();
  for (const a of kept) {
    const { signBy, replyBy } = next(a);
    if (signBy === a.deadlines.signBy && replyBy === a.deadlines.replyBy) continue;
    if (!(await updateAssignmentIf(trx, a.id, a.status, { sign_deadline_at: signBy, reply_deadline_at: replyBy, updated_at: at }))) {
      throw refused('conflict', 'an assignment was changed meanwhile; reload the case', { reason: 'changed_meanwhile' });
    }
    changed.set(a.id, { signBy, replyBy });
  }
  return changed;
}

/** Brings the kept assignments' deadlines forward to `to` where it comes sooner; says which changed, with their new deadlines. */
function tightenDeadlines(
  trx: Trx,
  kept: readonly Assignment[],
  to: { signBy: string | null; replyBy: string | null },
  at: string,
): Promise<Map<string, Assignment['deadlines']>> {
  return moveDeadlines(trx, kept, at, (a) => ({
    signBy: a.status === 'pending' ? sooner(a.deadlines.signBy, to.signBy) : a.deadlines.signBy,
    replyBy: a.status === 'replied' ? a.deadlines.replyBy : sooner(a.deadlines.replyBy, to.replyBy),
  }));
}

/** Does the district count this stage of the case's deadlines in working days (a reply, by default), not in hours or days? */
function inWorkingDays(deps: WorkflowDeps, c: Case, stage: 'sign' | 'reply'): boolean {
  const reopened = c.round > 1 ? deps.district.file.deadlines.reopened?.[stage] : undefined;
  return (reopened ?? stageDurations(deps.district, c.typeCode, c.urgent)[stage]).workingDays !== undefined;
}

/**
 * The clock stops while a case waits in triage (no unit can act on it): a unit
 * kept on the case when a dispatcher routes it out has each deadline it still
 * owes, and had not yet missed when the case went to triage, moved later by the
 * time the case waited there. A deadline counted in working days gets back the
 * working time it had left, counted from now on the working-day calendar, so it
 * ends on a working day as it did (a wait of a day moved Friday's reply deadline
 * to Saturday); one counted in hours moves by the hours waited. Says which
 * changed, with their new deadlines.
 */
async function resumeDeadlines(deps: WorkflowDeps, trx: Trx, c: Case, kept: readonly Assignment[], now: Date, at: string): Promise<Map<string, Assignment['deadlines']>> {
  const entered = c.status === 'triage' ? await enteredStatusAt(trx, c.id, 'triage') : null;
  if (entered === null) return new Map();
  const stopped = Date.parse(entered);
  const waited = now.getTime() - stopped;
  if (!(waited > 0)) return new Map();
  const later = (deadline: string | null, owed: boolean, stage: 'sign' | 'reply') => {
    if (deadline === null || !owed || Date.parse(deadline) <= stopped) return deadline;
    if (!inWorkingDays(deps, c, stage)) return new Date(Date.parse(deadline) + waited).toISOString();
    const left = deps.calendar.workingTimeBetween(new Date(stopped), new Date(deadline));
    return deps.calendar.addWorkingTime(now, left).toISOString();
  };
  return moveDeadlines(trx, kept, at, (a) => ({
    signBy: later(a.deadlines.signBy, a.status === 'pending', 'sign'),
    replyBy: later(a.deadlines.replyBy, a.status === 'pending' || a.status === 'accepted', 'reply'),
  }));
}

/** New assignments for the units, reusing the row of a unit that held the case before. */
async function assign(
  trx: Trx,
  c: Case,
  all: readonly Assignment[],
  units: ReadonlyArray<{ unit: string; role: AssignmentRole }>,
  d: { signBy: string | null; replyBy: string | null; at: string; actor: Actor },
): Promise<void> {
  const fresh: NewAssignment[] = [];
  for (const p of units) {
    const before = all.find((a) => a.unitCode === p.unit);
    if (!before) {
      fresh.push({ id: newId(), caseId: c.id, unitCode: p.unit, role: p.role, signBy: d.signBy, replyBy: d.replyBy, at: d.at, round: c.round });
      continue;
    }
    // Read again: releaseAll may just have released it.
    const now = (await listAssignments(trx, c.id)).find((a) => a.id === before.id)!;
    if (!(await reassign(trx, now.id, now.status, { role: p.role, signBy: d.signBy, replyBy: d.replyBy, round: c.round, at: d.at }))) {
      throw refused('conflict', 'an assignment was changed meanwhile; reload the case', { reason: 'changed_meanwhile' });
    }
    // The row starts afresh: what the unit did with its earlier stint stays on record, for the statistics too.
    await appendEvents(trx, [
      {
        caseId: c.id,
        at: d.at,
        actor: d.actor,
        kind: 'assignment_renewed',
        data: { unit: p.unit, role: p.role, earlier: stintOf(now) },
      },
    ]);
    // What it asked for its earlier deadlines does not carry over to the new ones.
    await lapseExtensionRequests(trx, c.id, p.unit, { note: 'given the case again', at: d.at });
  }
  await insertAssignments(trx, fresh);
}

/**
 * Releases the assignments, and tells each unit still working on its part to
 * stop: its group post, if it has one, loses its buttons and says so, and a
 * webhook that took the case gets a `released` notice with the dispatcher's
 * reason (`reason`). A unit that returned its part knows already.
 */
async function releaseAll(deps: WorkflowDeps, trx: Trx, list: readonly Assignment[], now: Date, reason: Said): Promise<string[]> {
  const at = now.toISOString();
  const released: string[] = [];
  for (const a of list) {
    const ok = await updateAssignmentIf(trx, a.id, a.status, { status: 'released', released_at: at, updated_at: at });
    if (!ok) throw refused('conflict', 'an assignment was changed meanwhile; reload the case', { reason: 'changed_meanwhile' });
    // What it asked for a deadline that is no longer its own ends undecided, and leaves the desk.
    await lapseExtensionRequests(trx, a.caseId, a.unitCode, { note: 'released', at });
    released.push(a.unitCode);
  }
  // Read after the assignments changed: a delivery recorded meanwhile either shows here or its job sees the release
  // (queues/processors/dispatch.processor.ts), so a unit whose server took the case is told once.
  const delivered = list.length === 0 ? [] : (await listDeliveries(trx, list[0]!.caseId)).filter((d) => d.status === 'delivered').map((d) => d.unitCode);
  for (const a of list) {
    if (a.status === 'returned') continue;
    await queuePostSettled(trx, deps.district, a.caseId, a.unitCode, a.round, now);
    // A delivery still being tried is withdrawn instead (the dispatch job finds the unit released): it never had the case.
    if (delivered.includes(a.unitCode)) {
      await queueNotification(trx, { caseId: a.caseId, audience: `unit:${a.unitCode}`, kind: 'released', data: { unit: a.unitCode, round: a.round, note: reason } }, now);
    }
  }
  return released;
}

/**
 * Starts the assignments just made: their deadline timers, and telling the
 * units. A unit whose webhook never had the case (its delivery withdrawn or
 * failed for good) gets the assignment delivered (`case.assigned`); one that had it before (it
 * returned the case, or was released, and now has it again) gets a
 * `reassigned` notice with its new role and deadlines. Bureau groups get a
 * post, a new one for a unit that held the case earlier in this round.
 */
async function startAssignments(
  deps: WorkflowDeps,
  trx: Trx,
  c: Case,
  before: readonly Assignment[],
  units: ReadonlyArray<{ unit: string; role: AssignmentRole }>,
  deadlines: { signBy: string | null; replyBy: string | null },
  now: Date,
): Promise<void> {
  if (units.length === 0) return;
  // Their deadlines run from now: the first wake-up for the reminders, overdue marks and supervision.
  await scheduleDeadlineChecks(trx, c.id, wakeUpsFor(deps.district, deps.calendar, deadlines), now);
  const deliveries = await listDeliveries(trx, c.id);
  // A unit whose delivery never reached it — withdrawn before it went out (released meanwhile), or failed for good (its
  // server was down or refused it) — never had the case: it gets the assignment now, with a fresh set of attempts,
  // rather than a notice about a case its system does not know.
  const undelivered = (d: (typeof deliveries)[number]) => d.status === 'withdrawn' || d.status === 'failed';
  const had = new Set(deliveries.filter((d) => !undelivered(d)).map((d) => d.unitCode));
  const renewed = deliveries.filter((d) => undelivered(d) && units.some((u) => u.unit === d.unitCode) && deps.district.units.get(d.unitCode)?.webhook);
  await renewUndelivered(trx, renewed.map((d) => d.id));
  const fresh = units
    .filter((u) => !deliveries.some((d) => d.unitCode === u.unit) && deps.district.units.get(u.unit)?.webhook)
    .map((u) => ({ id: newId(), caseId: c.id, unitCode: u.unit, channel: 'webhook' as const, at: now.toISOString() }));
  await insertDeliveries(trx, fresh);
  await addToOutbox(trx, [...renewed, ...fresh].map((d) => outboxEntry('dispatch', { caseId: c.id, unit: d.unitCode, channel: 'webhook' })), now);
  for (const u of units.filter((x) => had.has(x.unit))) {
    await queueNotification(trx, { caseId: c.id, audience: `unit:${u.unit}`, kind: 'reassigned', data: { role: u.role, round: c.round, deadlines } }, now);
  }
  const heldThisRound = (unit: string) => before.some((a) => a.unitCode === unit && a.round === c.round);
  const names = units.map((u) => u.unit);
  await queueBureauPosts(trx, deps.district, c.id, names.filter((u) => !heldThisRound(u)), c.round, now);
  await queueBureauPosts(trx, deps.district, c.id, names.filter(heldThisRound), c.round, now, { again: true });
}

export interface RouteInput extends SeenCase {
  type?: string;
  lead?: string;
  co?: string[];
  jurisdiction?: string | null;
  /**
   * No place given and one still to be found (the desk's 地点不明): no local office, and the case stays flagged
   * place_unknown — listed on the desk for a place — where an explicit `jurisdiction: null` says it needs none.
   */
  placeUnknown?: boolean;
  /** Urgent or not, as the dispatcher decides; without it a case becomes urgent when its new type or its words make it so. */
  urgent?: boolean;
  /** The dispatcher's reason, or the service's words for a one-click route (`routed_as_suggested`). */
  reason: Said;
}

/** Statuses in which a dispatcher can (re-)route a case. */
export const ROUTABLE: readonly CaseStatus[] = ['triage', 'dispatched', 'accepted', 'returned', 'reopened'];
/** Routed and in its units' hands, nothing sent back: routing it to the type, units and place it has changes nothing. */
export const ROUTED_AS_IT_STANDS: readonly CaseStatus[] = ['dispatched', 'accepted'];

/**
 * Re-route: a new type, lead, co-handlers or jurisdiction (defaults from the
 * district routing table for the type). Units that keep their role keep
 * their assignment as it is; the others are released, the new ones get fresh
 * deadlines (a reopened round's shorter ones). The case is dispatched again.
 * Says whether it was a re-route (some unit had the case before) or the
 * case's first dispatch (out of triage before any unit had it), or that it
 * changed nothing: the same type, units and place for a case under handling
 * write nothing, so a double submit or a retry is answered as the first.
 */
export async function routeCase(deps: WorkflowDeps, principal: Principal, caseId: string, input: RouteInput): Promise<{ rerouted: boolean; unchanged: boolean }> {
  const { district } = deps;
  return inTransaction(deps, async (trx, now, at) => {
    const c = await loadCase(trx, caseId);
    await unchangedSince(trx, c, input);
    if (!ROUTABLE.includes(c.status)) throw refused('illegal_transition', `a case that is ${c.status} cannot be re-routed`, { reason: 'not_routable', status: c.status });
    const type = input.type ?? c.typeCode;
    if (!type) throw new AppError('validation_failed', 'the case has no type yet: give one', { type: 'required: the case has no type yet' });
    const route = district.routing[type];
    if (!district.types.has(type) || !route) {
      // The case's own type, kept from before the district file dropped it: a type has to be chosen.
      const said = input.type === undefined ? `the case's type "${type}" is no longer in the district file: give one` : `unknown type "${type}"`;
      throw new AppError('validation_failed', said, { type: said });
    }
    if (route.transfer && input.lead === undefined) {
      throw new AppError('validation_failed', `"${type}" goes to ${route.lead}: use POST /api/v1/cases/{id}/transfer`, { type: 'a transfer type: use transfer' });
    }
    const lead = input.lead ?? route.lead;
    const jurisdiction = input.placeUnknown ? null : input.jurisdiction === undefined ? c.jurisdictionCode : input.jurisdiction;
    // The case's local office takes part as its jurisdiction (属地), with that role: named among the co-handlers as well,
    // it would be released from its part and given the case again as a co-handler, with fresh deadlines.
    const co = [...new Set(input.co ?? route.co)].filter((u) => u !== lead && u !== jurisdiction);
    const fields: Record<string, string> = {};
    const badLead = leadProblem(district.units, lead);
    if (badLead) fields.lead = badLead;
    const badCo = co.filter((u) => !district.units.has(u));
    if (badCo.length > 0) fields.co = `unknown bureau ${badCo.map((u) => `"${u}"`).join(', ')}`;
    // A local office (town, sub-district office, forest farm) takes part as the case's jurisdiction (属地), the one its
    // place names. Named a co-handler otherwise, it would handle a case that stays without a place (listed on the desk
    // for one, counted under 属地不明, and given that office as its place later with the office in the wrong role), or
    // a case would have two places. The case's own office named here too is its jurisdiction, dropped above.
    const offices = input.co === undefined ? [] : co.filter((u) => district.units.get(u)?.kind === 'jurisdiction');
    if (badCo.length === 0 && offices.length > 0) {
      const named = offices.map((u) => `"${u}"`).join(', ');
      fields.co =
        offices.length === 1
          ? `${named} is a local office, not a bureau: it takes part as the case's jurisdiction (give it as jurisdiction), not as a co-handler`
          : `${named} are local offices, not bureaus: one takes part as the case's jurisdiction (give it as jurisdiction), not as a co-handler`;
    }
    if (jurisdiction !== null && district.units.get(jurisdiction)?.kind !== 'jurisdiction') {
      fields.jurisdiction =
        input.jurisdiction === undefined
          ? `the case's jurisdiction "${jurisdiction}" is no longer in the district file: give one, or null for none`
          : `unknown jurisdiction "${jurisdiction}"`;
    }
    // The case's local office sent it back as outside its area (wrong_jurisdiction): kept without a word, the route would
    // give the case back to the office that said it is not theirs.
    const all = await listAssignments(trx, caseId);
    if (input.jurisdiction === undefined && !input.placeUnknown && jurisdiction !== null && !fields.jurisdiction) {
      if (currentRound(c, all).some((a) => a.unitCode === jurisdiction && a.status === 'returned' && a.returnReason === 'wrong_jurisdiction')) {
        fields.jurisdiction = `${jurisdiction} returned the case as outside its area: give another local office, or null for none`;
      }
    }
    if (Object.keys(fields).length > 0) throw new AppError('validation_failed', `invalid ${Object.keys(fields).join(', ')}`, fields);

    const planned: Array<{ unit: string; role: AssignmentRole }> = [{ unit: lead, role: 'lead' }, ...co.map((u) => ({ unit: u, role: 'co' as const }))];
    if (jurisdiction && !planned.some((p) => p.unit === jurisdiction)) planned.push({ unit: jurisdiction, role: 'jurisdiction' });

    const existing = active(currentRound(c, all));
    const kept = existing.filter((a) => planned.some((p) => p.unit === a.unitCode && p.role === a.role));
    // A unit that returned its part and is left out of the new plan is let go: the re-route is the
    // dispatcher's answer to its return. Left `returned`, it would hold the bureau phase open for good.
    const answered = currentRound(c, all).filter((a) => a.status === 'returned' && !planned.some((p) => p.unit === a.unitCode));
    // A unit that answered an earlier round of a reopened case still holds it (replied); left out of the new plan it is let go
    // too, so it stops reading the case. Its reply keeps counting in the statistics (replied_at stays).
    const earlier = active(all.filter((a) => a.round < c.round && !planned.some((p) => p.unit === a.unitCode)));
    const letGo = [...existing.filter((a) => !kept.includes(a)), ...answered, ...earlier];
    const added = planned.filter((p) => !kept.some((a) => a.unitCode === p.unit));
    const flags = input.placeUnknown
      ? [...new Set([...c.flags, 'place_unknown'])]
      : jurisdiction !== null || input.jurisdiction === null
        ? c.flags.filter((f) => f !== 'place_unknown')
        : c.flags;
    // Urgent as the dispatcher says; else urgent once the new type or the words make it so (a triage case routed as
    // 危险废物 is urgent as one the intake read so), never made less urgent without the dispatcher saying so.
    const urgent = input.urgent ?? (c.urgent || decideUrgency(district, c.text, type).urgent);
    if (
      ROUTED_AS_IT_STANDS.includes(c.status) &&
      type === c.typeCode &&
      jurisdiction === c.jurisdictionCode &&
      urgent === c.urgent &&
      added.length === 0 &&
      letGo.length === 0 &&
      flags.length === c.flags.length
    ) {
      // Routed so already (a second click, a retry, the same choice again): nothing is written. A "re-dispatched"
      // line in the public history and a second notice to the reporter would tell of a change that is not.
      return { rerouted: false, unchanged: true };
    }
    const released = await releaseAll(deps, trx, letGo, now, input.reason);
    const deadlines = deadlinesForRound(deps, c, type, now, urgent);
    await assign(trx, c, all, added, { signBy: deadlines.signBy, replyBy: deadlines.replyBy, at, actor: staffActor(principal) });
    const resumed = await resumeDeadlines(deps, trx, c, kept, now, at);
    await scheduleDeadlineChecks(trx, c.id, [...resumed.values()].flatMap((d) => wakeUpsFor(district, deps.calendar, d)), now);
    const keptNow = kept.map((a) => (resumed.has(a.id) ? { ...a, deadlines: resumed.get(a.id)! } : a));
    // Made urgent: the units that keep their part get the urgent deadlines from now where those come sooner (a
    // signing deadline only while not signed for). Made not urgent, they keep the deadlines they have.
    const tightened = urgent && !c.urgent ? await tightenDeadlines(trx, keptNow, deadlines, at) : new Map<string, Assignment['deadlines']>();
    if (tightened.size > 0) await scheduleDeadlineChecks(trx, c.id, wakeUpsFor(district, deps.calendar, deadlines), now);
    // Each of those units is told its new deadlines (webhook, group), with the dispatcher's reason.
    for (const a of kept.filter((k) => tightened.has(k.id))) {
      await queueNotification(trx, { caseId, audience: `unit:${a.unitCode}`, kind: 'urgent', data: { role: a.role, deadlines: tightened.get(a.id), note: input.reason } }, now);
    }
    // The units whose deadlines only moved later for the wait are told so too (webhook, group), as their systems and
    // the group's post still hold the deadlines they were given.
    for (const a of kept.filter((k) => resumed.has(k.id) && !tightened.has(k.id))) {
      await queueNotification(trx, { caseId, audience: `unit:${a.unitCode}`, kind: 'deadlines', data: { role: a.role, deadlines: resumed.get(a.id), why: 'resumed' } }, now);
    }

    const keptLead = keptNow.find((a) => a.role === 'lead');
    const caseDeadlines = keptLead ? (tightened.get(keptLead.id) ?? keptLead.deadlines) : deadlines;
    const corrected = await correctType(trx, c, type, principal, at);
    const data = {
      type,
      previousType: c.typeCode,
      ...(urgent !== c.urgent ? { urgent, previousUrgent: c.urgent } : {}),
      assignments: planned,
      kept: kept.map((a) => a.unitCode),
      ...(resumed.size > 0 ? { resumed: Object.fromEntries(keptNow.filter((a) => resumed.has(a.id)).map((a) => [a.unitCode, resumed.get(a.id)])) } : {}),
      released,
      deadlines: caseDeadlines,
      corrected,
    };
    const changes = {
      type_code: type,
      jurisdiction_code: jurisdiction,
      triage_reason: null,
      urgent: urgent ? 1 : 0,
      overdue: await overdueFlag(trx, c),
      supervised_at: await supervisedMark(trx, c),
      sign_deadline_at: caseDeadlines.signBy,
      reply_deadline_at: caseDeadlines.replyBy,
      flags: JSON.stringify(flags),
      ...(jurisdiction !== c.jurisdictionCode ? { place_source: 'dispatcher' } : {}),
    };
    if (c.status === 'accepted' && (keptLead?.status === 'accepted' || keptLead?.status === 'replied')) {
      // The lead keeps the case it signed for (or already answered): the case stays accepted, only the other
      // units change, and the reporter has nothing new to hear; with the units left all answered, it is replied.
      await touchCase(trx, c, { kind: 'rerouted', actor: staffActor(principal), at, note: null, data: { ...data, reason: input.reason } }, changes);
      await completeBureauPhaseIfDone(deps, trx, caseId, staffActor(principal), now);
    } else {
      await moveCase(trx, c, 'dispatched', {
        actor: staffActor(principal),
        at,
        reason: input.reason,
        // A case a dispatcher routes out of triage before any unit had it is sent for the first time, not again.
        note: c.dispatchedAt ? `已重新派发至${unitName(deps.district, lead)}办理` : `已派发至${unitName(deps.district, lead)}办理`,
        data,
        changes: { ...changes, dispatched_at: at },
      });
      await queueNotification(trx, { caseId, audience: 'reporter', kind: 'dispatched', data: { lead } }, now);
    }
    await startAssignments(deps, trx, c, all, added, deadlines, now);
    return { rerouted: c.dispatchedAt !== null, unchanged: false };
  });
}

/**
 * The place of a case routed without one (flagged place_unknown): the local
 * office joins as the 属地 co-handler, with fresh deadlines, and is told;
 * a different office that held that role is released. The type, lead and
 * co-handlers, the status and the reporter's notices stay as they are.
 */
export async function setCasePlace(deps: WorkflowDeps, principal: Principal, caseId: string, input: { jurisdiction: string; reason: Said } & SeenCase): Promise<void> {
  const { district } = deps;
  await inTransaction(deps, async (trx, now, at) => {
    const c = await loadCase(trx, caseId);
    // Decided on the case as the desk showed it: a place another dispatcher gave meanwhile (its office maybe signed for
    // it already) is not replaced unseen, nor is the same place given twice by a second click.
    await unchangedSince(trx, c, input);
    if (!WORKING.includes(c.status)) throw refused('illegal_transition', `a case that is ${c.status} is not under handling: route it instead`, { reason: 'place_not_under_handling', status: c.status });
    if (district.units.get(input.jurisdiction)?.kind !== 'jurisdiction') {
      throw new AppError('validation_failed', `unknown jurisdiction "${input.jurisdiction}"`, { jurisdiction: `unknown jurisdiction "${input.jurisdiction}"` });
    }
    const all = await listAssignments(trx, caseId);
    // The office that said the case is not in its area is not given it back by the place form: that is a re-route's
    // decision, with the dispatcher's reason for finding the return unfounded.
    if (officesThatDisowned(c.round, all.map((a) => ({ ...a, unit: a.unitCode }))).has(input.jurisdiction)) {
      const said = `${input.jurisdiction} returned the case as outside its area: give another local office (to give the case back to it all the same, re-route the case naming it, with the reason)`;
      throw new AppError('validation_failed', said, { jurisdiction: said });
    }
    const live = active(currentRound(c, all));
    // The office replaced, also one that returned the case as not in its area (wrong_jurisdiction).
    const replaced = currentRound(c, all).filter(
      (a) => a.role === 'jurisdiction' && a.unitCode !== input.jurisdiction && (live.includes(a) || a.status === 'returned'),
    );
    const released = await releaseAll(deps, trx, replaced, now, input.reason);
    const added = live.some((a) => a.unitCode === input.jurisdiction) ? [] : [{ unit: input.jurisdiction, role: 'jurisdiction' as const }];
    const deadlines = deadlinesForRound(deps, c, c.typeCode, now);
    await assign(trx, c, all, added, { signBy: deadlines.signBy, replyBy: deadlines.replyBy, at, actor: staffActor(principal) });
    await touchCase(
      trx,
      c,
      { kind: 'place_set', actor: staffActor(principal), at, note: `属地：${unitName(deps.district, input.jurisdiction)}`, data: { jurisdiction: input.jurisdiction, released, reason: input.reason } },
      {
        jurisdiction_code: input.jurisdiction,
        place_source: 'dispatcher',
        flags: JSON.stringify(c.flags.filter((f) => f !== 'place_unknown')),
        // An office replaced is no longer late on the case.
        overdue: await overdueFlag(trx, c),
      },
    );
    await startAssignments(deps, trx, c, all, added, deadlines, now);
  });
}

/**
 * Locks several cases for the action, always in id order, so that two actions
 * on the same cases (a merge and its undoing, crossing merges) wait for each
 * other instead of deadlocking. By id; null for a case that does not exist.
 */
async function lockInIdOrder(trx: Trx, ids: string[]): Promise<Map<string, Case | null>> {
  const locked = new Map<string, Case | null>();
  for (const id of [...ids].sort()) locked.set(id, await lockCase(trx, id));
  return locked;
}

/** Merge a duplicate into an open case: the duplicate's reporter follows the surviving case under their own tracking code. */
export async function mergeCase(deps: WorkflowDeps, principal: Principal, caseId: string, input: { into: string; reason: Said } & SeenCase): Promise<void> {
  await inTransaction(deps, async (trx, now, at) => {
    if (input.into === caseId) throw new AppError('validation_failed', 'a case cannot be merged into itself', { into: 'must be another case' });
    // Whichever way the merge goes: two crossing merges wait for each other instead of deadlocking,
    // and the second sees the first's result.
    const locked = await lockInIdOrder(trx, [caseId, input.into]);
    const c = locked.get(caseId);
    if (!c) throw new AppError('not_found', 'no such case');
    await unchangedSince(trx, c, input);
    const target = locked.get(input.into);
    if (!target) throw new AppError('validation_failed', 'no such case to merge into', { into: 'no such case' });
    if (isClosedStatus(target.status)) throw refused('illegal_transition', `the case to merge into is ${target.status}, not open`, { reason: 'merge_target_closed', status: target.status }, {
        into: `the case is ${target.status}, not open: give one still open`,
      });
    const actor = staffActor(principal);
    const released = await releaseAll(deps, trx, active(await listAssignments(trx, caseId)), now, input.reason);
    await moveCase(trx, c, 'merged', {
      actor,
      at,
      reason: input.reason,
      note: `与案件 ${target.trackingCode} 合并办理`,
      data: { into: target.id, intoTrackingCode: target.trackingCode, released },
      // Its units are released: nobody owes anything on it any more, so it has no deadlines of its own (as a case handed
      // to 12345); its reporter follows the other case's. Undone, it waits in triage without any, until routed again.
      changes: { merged_into: target.id, closed_at: at, close_reason: 'merged', overdue: 0, sign_deadline_at: null, reply_deadline_at: null },
    });
    await touchCase(trx, target, {
      kind: 'merged_in',
      actor,
      at,
      data: { from: c.id, fromTrackingCode: c.trackingCode, reason: input.reason },
    });
    // The reporter is told under their own code: the other case's is its own reporter's (MERGED_PUBLIC_NOTE).
    await queueNotification(trx, { caseId, audience: 'reporter', kind: 'merged', data: {} }, now);
  });
}

/**
 * Undo a merge made by mistake (撤销并案): the report goes back to triage to be
 * routed on its own, its reporter no longer follows the other case, and both
 * cases' histories say so.
 */
export async function unmergeCase(deps: WorkflowDeps, principal: Principal, caseId: string, input: { reason: string } & SeenCase): Promise<void> {
  await inTransaction(deps, async (trx, now, at) => {
    // Both cases locked in id order, as a merge locks them; the case is read first to know the other.
    const into = (await findCase(trx, caseId))?.mergedInto ?? null;
    const locked = await lockInIdOrder(trx, into ? [caseId, into] : [caseId]);
    const current = locked.get(caseId);
    if (!current) throw new AppError('not_found', 'no such case');
    await unchangedSince(trx, current, input);
    if (current.status !== 'merged') throw refused('illegal_transition', `the case is ${current.status}, not merged`, { reason: 'not_merged', status: current.status });
    // Merged elsewhere between the read and the lock (undone and merged into another case): the case locked is not the
    // one it is merged into, whose history would get the undo.
    if (current.mergedInto !== into) throw refused('conflict', 'the case was merged into another case meanwhile; reload it', { reason: 'changed_meanwhile' });
    const target = into ? locked.get(into) : null;
    const actor = staffActor(principal);
    await moveCase(trx, current, 'triage', {
      actor,
      at,
      reason: input.reason,
      note: '已撤销合并，待重新分派',
      data: { from: into, ...(target ? { fromTrackingCode: target.trackingCode } : {}) },
      changes: { merged_into: null, closed_at: null, close_reason: null, triage_reason: 'unmerged' },
    });
    if (target) await touchCase(trx, target, { kind: 'unmerged_out', actor, at, data: { from: current.id, fromTrackingCode: current.trackingCode, reason: input.reason } });
    await queueNotification(trx, { caseId, audience: 'reporter', kind: 'unmerged', data: {} }, now);
  });
}

/** Hand a case to the general 12345 channel: every assignment released, 12345 becomes the lead. */
export async function transferCase(deps: WorkflowDeps, principal: Principal, caseId: string, input: { reason: Said } & SeenCase): Promise<void> {
  await inTransaction(deps, async (trx, now, at) => {
    const c = await loadCase(trx, caseId);
    await unchangedSince(trx, c, input);
    if (!canTransition(c.status, 'transferred')) throw refused('illegal_transition', `a case that is ${c.status} cannot be transferred`, { reason: 'not_transferable', status: c.status });
    const { type, unit } = transferUnit(deps.district);
    const before = await listAssignments(trx, caseId);
    const released = await releaseAll(deps, trx, active(before), now, input.reason);
    await assign(trx, c, await listAssignments(trx, caseId), [{ unit, role: 'lead' }], { signBy: null, replyBy: null, at, actor: staffActor(principal) });
    const corrected = type ? await correctType(trx, c, type, principal, at) : false;
    await moveCase(trx, c, 'transferred', {
      actor: staffActor(principal),
      at,
      reason: input.reason,
      note: `非环境类诉求，已转${unitName(deps.district, unit)}`,
      // The type it had, which an undo of the transfer gives back.
      data: { unit, released, corrected, typeBefore: c.typeCode },
      // Every unit is released and 12345 has no deadline here: nobody is late on it any more.
      changes: { ...(type ? { type_code: type } : {}), triage_reason: null, sign_deadline_at: null, reply_deadline_at: null, overdue: 0 },
    });
    await queueNotification(trx, { caseId, audience: 'reporter', kind: 'transferred', data: { lead: unit } }, now);
    await startAssignments(deps, trx, c, before, [{ unit, role: 'lead' }], { signBy: null, replyBy: null }, now);
  });
}

/**
 * Undo a transfer to 12345 (撤销转办): the case is environmental after all.
 * The unit that was given the transfer is released (its group post loses its
 * buttons, its webhook hears of it), the case goes back to triage to be routed
 * with a type of its own, and its reporter is told.
 */
export async function untransferCase(deps: WorkflowDeps, principal: Principal, caseId: string, input: { reason: Said } & SeenCase): Promise<void> {
  await inTransaction(deps, async (trx, now, at) => {
    const c = await loadCase(trx, caseId);
    await unchangedSince(trx, c, input);
    if (c.status !== 'transferred') throw refused('illegal_transition', `the case is ${c.status}, not transferred`, { reason: 'not_transferred', status: c.status });
    const released = await releaseAll(deps, trx, active(currentRound(c, await listAssignments(trx, caseId))), now, input.reason);
    const typeBack = await typeBeforeTransfer(deps.district, trx, c);
    // The label the transfer taught (非环境类诉求) is withdrawn by the type given back: left the case's latest label
    // until someone routed it, a retraining meanwhile would learn this environmental report as one for 12345.
    const corrected = typeBack !== null ? await correctType(trx, c, typeBack, principal, at) : false;
    await moveCase(trx, c, 'triage', {
      actor: staffActor(principal),
      at,
      reason: input.reason,
      note: '已撤销转办，待重新分派',
      data: { released, corrected },
      // Environmental after all: not the type that sends a case to 12345, but the one it had before.
      changes: { triage_reason: 'untransferred', ...(typeBack !== c.typeCode ? { type_code: typeBack } : {}) },
    });
    await queueNotification(trx, { caseId, audience: 'reporter', kind: 'untransferred', data: {} }, now);
  });
}

/**
 * Release a co-handler or the jurisdiction from the case; that may complete the bureau phase. Says so, and whether the
 * case's place went with the unit (its local office, which had returned it as outside its area).
 */
export async function releaseUnit(
  deps: WorkflowDeps,
  principal: Principal,
  caseId: string,
  input: { unit: string; reason: string } & SeenCase,
): Promise<{ caseReplied: boolean; placeCleared: boolean }> {
  return inTransaction(deps, async (trx, now, at) => {
    const c = await loadCase(trx, caseId);
    await unchangedSince(trx, c, input);
    const assignments = await listAssignments(trx, caseId);
    // A unit the district file no longer has can still be released from the cases it was given before.
    if (!deps.district.units.has(input.unit) && !assignments.some((a) => a.unitCode === input.unit)) {
      throw new AppError('validation_failed', 'invalid unit', { unit: `unknown unit "${input.unit}"` });
    }
    if (isClosedStatus(c.status) || c.status === 'replied') throw refused('illegal_transition', `the case is ${c.status}`, { reason: 'release_case_done', status: c.status });
    const mine = currentRound(c, assignments).filter(
      (a) => a.unitCode === input.unit && (a.status === 'pending' || a.status === 'accepted' || a.status === 'returned'),
    );
    if (mine.length === 0) throw refused('illegal_transition', `${input.unit} has no open assignment on this case to release`, { reason: 'release_nothing_open', unit: input.unit }, {
        unit: 'has no open assignment on this case',
      });
    if (mine.some((a) => a.role === 'lead')) throw refused('illegal_transition', 'the lead cannot be released: re-route the case to change the lead', { reason: 'release_lead' }, {
        unit: 'is the lead: re-route the case to change the lead',
      });
    // The case's local office sent it back as outside its area (wrong_jurisdiction): letting it go takes its place
    // along, which is unknown until the dispatcher gives another (the desk lists the case for one). Kept, the desk,
    // the tracking page and the statistics would go on naming that office, and a later re-route would give it the case again.
    const disowned = mine.some((a) => a.role === 'jurisdiction' && a.unitCode === c.jurisdictionCode && a.status === 'returned' && a.returnReason === 'wrong_jurisdiction');
    const released = await releaseAll(deps, trx, mine, now, input.reason);
    const actor: Actor = staffActor(principal);
    // The unit released no longer owes anything: the case stays overdue only for what another unit still owes.
    await touchCase(
      trx,
      c,
      { kind: 'released', actor, at, data: { unit: input.unit, reason: input.reason, released, ...(disowned ? { placeCleared: input.unit } : {}) } },
      {
        overdue: await overdueFlag(trx, c),
        supervised_at: await supervisedMark(trx, c),
        ...(disowned ? { jurisdiction_code: null, place_source: 'dispatcher', flags: JSON.stringify([...new Set([...c.flags, 'place_unknown'])]) } : {}),
      },
    );
    const caseReplied = await completeBureauPhaseIfDone(deps, trx, caseId, actor, now);
    return { caseReplied, placeCleared: disowned };
  });
}

function localDay(deps: WorkflowDeps, iso: string): string {
  return deps.calendar.localDate(new Date(iso));
}

/**
 * The extension request being decided and its case, locked; refused when the case is no longer as the dispatcher
 * saw it (`seen`: the If-Match naming the case's version). The case is checked before the request, so of two
 * decisions sent with the same If-Match the second is a 412 whether or not the first had committed when it read
 * the request; a request decided meanwhile is caught again when it is written (decideExtensionRequest).
 */
async function loadExtensionRequest(trx: Trx, requestId: string, seen: SeenCase): Promise<{ x: ExtensionRequest; c: Case }> {
  const x = await findExtensionRequest(trx, requestId);
  if (!x) throw new AppError('not_found', 'no such extension request');
  const c = await loadCase(trx, x.caseId);
  await unchangedSince(trx, c, seen);
  if (x.status !== 'pending') throw refused('illegal_transition', `the request was already ${x.status}`, { reason: 'extension_decided', status: x.status });
  return { x, c };
}

/** Approve an extension: the unit's reply deadline moves by the working days from where it was. Answers the case's new version. */
export async function approveExtension(
  deps: WorkflowDeps,
  principal: Principal,
  requestId: string,
  input: { note?: string | undefined } & SeenCase,
): Promise<{ replyBy: string; version: number }> {
  return inTransaction(deps, async (trx, now, at) => {
    const { x, c } = await loadExtensionRequest(trx, requestId, input);
    if (!WORKING.includes(c.status)) throw refused('illegal_transition', `the case is ${c.status}; nothing to extend`, { reason: 'extension_case_not_under_handling', status: c.status });
    const a = live(currentRound(c, await listAssignments(trx, c.id))).find((y) => y.unitCode === x.unitCode && (y.status === 'pending' || y.status === 'accepted'));
    if (!a) throw refused('illegal_transition', `${x.unitCode} has no open assignment on this case any more`, { reason: 'extension_unit_gone', unit: x.unitCode });
    if (!(await decideExtensionRequest(trx, x.id, { status: 'approved', by: principal.userId, note: input.note ?? null, at }))) {
      throw refused('conflict', 'the request was decided by someone else meanwhile', { reason: 'extension_decided_meanwhile' });
    }
    const from = a.deadlines.replyBy ? new Date(a.deadlines.replyBy) : now;
    const replyBy = deps.calendar.addWorkingDays(from, x.workingDays).toISOString();
    // A deadline moved into the future can be missed again: the overdue mark is re-armed (the overdue event stays in the history).
    const ok = await updateAssignmentIf(trx, a.id, a.status, {
      reply_deadline_at: replyBy,
      updated_at: at,
      ...(replyBy > at ? { reply_overdue_at: null } : {}),
    });
    if (!ok) throw refused('conflict', 'the assignment was changed meanwhile; reload the case', { reason: 'changed_meanwhile' });
    const isLead = a.role === 'lead';
    const version = await touchCase(
      trx,
      c,
      {
        kind: 'extended',
        actor: staffActor(principal),
        at,
        note: isLead ? `办理期限延长至${localDay(deps, replyBy)}` : null,
        public: isLead,
        data: { requestId: x.id, unit: x.unitCode, workingDays: x.workingDays, from: a.deadlines.replyBy, replyBy, note: input.note ?? null },
      },
      { ...(isLead ? { reply_deadline_at: replyBy, extended: 1 } : {}), overdue: await overdueFlag(trx, c) },
    );
    if (isLead) await queueNotification(trx, { caseId: c.id, audience: 'reporter', kind: 'extended', data: { replyBy } }, now);
    // The unit that asked is told its new deadline through its channels too (its system holds the one it was given).
    await queueNotification(trx, { caseId: c.id, audience: `unit:${a.unitCode}`, kind: 'deadlines', data: { role: a.role, deadlines: { signBy: a.status === 'pending' ? a.deadlines.signBy : null, replyBy }, why: 'extended' } }, now);
    await scheduleDeadlineChecks(trx, c.id, wakeUpsFor(deps.district, deps.calendar, { signBy: null, replyBy }), now);
    return { replyBy, version };
  });
}

/**
 * Refuse an extension, with a note for the unit. The unit is told through its channels (webhook, group), with the
 * deadlines that stand: a unit that works in its own system or its Telegram group would otherwise wait for an answer
 * that only the case's history holds. Answers the case's new version.
 */
export async function refuseExtension(deps: WorkflowDeps, principal: Principal, requestId: string, input: { note: string } & SeenCase): Promise<{ version: number }> {
  return inTransaction(deps, async (trx, now, at) => {
    const { x, c } = await loadExtensionRequest(trx, requestId, input);
    if (!(await decideExtensionRequest(trx, x.id, { status: 'refused', by: principal.userId, note: input.note, at }))) {
      throw refused('conflict', 'the request was decided by someone else meanwhile', { reason: 'extension_decided_meanwhile' });
    }
    const version = await touchCase(trx, c, {
      kind: 'extension_refused',
      actor: staffActor(principal),
      at,
      data: { requestId: x.id, unit: x.unitCode, workingDays: x.workingDays, note: input.note },
    });
    const a = live(currentRound(c, await listAssignments(trx, c.id))).find((y) => y.unitCode === x.unitCode && (y.status === 'pending' || y.status === 'accepted'));
    if (a) {
      const deadlines = { signBy: a.status === 'pending' ? a.deadlines.signBy : null, replyBy: a.deadlines.replyBy };
      await queueNotification(trx, { caseId: c.id, audience: `unit:${a.unitCode}`, kind: 'extension_refused', data: { role: a.role, workingDays: x.workingDays, deadlines, note: input.note } }, now);
    }
    return { version };
  });
}

/**
 * Is the unit late now on a stage it still owes? Signing for it only while not signed for (a unit that signed late
 * and is within its reply deadline is late on nothing), the reply while not replied; a deadline passed counts before
 * the timers marked it (the desk lists such a case as overdue already).
 */
function lateNow(a: Assignment, now: Date): boolean {
  const passed = (deadline: string | null) => deadline !== null && Date.parse(deadline) <= now.getTime();
  const sign = a.status === 'pending' && (a.signOverdueAt !== null || passed(a.deadlines.signBy));
  const reply = (a.status === 'pending' || a.status === 'accepted') && (a.replyOverdueAt !== null || passed(a.deadlines.replyBy));
  return sign || reply;
}

/**
 * How long after a 督办 the same one again — the same note to the same units, with nobody having acted on the case
 * since — is taken for the first sent twice (a double click, a request retried after its answer was lost), not for a
 * second 督办. A dispatcher who means a second one soon after says so in other words.
 */
export const SUPERVISE_REPLAY_MS = 10 * 60_000;

/** Whether a 督办 of `units` with `note` now repeats the case's last one (SUPERVISE_REPLAY_MS). */
async function repeatsLastSupervision(trx: Trx, caseId: string, s: { units: readonly string[]; note: Said }, now: Date): Promise<boolean> {
  const events = await listEvents(trx, caseId);
  const i = events.findLastIndex((e) => e.kind === 'supervised');
  const last = events[i];
  if (!last || now.getTime() - Date.parse(last.at) >= SUPERVISE_REPLAY_MS) return false;
  const data = (last.data ?? {}) as { units?: unknown; note?: unknown };
  const sameUnits = Array.isArray(data.units) && [...(data.units as string[])].sort().join() === [...s.units].sort().join();
  // Only the service's own doings since (reminders, overdue marks, sends): no unit, dispatcher or reporter acted.
  const sameNote = (typeof data.note === 'string' || isServiceWords(data.note)) && saidKey(data.note) === saidKey(s.note);
  return sameUnits && sameNote && events.slice(i + 1).every((e) => e.actor.type === 'system');
}

/**
 * 督办: marks the case and the assignments late on it now supervised and tells them and the lead unit. The same
 * 督办 again soon after (SUPERVISE_REPLAY_MS) is `replayed`: nothing is recorded or sent a second time.
 */
export async function superviseCase(
  deps: WorkflowDeps,
  principal: Principal,
  caseId: string,
  /** The dispatcher's note, or the service's words for a 督办 from the desk's overdue list (`overdue_supervision`). */
  input: { note: Said; idempotencyKey?: string } & SeenCase,
): Promise<{ units: string[]; replayed: boolean }> {
  return inTransaction(deps, async (trx, now, at) => {
    const c = await loadCase(trx, caseId);
    // A key names one 督办 of this case: its retry, whenever it comes while the key is kept (KEEP_IDEMPOTENCY_KEYS_MS), is the first one again.
    const key = input.idempotencyKey === undefined ? null : { key: scopedKey('supervise', caseId, input.idempotencyKey), requestHash: createHash('sha256').update(saidKey(input.note)).digest('hex') };
    const earlier = key ? await findIdempotencyKey(trx, key.key) : null;
    if (key && earlier) {
      if (earlier.requestHash !== key.requestHash) {
        throw new AppError('idempotency_key_reused', 'this Idempotency-Key was already used for a 督办 of this case with another note', { 'Idempotency-Key': 'already used for another note' });
      }
      return { units: [], replayed: true };
    }
    const keep = async () => {
      if (key) await insertIdempotencyKey(trx, { ...key, caseId, at });
    };
    await unchangedSince(trx, c, input);
    if (!WORKING.includes(c.status)) throw refused('illegal_transition', `a case that is ${c.status} is not under handling`, { reason: 'supervise_not_under_handling', status: c.status });
    const open = currentRound(c, await listAssignments(trx, caseId)).filter((a) => a.status === 'pending' || a.status === 'accepted');
    const overdue = open.filter((a) => lateNow(a, now));
    const lead = open.find((a) => a.role === 'lead');
    // Nothing overdue yet (the dispatcher acts on a complaint's weight): the lead is the one supervised.
    const targets = overdue.length > 0 ? overdue : lead ? [lead] : [];
    if (await repeatsLastSupervision(trx, caseId, { units: targets.map((a) => a.unitCode), note: input.note }, now)) {
      await keep();
      return { units: targets.map((a) => a.unitCode), replayed: true };
    }
    for (const a of targets) {
      if (!(await updateAssignmentIf(trx, a.id, a.status, { supervised_at: at, updated_at: at }))) {
        throw refused('conflict', 'the assignment was changed meanwhile; reload the case', { reason: 'changed_meanwhile' });
      }
    }
    const units = targets.map((a) => a.unitCode);
    await touchCase(trx, c, { kind: 'supervised', actor: staffActor(principal), at, note: null, data: { units, note: input.note } }, { supervised_at: at });
    const leadUnit = lead?.unitCode ?? currentRound(c, await listAssignments(trx, caseId)).find((a) => a.role === 'lead')?.unitCode;
    const notify = new Set([...(leadUnit ? [leadUnit] : []), ...units]);
    for (const u of notify) {
      await queueNotification(trx, { caseId, audience: `unit:${u}`, kind: 'supervision', data: { note: input.note, units } }, now);
    }
    await keep();
    return { units, replayed: false };
  });
}
