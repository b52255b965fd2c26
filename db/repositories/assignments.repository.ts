import type { AssignmentRole } from '../../src/pipeline/route.js';
import type { AssignmentRow } from '../schema.js';
import type { Db } from './db-types.js';
import { insertRows } from '../insert-buffer.js';

export type AssignmentStatus = 'pending' | 'accepted' | 'replied' | 'returned' | 'released';

/**
 * The statuses in which a unit holds the case it was given: it may read the
 * case in full. A unit that returned it (退回) or that a dispatcher released
 * from it (a release, a re-route, a merge, a transfer) no longer needs the
 * reporter's words: it keeps only the record of its own part.
 */
export const HOLDING_STATUSES: readonly AssignmentStatus[] = ['pending', 'accepted', 'replied'];

/** Does the unit hold the case (an assignment in a holding status)? */
export function holdsCase(assignments: readonly Assignment[], unitCode: string | null): boolean {
  return unitCode !== null && assignments.some((a) => a.unitCode === unitCode && HOLDING_STATUSES.includes(a.status));
}

export interface Assignment {
  id: string;
  caseId: string;
  unitCode: string;
  role: AssignmentRole;
  status: AssignmentStatus;
  deadlines: { signBy: string | null; replyBy: string | null };
  createdAt: string;
  updatedAt: string;
  acceptedAt: string | null;
  acceptedBy: string | null;
  repliedAt: string | null;
  repliedBy: string | null;
  replyText: string | null;
  returnedAt: string | null;
  returnReason: string | null;
  releasedAt: string | null;
  signOverdueAt: string | null;
  replyOverdueAt: string | null;
  supervisedAt: string | null;
  round: number;
}

export function toAssignment(row: AssignmentRow): Assignment {
  return {
    id: row.id,
    caseId: row.case_id,
    unitCode: row.unit_code,
    role: row.role as AssignmentRole,
    status: row.status as AssignmentStatus,
    deadlines: { signBy: row.sign_deadline_at, replyBy: row.reply_deadline_at },
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    acceptedAt: row.accepted_at,
    acceptedBy: row.accepted_by,
    repliedAt: row.replied_at,
    repliedBy: row.replied_by,
    replyText: row.reply_text,
    returnedAt: row.returned_at,
    returnReason: row.return_reason,
    releasedAt: row.released_at,
    signOverdueAt: row.sign_overdue_at,
    replyOverdueAt: row.reply_overdue_at,
    supervisedAt: row.supervised_at,
    round: Number(row.round ?? 1),
  };
}

export interface NewAssignment {
  id: string;
  caseId: string;
  unitCode: string;
  role: AssignmentRole;
  signBy: string | null;
  replyBy: string | null;
  at: string;
  /** The handling round the assignment belongs to (1, or later after reopening). */
  round?: number;
}

export async function insertAssignments(db: Db, list: NewAssignment[]): Promise<void> {
  if (list.length === 0) return;
  await insertRows(
    db,
    'assignments',
    list.map((a) => ({
      id: a.id,
      case_id: a.caseId,
      unit_code: a.unitCode,
      role: a.role,
      status: 'pending',
      sign_deadline_at: a.signBy,
      reply_deadline_at: a.replyBy,
      created_at: a.at,
      updated_at: a.at,
      round: a.round ?? 1,
    })),
  );
}

const ROLE_ORDER: Record<AssignmentRole, number> = { lead: 0, co: 1, jurisdiction: 2 };

/** The latest assignment `which` picks (a unit's, the lead's; in the caller's shape) whose unit was not released from it. */
export function heldAssignmentOf<A extends { status: string }>(assignments: readonly A[], which: (a: A) => boolean): A | undefined {
  return assignments.filter((a) => which(a) && a.status !== 'released').at(-1);
}

/**
 * The assignment `which` picks of the case's current round — a reopened case gives the units it goes back to a new
 * one — unless its unit was released from it.
 */
export function currentAssignmentOf<A extends { round: number; status: string }>(assignments: readonly A[], which: (a: A) => boolean, round: number): A | undefined {
  return heldAssignmentOf(assignments, (a) => which(a) && a.round === round);
}

/**
 * The bureau leading a case now. A re-route releases the old lead and adds
 * the new one; a lead that returned the case stays on it until a dispatcher
 * routes it again. So: the lead still handling the case, else the one that
 * returned it (awaiting the dispatcher), never a released one.
 */
export function currentLead<A extends { role: string; status: string }>(assignments: readonly A[]): A | undefined {
  const leads = assignments.filter((a) => a.role === 'lead' && a.status !== 'released');
  return leads.find((a) => a.status !== 'returned') ?? leads.at(-1);
}

/**
 * What a unit did with an assignment, as the event log keeps it when the row
 * starts afresh (a reopening resets the lead's row, a re-route gives a unit
 * the case again in its old row): the statistics read it back from there.
 */
export function stintOf(a: Assignment) {
  return {
    unit: a.unitCode,
    role: a.role,
    round: a.round,
    status: a.status,
    signBy: a.deadlines.signBy,
    replyBy: a.deadlines.replyBy,
    acceptedAt: a.acceptedAt,
    repliedAt: a.repliedAt,
    returnedAt: a.returnedAt,
    releasedAt: a.releasedAt,
    signOverdueAt: a.signOverdueAt,
    replyOverdueAt: a.replyOverdueAt,
    supervisedAt: a.supervisedAt,
  };
}

/** Co-handling units still on the case (not released by a dispatcher). */
export function currentCoHandlers<A extends { role: string; status: string }>(assignments: readonly A[]): A[] {
  return assignments.filter((a) => a.role === 'co' && a.status !== 'released');
}

export async function listAssignments(db: Db, caseId: string): Promise<Assignment[]> {
  const rows = await db.selectFrom('assignments').selectAll().where('case_id', '=', caseId).execute();
  return rows.map(toAssignment).sort((a, b) => ROLE_ORDER[a.role] - ROLE_ORDER[b.role] || a.unitCode.localeCompare(b.unitCode));
}
