import type { Case, CaseStatus } from '../../src/domain/case.js';
import type { Classification } from '../../src/pipeline/classifier.js';
import type { Selectable } from 'kysely';
import type { CaseRow, ExtensionRequestsTable } from '../schema.js';
import { HOLDING_STATUSES, toAssignment, type Assignment } from './assignments.repository.js';
import { toCase } from './cases.repository.js';
import { inChunks, type Db, parseJson } from './db-types.js';

/**
 * The staff desk's reads (case lists with filters and keyset pagination, the
 * triage queue) and the small writes of the bureau phase that belong to
 * assignments and extension requests rather than to the case row itself.
 */

export interface CaseListFilter {
  /** Only cases with an assignment (of any status) for this unit. */
  assignedTo?: string;
  /** Only cases this unit holds (an assignment it has not returned nor been released from: `HOLDING_STATUSES`). */
  heldBy?: string;
  /** With `heldBy`: a transferred case only while the unit's assignment waits to be signed for (12345's open work). */
  transfersPendingOnly?: boolean;
  status?: CaseStatus;
  /** Any of these statuses (with `status`, both apply). */
  statuses?: readonly CaseStatus[];
  type?: string;
  overdue?: boolean;
  receivedFrom?: string;
  receivedTo?: string;
  limit: number;
  /** Keyset: the position after which to continue (newest first). */
  after?: { receivedAt: string; id: string };
  /** Offset paging, when no cursor is given (1-based). */
  page?: number;
}

export interface CaseListRow {
  case: Case;
  classification: Classification | null;
}

function toListRow(row: CaseRow): CaseListRow {
  return { case: toCase(row), classification: parseJson<Classification | null>(row.classification, null) };
}

/**
 * Whether any case carries the code: a type as its type, a unit on one of its
 * assignments (any role or status, as `assignedTo` lists). Asked only of a code
 * the district file does not have, so the scan of a type no case has is paid by
 * a request that names one.
 */
export async function casesCarryCode(db: Db, kind: 'type' | 'unit', code: string): Promise<boolean> {
  const row =
    kind === 'type'
      ? await db.selectFrom('cases').select('id').where('type_code', '=', code).limit(1).executeTakeFirst()
      : await db.selectFrom('assignments').select('case_id').where('unit_code', '=', code).limit(1).executeTakeFirst();
  return row !== undefined;
}

/** Cases newest first (received_at, then id), one page plus whether another follows. */
export async function listCases(db: Db, f: CaseListFilter): Promise<{ rows: CaseListRow[]; more: boolean }> {
  let q = db.selectFrom('cases').selectAll('cases');
  // A unit's cases: those it was ever assigned (`assignedTo`), or those it holds now (`heldBy`).
  for (const [unit, holding] of [
    [f.assignedTo, false],
    [f.heldBy, true],
  ] as const) {
    if (unit === undefined) continue;
    q = q.where((eb) => {
      let mine = eb.selectFrom('assignments').select('assignments.id').whereRef('assignments.case_id', '=', 'cases.id').where('assignments.unit_code', '=', unit);
      if (holding) mine = mine.where('assignments.status', 'in', [...HOLDING_STATUSES]);
      if (!holding || !f.transfersPendingOnly) return eb.exists(mine);
      // A transferred case: only while the unit's assignment waits to be signed for.
      return eb.and([eb.exists(mine), eb.or([eb('cases.status', '!=', 'transferred'), eb.exists(mine.where('assignments.status', '=', 'pending'))])]);
    });
  }
  if (f.status) q = q.where('cases.status', '=', f.status);
  if (f.statuses?.length === 0) return { rows: [], more: false };
  if (f.statuses) q = q.where('cases.status', 'in', [...f.statuses]);
  if (f.type) q = q.where('cases.type_code', '=', f.type);
  if (f.overdue === true) q = q.where('cases.overdue', '=', 1);
  if (f.overdue === false) q = q.where((eb) => eb.or([eb('cases.overdue', 'is', null), eb('cases.overdue', '=', 0)]));
  if (f.receivedFrom) q = q.where('cases.received_at', '>=', f.receivedFrom);
  if (f.receivedTo) q = q.where('cases.received_at', '<', f.receivedTo);
  if (f.after) {
    const { receivedAt, id } = f.after;
    q = q.where((eb) =>
      eb.or([eb('cases.received_at', '<', receivedAt), eb.and([eb('cases.received_at', '=', receivedAt), eb('cases.id', '<', id)])]),
    );
  } else if (f.page && f.page > 1) {
    q = q.offset((f.page - 1) * f.limit);
  }
  const rows = await q.orderBy('cases.received_at', 'desc').orderBy('cases.id', 'desc').limit(f.limit + 1).execute();
  return { rows: rows.slice(0, f.limit).map(toListRow), more: rows.length > f.limit };
}

