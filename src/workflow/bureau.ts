import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import { currentLead, holdsCase, listAssignments, type Assignment } from '../../db/repositories/assignments.repository.js';
import {
  insertExtensionRequest,
  insertReplyAttachments,
  lapseExtensionRequests,
  listExtensionRequests,
  updateAssignmentIf,
  type ReplyAttachmentRow,
} from '../../db/repositories/case-queries.repository.js';
import { findActionKey, insertActionKey, type KeptAnswer } from '../../db/repositories/action-keys.repository.js';
import { findCase, lockCase } from '../../db/repositories/cases.repository.js';
import type { Trx } from '../../db/repositories/db-types.js';
import type { Database } from '../../db/schema.js';
import { requireCaseAccess, type Principal } from '../auth/principal.js';
import type { Clock } from '../clock.js';
import { WORKING, type Case, type CaseStatus } from '../domain/case.js';
import { newId } from '../domain/ids.js';
import { keptFileName } from '../domain/text.js';
import { type District, unitName } from '../district/district.schema.js';
import { AppError, refused } from '../errors.js';
import { stageDurations, type WorkCalendar } from '../pipeline/deadlines.js';
import type { PhotoStore } from '../storage/photo-store.js';
import { queuePostSettled } from '../telegram/post-queue.js';
import { queueNotification, scheduleDeadlineChecks } from './notifications.js';
import { inCaseTransaction, moveCase, touchCase, unchangedSince, type Actor, type SeenCase } from './transition.js';
import { correctType, typeBeforeTransfer } from './type-labels.js';
import type { Said } from './service-words.js';

/**
 * The bureau's side of a case (签收 → 办理 → 答复, or 退回): each unit acts on
 * its own assignment only. The lead's signature moves the case to
 * `accepted`; the bureau phase ends (`replied`) when the lead has replied and
 * every other live assignment of the round has replied too.
 */

export interface WorkflowDeps {
  db: Kysely<Database>;
  clock: Clock;
  district: District;
  calendar: WorkCalendar;
  photos: PhotoStore;
  kickOutbox: () => void;
}

/** A file a bureau attaches to its reply (checked by content at the edge). */
export interface ReplyFile {
  bytes: Uint8Array;
  mime: string;
  ext: string;
  /** The file's name as the clerk's browser or client sent it; kept trimmed (`keptFileName`), shown on staff pages only. */
  name?: string | null;
}

export const RETURN_REASONS = ['not_our_remit', 'wrong_jurisdiction', 'unclear_ownership'] as const;
export type ReturnReason = (typeof RETURN_REASONS)[number];


/**
 * The unit's next deadline on a case (`own`: its assignment of the current
 * round, `currentAssignmentOf`): sign-for while pending, reply while signed
 * for; none while the case is not being handled (a lead's return puts it in
 * triage: no unit can act until a dispatcher decides, and no clock runs).
 */
export function unitDue(caseStatus: CaseStatus, own: Assignment | null | undefined): string | null {
  if (!own || !WORKING.includes(caseStatus)) return null;
  if (own.status === 'pending') return own.deadlines.signBy;
  if (own.status === 'accepted') return own.deadlines.replyBy;
  return null;
}

/**
 * Is the unit late on a case: does it still owe a stage whose deadline it
 * missed (marked by the deadline check, or past `now`)? The case's own
 * overdue mark is not the unit's: a co-handler that replied in time, or whose
 * reply deadline was extended, is not late because the lead is. The inbox
 * page and the API's case list both say it from here.
 */
export function unitLate(caseStatus: CaseStatus, own: Assignment | null | undefined, now: number): boolean {
  if (!own || !WORKING.includes(caseStatus)) return false;
  const due = unitDue(caseStatus, own);
  if (due !== null && Date.parse(due) < now) return true;
  return (own.status === 'pending' && own.signOverdueAt !== null) || ((own.status === 'pending' || own.status === 'accepted') && own.replyOverdueAt !== null);
}

export function staffActor(principal: Principal): Actor {
  return { type: 'staff', id: principal.userId, role: principal.role };
}

/** Assignments of the case's current handling round. */
export function currentRound(c: Case, assignments: readonly Assignment[]): Assignment[] {
  return assignments.filter((a) => a.round === c.round);
}

