import type { CaseEventRow, NewCaseEvent } from '../schema.js';
import type { Db } from './db-types.js';
import { parseJson } from './db-types.js';
import { insertRows } from '../insert-buffer.js';

export type ActorType = 'system' | 'reporter' | 'staff';

export interface CaseEvent {
  id: number;
  caseId: string;
  at: string;
  actor: { type: ActorType; id: string | null; role: string | null };
  kind: string;
  fromStatus: string | null;
  toStatus: string | null;
  note: string | null;
  data: Record<string, unknown> | null;
  public: boolean;
}

export function toCaseEvent(row: CaseEventRow): CaseEvent {
  return {
    id: Number(row.id),
    caseId: row.case_id,
    at: row.at,
    actor: { type: row.actor_type as ActorType, id: row.actor_id, role: row.actor_role },
    kind: row.kind,
    fromStatus: row.from_status,
    toStatus: row.to_status,
    note: row.note,
    data: parseJson<Record<string, unknown> | null>(row.data, null),
    public: Number(row.public) === 1,
  };
}

export interface NewEvent {
  caseId: string;
  at: string;
  actor?: { type: ActorType; id?: string | null; role?: string | null };
  kind: string;
  fromStatus?: string | null;
  toStatus?: string | null;
  note?: string | null;
  data?: Record<string, unknown> | null;
  public?: boolean;
}

/** Events are append-only: there is no update or delete for them. */
export async function appendEvents(db: Db, events: NewEvent[]): Promise<void> {
  if (events.length === 0) return;
  const rows: NewCaseEvent[] = events.map((e) => ({
    case_id: e.caseId,
    at: e.at,
    actor_type: e.actor?.type ?? 'system',
    actor_id: e.actor?.id ?? null,
    actor_role: e.actor?.role ?? null,
    kind: e.kind,
    from_status: e.fromStatus ?? null,
    to_status: e.toStatus ?? null,
    note: e.note ?? null,
    data: e.data ? JSON.stringify(e.data) : null,
    public: e.public ? 1 : 0,
  }));
  await insertRows(db, 'case_events', rows);
}

export async function listEvents(db: Db, caseId: string, opts: { publicOnly?: boolean } = {}): Promise<CaseEvent[]> {
  let q = db.selectFrom('case_events').selectAll().where('case_id', '=', caseId);
  if (opts.publicOnly) q = q.where('public', '=', 1);
  const rows = await q.orderBy('id').execute();
  return rows.map(toCaseEvent);
}

/** The id of the case's latest event (0 before any): where a page that shows the case stands in its history. */
export async function lastEventId(db: Db, caseId: string): Promise<number> {
  const row = await db.selectFrom('case_events').select((eb) => eb.fn.max('id').as('last')).where('case_id', '=', caseId).executeTakeFirst();
  return Number(row?.last ?? 0);
}

/** The kinds of the case's events after `afterId`, oldest first. */
export async function eventKindsAfter(db: Db, caseId: string, afterId: number): Promise<string[]> {
  const rows = await db.selectFrom('case_events').select('kind').where('case_id', '=', caseId).where('id', '>', afterId).orderBy('id').execute();
  return rows.map((r) => r.kind);
}

/** When the case last moved into `status`, or null if it never did. */
export async function enteredStatusAt(db: Db, caseId: string, status: string): Promise<string | null> {
  const row = await db.selectFrom('case_events').select('at').where('case_id', '=', caseId).where('to_status', '=', status).orderBy('id', 'desc').limit(1).executeTakeFirst();
  return row?.at ?? null;
}