/** How many rows `listCasesKept` reads at a time. */
const KEEP_BATCH = 200;

/**
 * `listCases` narrowed further by `keep`, a rule the query does not say (one
 * over each case's assignments, say): the cases are read newest first in
 * batches until the page is full, so a cursor and page numbers count only
 * the cases kept, as they would if the query had said it.
 */
export async function listCasesKept(
  db: Db,
  f: CaseListFilter,
  keep: (rows: CaseListRow[]) => Promise<CaseListRow[]>,
): Promise<{ rows: CaseListRow[]; more: boolean }> {
  const skip = f.after ? 0 : ((f.page ?? 1) - 1) * f.limit;
  const kept: CaseListRow[] = [];
  let after = f.after;
  for (;;) {
    const { rows, more } = await listCases(db, { ...f, after, page: undefined, limit: KEEP_BATCH });
    kept.push(...(await keep(rows)));
    const last = rows.at(-1);
    if (kept.length > skip + f.limit || !more || !last) break;
    after = { receivedAt: last.case.receivedAt, id: last.case.id };
  }
  return { rows: kept.slice(skip, skip + f.limit), more: kept.length > skip + f.limit };
}

/** The classifier's full answer kept with the case (type, confidence, runner-up, evidence). */
export async function findClassification(db: Db, caseId: string): Promise<Classification | null> {
  const row = await db.selectFrom('cases').select('classification').where('id', '=', caseId).executeTakeFirst();
  return parseJson<Classification | null>(row?.classification ?? null, null);
}

/** The statuses a case has left handling in for good. */
export const CLOSED: readonly CaseStatus[] = ['closed', 'merged', 'transferred'];

/** The statuses in which a case whose place is unknown can get one from a dispatcher: a place, or a re-route. */
const PLACE_GIVEN_WHILE: readonly CaseStatus[] = ['triage', 'dispatched', 'accepted', 'returned', 'reopened'];

/**
 * What needs a dispatcher: cases in triage (low confidence, no rule, returned
 * by the lead), reopened cases, open cases with a returned co-handler or
 * jurisdiction in the current round, and cases under handling or in triage whose place is unknown.
 * Urgent first, then oldest first: a work queue.
 */
export async function listTriage(db: Db, limit: number): Promise<Array<CaseListRow & { lastEventId: number }>> {
  const rows = await db
    .selectFrom('cases')
    .selectAll('cases')
    // Read in the same statement as the version: the latest event the list shows the case with (a card's one-click
    // form lets through what the deadline timers alone did since).
    .select((eb) => eb.selectFrom('case_events').whereRef('case_events.case_id', '=', 'cases.id').select((e) => e.fn.max('case_events.id').as('last')).as('last_event_id'))
    .where((eb) =>
      eb.or([
        eb('cases.status', 'in', ['triage', 'reopened', 'returned']),
        eb.and([
          eb('cases.status', 'in', ['dispatched', 'accepted']),
          eb.exists(
            eb
              .selectFrom('assignments')
              .select('assignments.id')
              .whereRef('assignments.case_id', '=', 'cases.id')
              .where('assignments.status', '=', 'returned')
              .where('assignments.role', '!=', 'lead')
              .where((e) => e(e.fn.coalesce('assignments.round', e.lit(1)), '=', e.fn.coalesce('cases.round', e.lit(1)))),
          ),
        ]),
        // A place can still be given (or the case routed) only while it is under handling or waits for a dispatcher:
        // once its units answered (replied) nothing on the desk can act on it.
        eb.and([eb('cases.status', 'in', PLACE_GIVEN_WHILE), eb('cases.flags', 'like', '%"place_unknown"%')]),
      ]),
    )
    .orderBy('cases.urgent', 'desc')
    .orderBy('cases.received_at', 'asc')
    .orderBy('cases.id', 'asc')
    .limit(limit)
    .execute();
  return rows.map((r) => ({ ...toListRow(r), lastEventId: Number(r.last_event_id ?? 0) }));
}