/** Assignments that still count: not released by a dispatcher, not returned by their unit. */
export function live(assignments: readonly Assignment[]): Assignment[] {
  return assignments.filter((a) => a.status !== 'released' && a.status !== 'returned');
}

interface Loaded {
  c: Case;
  assignments: Assignment[];
  mine: Assignment;
}

/**
 * Reads the case, locking it (lockCase), and the principal's own live
 * assignment on it. No assignment of the unit at all → 404 (the case is not
 * theirs to know); only a returned or released one → 409. `transfer`: the
 * action is one the unit given a transferred case (12345) may take on it too,
 * signing for it or returning it. `seen`: the case as the unit decided on it
 * (an API client's If-Match), checked once the case is known to be theirs.
 */
async function loadOwn(trx: Trx, principal: Principal, caseId: string, opts: { transfer?: boolean; seen?: SeenCase } = {}): Promise<Loaded> {
  const c = await lockCase(trx, caseId);
  if (!c) throw new AppError('not_found', 'no such case');
  const assignments = await listAssignments(trx, caseId);
  const ofUnit = assignments.filter((a) => a.unitCode === principal.unitCode);
  if (principal.role !== 'bureau' || ofUnit.length === 0) throw new AppError('not_found', 'no such case');
  await unchangedSince(trx, c, opts.seen ?? {});
  const mine = live(currentRound(c, ofUnit)).sort((a, b) => a.createdAt.localeCompare(b.createdAt)).at(-1);
  if (!mine) throw refused('illegal_transition', 'your unit has no live assignment on this case (returned or released)', { reason: 'no_live_assignment' });
  const takesTransfer = opts.transfer === true && c.status === 'transferred' && mine.role === 'lead';
  if (!WORKING.includes(c.status) && !takesTransfer) {
    const said =
      c.status === 'triage'
        ? 'the case waits in triage for a dispatcher to route it again (its lead returned it); no unit can act on it until then'
        : `the case is ${c.status}; nothing to do on it now`;
    throw refused('illegal_transition', said, { reason: 'case_not_under_handling', status: c.status });
  }
  return { c, assignments, mine };
}

async function inTransaction<T>(deps: WorkflowDeps, fn: (trx: Trx, now: Date, at: string) => Promise<T>): Promise<T> {
  const now = deps.clock.now();
  const result = await inCaseTransaction(deps.db, (trx) => fn(trx, now, now.toISOString()));
  deps.kickOutbox();
  return result;
}

export type { KeptAnswer };

/** The unit's actions on a case that an API client may send with an Idempotency-Key. */
export type UnitAction = 'accept' | 'return' | 'progress' | 'reply' | 'extend';

/**
 * An action sent with an Idempotency-Key: the client's key, and how the answer to keep is drawn from what the action
 * did (`done`), in its transaction, so that the answer a retry gets is the one the first try's client would have.
 */
export interface ActionKey<R> {
  key: string;
  answer: (trx: Trx, done: R) => Promise<KeptAnswer>;
}

/**
 * How a unit's action ended: done now (with an Idempotency-Key, the answer kept for its retries), or `replayed`: the
 * key named the same action done before, answered as it was then, and nothing was done again.
 */
export type Acted<R> = { replayed: false; done: R; answer: KeptAnswer | null } | { replayed: true; done?: undefined; answer: KeptAnswer };

const ACTION_NAMES: Record<UnitAction, string> = {
  accept: 'signature',
  return: 'return',
  progress: 'progress note',
  reply: 'reply',
  extend: 'extension request',
};

/**
 * Runs a unit's action on a case in one transaction. With an Idempotency-Key the answer it gives is kept in that
 * transaction, under the unit, the case, the action and the key: a retry of it (its answer lost on the way) is
 * answered alike, whenever it comes and whatever happened to the case since, and does nothing again; the same key
 * with other content (`content`: what the request said) is refused as `idempotency_key_reused`. Another unit's key,
 * or the key of another action, names nothing of this one.
 */
async function unitAction<R>(
  deps: WorkflowDeps,
  principal: Principal,
  caseId: string,
  action: { name: UnitAction; content: unknown; key: ActionKey<R> | undefined },
  fn: (trx: Trx, now: Date, at: string) => Promise<R>,
): Promise<Acted<R>> {
  const { key } = action;
  return inTransaction(deps, async (trx, now, at) => {
    const scope = key && principal.unitCode !== null ? { unitCode: principal.unitCode, caseId, action: action.name, key: key.key } : null;
    const requestHash = createHash('sha256').update(JSON.stringify(action.content)).digest('hex');
    if (scope) {
      // The case is locked first: a retry that overtakes its first try, still under way, waits for it and replays it.
      if (!(await lockCase(trx, caseId))) throw new AppError('not_found', 'no such case');
      const earlier = await findActionKey(trx, scope);
      if (earlier) {
        // A replay shows what the answer showed: only to a unit that may read as much of the case now. Released from
        // it since, the unit is told of no case, as when it asks for the case; its own return's answer showed it
        // only its part, and is still its to have.
        const assignments = await listAssignments(trx, caseId);
        requireCaseAccess(principal, assignments.map((a) => a.unitCode));
        if (earlier.access === 'full' && !holdsCase(assignments, principal.unitCode)) throw new AppError('not_found', 'no such case');
        if (earlier.requestHash !== requestHash) {
          const what = ACTION_NAMES[action.name];
          throw new AppError('idempotency_key_reused', `this Idempotency-Key was already used for a ${what} of this case with other content`, {
            'Idempotency-Key': `already used for another ${what}`,
          });
        }
        return { replayed: true, answer: earlier.answer };
      }
    }
    const done = await fn(trx, now, at);
    if (!scope || !key) return { replayed: false, done, answer: null };
    const answer = await key.answer(trx, done);
    const access = holdsCase(await listAssignments(trx, caseId), principal.unitCode) ? 'full' : 'withdrawn';
    await insertActionKey(trx, { ...scope, requestHash, answer, access, at });
    return { replayed: false, done, answer };
  });
}

function lost(): AppError {
  return refused('conflict', 'the assignment was changed by someone else meanwhile; reload the case', { reason: 'changed_meanwhile' });
}

/**
 * The case's overdue flag as it stands now: 1 while a unit of the current
 * round still owes a stage whose deadline it missed. A late signature or
 * reply, a re-route or an extension can end that.
 */
export async function overdueFlag(trx: Trx, c: Case): Promise<0 | 1> {
  const owing = currentRound(c, await listAssignments(trx, c.id)).some(
    (a) => (a.status === 'pending' && a.signOverdueAt !== null) || ((a.status === 'pending' || a.status === 'accepted') && a.replyOverdueAt !== null),
  );
  return owing ? 1 : 0;
}

/** 签收: the unit signs for its pending assignment (`pressedInGroup`: with the button of its Telegram group's post). */
export async function acceptAssignment(
  deps: WorkflowDeps,
  principal: Principal,
  caseId: string,
  opts: { pressedInGroup?: boolean; key?: ActionKey<void> } & SeenCase = {},
): Promise<Acted<void>> {
  return unitAction(deps, principal, caseId, { name: 'accept', content: null, key: opts.key }, async (trx, now, at) => {
    const { c, mine } = await loadOwn(trx, principal, caseId, { transfer: true, seen: opts });
    if (mine.status !== 'pending') throw refused('illegal_transition', `your assignment is already ${mine.status}`, { reason: 'assignment_already', status: mine.status });
    const ok = await updateAssignmentIf(trx, mine.id, 'pending', {
      status: 'accepted',
      accepted_at: at,
      accepted_by: principal.userId,
      updated_at: at,
    });
    if (!ok) throw lost();
    await queuePostSettled(trx, deps.district, caseId, mine.unitCode, c.round, now, opts);
    const actor = staffActor(principal);
    const unitLabel = unitName(deps.district, mine.unitCode);
    if (mine.role === 'lead' && (c.status === 'dispatched' || c.status === 'reopened')) {
      await moveCase(trx, c, 'accepted', {
        actor,
        at,
        note: `${unitLabel}已签收`,
        data: { unit: mine.unitCode, role: mine.role },
        // A late signature ends what was late about signing: the case stays overdue only for what still is.
        changes: { overdue: await overdueFlag(trx, c) },
      });
      await queueNotification(trx, { caseId, audience: 'reporter', kind: 'accepted', data: { unit: mine.unitCode } }, now);
    } else if (c.status === 'transferred') {
      // 12345 takes the transfer over, to handle it on its own system: the case stays transferred, and its reporter reads so.
      await touchCase(trx, c, { kind: 'accepted', actor, at, note: `${unitLabel}已签收`, public: true, data: { unit: mine.unitCode, role: mine.role } });
      await queueNotification(trx, { caseId, audience: 'reporter', kind: 'accepted', data: { unit: mine.unitCode } }, now);
    } else {
      await touchCase(trx, c, { kind: 'accepted', actor, at, data: { unit: mine.unitCode, role: mine.role } }, { overdue: await overdueFlag(trx, c) });
    }
  });
}