/** Cases that cannot be a merge target or take more work. */
export function isClosedStatus(status: CaseStatus): boolean {
  return CLOSED.includes(status);
}

// ---- assignments -------------------------------------------------------

/** The assignments of several cases at once (for a list page), by case id, oldest first. */
export async function listAssignmentsFor(db: Db, caseIds: readonly string[]): Promise<Map<string, Assignment[]>> {
  const byCase = new Map<string, Assignment[]>(caseIds.map((id) => [id, []]));
  if (caseIds.length === 0) return byCase;
  const rows = await inChunks(caseIds, (ids) => db.selectFrom('assignments').selectAll().where('case_id', 'in', ids).orderBy('created_at').orderBy('id').execute());
  for (const row of rows) byCase.get(row.case_id)?.push(toAssignment(row));
  return byCase;
}

/**
 * The ids of the reports merged into each of the given cases: those merged into it, and those merged into one of
 * them before it was merged in turn (a clerk holding the case finds it by a duplicate's reference).
 */
export async function mergedReportsOf(db: Db, caseIds: readonly string[]): Promise<Map<string, string[]>> {
  const byCase = new Map<string, string[]>(caseIds.map((id) => [id, []]));
  // Each report's case in the list, level by level down the merges (merges chain rarely, and never in a cycle).
  let rootOf = new Map<string, string>(caseIds.map((id) => [id, id]));
  while (rootOf.size > 0) {
    const rows = await inChunks([...rootOf.keys()], (ids) => db.selectFrom('cases').select(['id', 'merged_into']).where('merged_into', 'in', ids).execute());
    const next = new Map<string, string>();
    for (const r of rows) {
      const root = rootOf.get(r.merged_into!);
      if (root === undefined || next.has(r.id) || byCase.has(r.id)) continue;
      byCase.get(root)!.push(r.id);
      next.set(r.id, root);
    }
    rootOf = next;
  }
  return byCase;
}

/**
 * Changes one assignment only if it is still in the status it was read in:
 * the conditional update is the lock, so of two staff signing for the same
 * assignment at once exactly one gets `true`.
 */