/**
 * 退回: the unit hands its assignment back with a reason; the lead's return
 * sends the case to triage. So does 12345's return of a case transferred to
 * it (an environmental matter after all), and its reporter is told.
 */
export async function returnAssignment(
  deps: WorkflowDeps,
  principal: Principal,
  caseId: string,
  /** `note`: the clerk's words, or the service's for a return pressed in the unit's Telegram group (`returned_in_group`). */
  input: { reason: ReturnReason; note: Said; key?: ActionKey<void> } & SeenCase,
  opts: { pressedInGroup?: boolean } = {},
): Promise<Acted<void>> {
  const content = { reason: input.reason, note: input.note };
  return unitAction(deps, principal, caseId, { name: 'return', content, key: input.key }, async (trx, now, at) => {
    const { c, mine } = await loadOwn(trx, principal, caseId, { transfer: true, seen: input });
    // 签收 and 退回 are the two answers to a dispatch: once signed for, the
    // unit handles it (or asks the dispatcher), so a signature and a return
    // racing each other cannot both win.
    if (mine.status !== 'pending') {
      throw refused('illegal_transition', `your assignment is ${mine.status}; only an assignment not yet signed for can be returned`, { reason: 'return_after_signing', status: mine.status });
    }
    const ok = await updateAssignmentIf(trx, mine.id, 'pending', {
      status: 'returned',
      returned_at: at,
      return_reason: input.reason,
      updated_at: at,
    });
    if (!ok) throw lost();
    await queuePostSettled(trx, deps.district, caseId, mine.unitCode, c.round, now, opts);
    const actor = staffActor(principal);
    const data = { unit: mine.unitCode, role: mine.role, reason: input.reason, note: input.note };
    if (mine.role === 'lead') {
      // A case handed to 12345 that it returns is environmental after all: as when a dispatcher undoes the transfer, it
      // waits in triage with the type it had before (not 非环境类诉求, which the desk's route form would start on and
      // refuse), and retraining reads that type for it at once.
      const typeBack = c.status === 'transferred' ? await typeBeforeTransfer(deps.district, trx, c) : c.typeCode;
      if (c.status === 'transferred' && typeBack !== null) await correctType(trx, c, typeBack, principal, at, 'transfer_returned');
      await moveCase(trx, c, 'triage', {
        actor,
        at,
        reason: input.reason,
        note: '承办单位退回，待重新分派',
        data,
        changes: { triage_reason: c.status === 'transferred' ? 'transfer_returned' : 'returned', ...(typeBack !== c.typeCode ? { type_code: typeBack } : {}) },
      });
      if (c.status === 'transferred') await queueNotification(trx, { caseId, audience: 'reporter', kind: 'untransferred', data: {} }, now);
      // The co-handlers and the local office keep their part while the case waits for a dispatcher, their deadlines
      // stopped: each is told so (webhook, group), as it is told when the case resumes (`deadlines`, resumed). `since`
      // names this wait, so a notice of an earlier one is not sent once the case was routed and returned again.
      const waiting = currentRound(c, await listAssignments(trx, caseId)).filter((a) => a.id !== mine.id && (a.status === 'pending' || a.status === 'accepted'));
      for (const a of waiting) {
        await queueNotification(trx, { caseId, audience: `unit:${a.unitCode}`, kind: 'paused', data: { role: a.role, lead: mine.unitCode, reason: input.reason, since: at } }, now);
      }
    } else {
      await touchCase(trx, c, { kind: 'returned', actor, at, data }, { overdue: await overdueFlag(trx, c) });
    }
    await queueNotification(trx, { caseId, audience: 'dispatchers', kind: 'returned', data }, now);
  });
}

/** A progress note (办理进展); shown on the tracking page only when `public`. */
export async function recordProgress(
  deps: WorkflowDeps,
  principal: Principal,
  caseId: string,
  input: { note: string; public: boolean; key?: ActionKey<void> } & SeenCase,
): Promise<Acted<void>> {
  const content = { note: input.note, public: input.public };
  return unitAction(deps, principal, caseId, { name: 'progress', content, key: input.key }, async (trx, _now, at) => {
    const { c, mine } = await loadOwn(trx, principal, caseId, { seen: input });
    if (mine.status === 'pending') throw refused('illegal_transition', 'sign for the case first (your assignment is pending)', { reason: 'sign_first' });
    if (mine.status !== 'accepted') throw refused('illegal_transition', `your assignment is ${mine.status}: progress notes are for work under way`, { reason: 'progress_not_under_way', status: mine.status });
    await touchCase(trx, c, {
      kind: 'progress',
      actor: staffActor(principal),
      at,
      note: input.note,
      public: input.public,
      data: { unit: mine.unitCode, role: mine.role },
    });
  });
}

/** 答复: the unit answers its part; the case becomes `replied` once the bureau phase is complete. */
export async function replyAssignment(
  deps: WorkflowDeps,
  principal: Principal,
  caseId: string,
  input: { text: string; files?: ReplyFile[]; key?: ActionKey<{ caseReplied: boolean }> } & SeenCase,
): Promise<Acted<{ caseReplied: boolean }>> {
  // Files are stored first and the rows written with the reply; a reply that
  // fails leaves no file behind.
  const at0 = deps.clock.now().toISOString();
  const attachments = (input.files ?? []).map((f) => {
    const id = newId();
    const sha256 = createHash('sha256').update(f.bytes).digest('hex');
    return {
      id,
      caseId,
      storageKey: `replies/${caseId}/${id}.${f.ext}`,
      mime: f.mime,
      size: f.bytes.byteLength,
      sha256,
      createdAt: at0,
      originalName: keptFileName(f.name),
      bytes: f.bytes,
    };
  });
  const written: string[] = [];
  try {
    for (const a of attachments) {
      await deps.photos.put(a.storageKey, a.bytes, a.mime);
      written.push(a.storageKey);
    }
    const acted = await replyInTransaction(deps, principal, caseId, input.text, attachments, input);
    // A retry answered as its first try was keeps none of the files it brought again: the first try's are the reply's.
    if (acted.replayed) await Promise.allSettled(written.map((k) => deps.photos.delete(k)));
    return acted;
  } catch (err) {
    await Promise.allSettled(written.map((k) => deps.photos.delete(k)));
    throw err;
  }
}

async function replyInTransaction(
  deps: WorkflowDeps,
  principal: Principal,
  caseId: string,
  text: string,
  attachments: ReplyAttachmentRow[],
  seen: SeenCase & { key?: ActionKey<{ caseReplied: boolean }> },
): Promise<Acted<{ caseReplied: boolean }>> {
  const input = { text };
  // The files by their content and name, as a retry sends them again.
  const content = { text, attachments: attachments.map((a) => ({ sha256: a.sha256, mime: a.mime, name: a.originalName })) };
  return unitAction(deps, principal, caseId, { name: 'reply', content, key: seen.key }, async (trx, now, at) => {
    const { c, mine } = await loadOwn(trx, principal, caseId, { seen });
    if (mine.status === 'pending') throw refused('illegal_transition', 'sign for the case (accept) before replying', { reason: 'sign_first' });
    if (mine.status !== 'accepted') throw refused('illegal_transition', `your assignment is already ${mine.status}`, { reason: 'assignment_already', status: mine.status });
    const ok = await updateAssignmentIf(trx, mine.id, 'accepted', {
      status: 'replied',
      replied_at: at,
      replied_by: principal.userId,
      reply_text: input.text,
      updated_at: at,
    });
    if (!ok) throw lost();
    // A request for more time the dispatcher has not decided ends with the reply: nothing is left to extend.
    await lapseExtensionRequests(trx, caseId, mine.unitCode, { note: 'replied', at });
    const isLead = mine.role === 'lead';
    // The lead's answer is what the reporter reads on the tracking page.
    await touchCase(trx, c, {
      kind: 'reply',
      actor: staffActor(principal),
      at,
      note: isLead ? input.text : null,
      public: isLead,
      data: {
        unit: mine.unitCode,
        role: mine.role,
        text: input.text,
        ...(attachments.length > 0 ? { attachments: attachments.map((a) => ({ id: a.id, mime: a.mime, size: a.size })) } : {}),
      },
    }, { overdue: await overdueFlag(trx, c) });
    await insertReplyAttachments(trx, attachments);
    const caseReplied = await completeBureauPhaseIfDone(deps, trx, caseId, staffActor(principal), now);
    return { caseReplied };
  });
}