export async function updateAssignmentIf(
  db: Db,
  id: string,
  expected: string | readonly string[],
  changes: {
    status?: string;
    updated_at: string;
    accepted_at?: string;
    accepted_by?: string;
    replied_at?: string;
    replied_by?: string;
    reply_text?: string;
    returned_at?: string;
    return_reason?: string;
    released_at?: string;
    sign_deadline_at?: string | null;
    reply_deadline_at?: string | null;
    reply_overdue_at?: string | null;
    supervised_at?: string;
  },
): Promise<boolean> {
  const froms = typeof expected === 'string' ? [expected] : [...expected];
  const result = await db.updateTable('assignments').set(changes).where('id', '=', id).where('status', 'in', froms).executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/**
 * Gives a unit that held the case before (returned, released, or under
 * another role) a fresh assignment in the same row — a case has one
 * assignment row per unit (`assignments_case_unit`); what happened to the
 * earlier one stays in the case's events.
 */
export async function reassign(
  db: Db,
  id: string,
  expected: string,
  a: { role: string; signBy: string | null; replyBy: string | null; round: number; at: string },
): Promise<boolean> {
  const result = await db
    .updateTable('assignments')
    .set({
      role: a.role,
      status: 'pending',
      sign_deadline_at: a.signBy,
      reply_deadline_at: a.replyBy,
      round: a.round,
      updated_at: a.at,
      accepted_at: null,
      accepted_by: null,
      replied_at: null,
      replied_by: null,
      reply_text: null,
      returned_at: null,
      return_reason: null,
      released_at: null,
      sign_overdue_at: null,
      reply_overdue_at: null,
      supervised_at: null,
    })
    .where('id', '=', id)
    .where('status', '=', expected)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

// ---- reply attachments -------------------------------------------------

export interface ReplyAttachmentRow {
  id: string;
  caseId: string;
  storageKey: string;
  mime: string;
  size: number;
  sha256: string;
  createdAt: string;
  /** The file's name as the clerk chose it, already trimmed; null when it had none worth keeping. */
  originalName: string | null;
}

/** Files a bureau attached to its reply: kept with the case's attachments as kind `reply`. */
export async function insertReplyAttachments(db: Db, list: readonly ReplyAttachmentRow[]): Promise<void> {
  if (list.length === 0) return;
  await db
    .insertInto('case_attachments')
    .values(
      list.map((a) => ({
        id: a.id,
        case_id: a.caseId,
        kind: 'reply',
        storage_key: a.storageKey,
        mime: a.mime,
        size: a.size,
        sha256: a.sha256,
        created_at: a.createdAt,
        original_name: a.originalName,
      })),
    )
    .execute();
}

// ---- extension requests ------------------------------------------------

/** `lapsed`: the unit replied before anyone decided; the request no longer asks for anything. */
export const EXTENSION_STATUSES = ['pending', 'approved', 'refused', 'lapsed'] as const;
export type ExtensionStatus = (typeof EXTENSION_STATUSES)[number];

export interface ExtensionRequest {
  id: string;
  caseId: string;
  unitCode: string;
  workingDays: number;
  reason: string;
  status: ExtensionStatus;
  requestedBy: string | null;
  decidedBy: string | null;
  decisionNote: string | null;
  createdAt: string;
  decidedAt: string | null;
}

function toExtension(row: Selectable<ExtensionRequestsTable>): ExtensionRequest {
  return {
    id: row.id,
    caseId: row.case_id,
    unitCode: row.unit_code,
    workingDays: Number(row.working_days),
    reason: row.reason,
    status: row.status as ExtensionStatus,
    requestedBy: row.requested_by,
    decidedBy: row.decided_by,
    decisionNote: row.decision_note,
    createdAt: row.created_at,
    decidedAt: row.decided_at,
  };
}

export async function insertExtensionRequest(
  db: Db,
  r: { id: string; caseId: string; unitCode: string; workingDays: number; reason: string; requestedBy: string; at: string },
): Promise<void> {
  await db
    .insertInto('extension_requests')
    .values({
      id: r.id,
      case_id: r.caseId,
      unit_code: r.unitCode,
      working_days: r.workingDays,
      reason: r.reason,
      status: 'pending',
      requested_by: r.requestedBy,
      decided_by: null,
      decision_note: null,
      created_at: r.at,
      decided_at: null,
    })
    .execute();
}

export async function findExtensionRequest(db: Db, id: string): Promise<ExtensionRequest | null> {
  const row = await db.selectFrom('extension_requests').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? toExtension(row) : null;
}

export async function listExtensionRequests(db: Db, caseId: string, status?: ExtensionStatus): Promise<ExtensionRequest[]> {
  let q = db.selectFrom('extension_requests').selectAll().where('case_id', '=', caseId);
  if (status) q = q.where('status', '=', status);
  const rows = await q.orderBy('created_at').orderBy('id').execute();
  return rows.map(toExtension);
}

/** A unit's pending requests end without a decision (it replied, or was released: there is no deadline of its own left to move). */
export async function lapseExtensionRequests(db: Db, caseId: string, unitCode: string, d: { note: string; at: string }): Promise<number> {
  const result = await db
    .updateTable('extension_requests')
    .set({ status: 'lapsed', decision_note: d.note, decided_at: d.at })
    .where('case_id', '=', caseId)
    .where('unit_code', '=', unitCode)
    .where('status', '=', 'pending')
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** Decides a pending request; false when someone decided it first. */
export async function decideExtensionRequest(
  db: Db,
  id: string,
  d: { status: 'approved' | 'refused'; by: string; note: string | null; at: string },
): Promise<boolean> {
  const result = await db
    .updateTable('extension_requests')
    .set({ status: d.status, decided_by: d.by, decision_note: d.note, decided_at: d.at })
    .where('id', '=', id)
    .where('status', '=', 'pending')
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}