/**
 * Ends the bureau phase when the lead has replied and every other unit of
 * the round has replied or been released by a dispatcher (a unit that
 * returned its part waits for the dispatcher to release it): the case
 * becomes `replied`, the rating window opens, the reporter is told and a
 * wake-up is set for the end of the window. Shared by the reply and the
 * dispatcher's release.
 */
export async function completeBureauPhaseIfDone(deps: WorkflowDeps, trx: Trx, caseId: string, actor: Actor, now: Date): Promise<boolean> {
  const c = await findCase(trx, caseId);
  if (!c || !WORKING.includes(c.status)) return false;
  const round = currentRound(c, await listAssignments(trx, caseId)).filter((a) => a.status !== 'released');
  const lead = currentLead(round);
  if (!lead || lead.status !== 'replied') return false;
  if (round.some((a) => a.status !== 'replied')) return false;
  const at = now.toISOString();
  const rateBy = deps.calendar.add(now, stageDurations(deps.district, c.typeCode, c.urgent).rate).toISOString();
  await moveCase(trx, c, 'replied', {
    actor,
    at,
    note: '已答复，请评价办理结果',
    data: { lead: lead.unitCode, rateBy },
    changes: { replied_at: at, rate_deadline_at: rateBy },
  });
  await queueNotification(trx, { caseId, audience: 'reporter', kind: 'replied', data: { lead: lead.unitCode, text: lead.replyText, rateBy } }, now);
  await scheduleDeadlineChecks(trx, caseId, [rateBy], now);
  return true;
}

export const MAX_EXTENSION_DAYS = 30;

/** Asks the dispatcher for more working days on the unit's reply deadline; one open request per unit. */
export async function requestExtension(
  deps: WorkflowDeps,
  principal: Principal,
  caseId: string,
  input: { workingDays: number; reason: string; key?: ActionKey<{ id: string; version: number }> } & SeenCase,
): Promise<Acted<{ id: string; version: number }>> {
  const content = { workingDays: input.workingDays, reason: input.reason };
  return unitAction(deps, principal, caseId, { name: 'extend', content, key: input.key }, async (trx, now, at) => {
    const { c, mine } = await loadOwn(trx, principal, caseId, { seen: input });
    if (mine.status !== 'pending' && mine.status !== 'accepted') {
      throw refused('illegal_transition', `your assignment is ${mine.status}; there is no deadline left to extend`, { reason: 'no_deadline_to_extend', status: mine.status });
    }
    const open = await listExtensionRequests(trx, caseId, 'pending');
    if (open.some((x) => x.unitCode === mine.unitCode)) {
      throw refused('conflict', 'your unit already has an extension request waiting for the dispatcher', { reason: 'extension_waiting' });
    }
    const id = newId();
    const data = { requestId: id, unit: mine.unitCode, workingDays: input.workingDays, reason: input.reason };
    // The version check makes two simultaneous requests of one unit collide here.
    const version = await touchCase(trx, c, { kind: 'extension_requested', actor: staffActor(principal), at, data });
    await insertExtensionRequest(trx, { id, caseId, unitCode: mine.unitCode, workingDays: input.workingDays, reason: input.reason, requestedBy: principal.userId, at });
    await queueNotification(trx, { caseId, audience: 'dispatchers', kind: 'extension_requested', data }, now);
    return { id, version };
  });
}
