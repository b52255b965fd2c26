import type { CaseStatus } from '../../src/domain/case.js';
import type { HotlineCallRow, NewHotlineCall } from '../schema.js';
import { insertNow } from '../insert-buffer.js';
import { inChunks, type Db } from './db-types.js';

/** Hotline calls and the cases they became. The caller's number is protected: staff-only readers. */

export interface HotlineCall {
  id: string;
  hotline: string;
  callId: string;
  startedAt: string;
  callerNumber: string | null;
  operator: string | null;
  transcript: string;
  transcriptHash: string;
  summary: string | null;
  externalRef: string | null;
  anonymous: boolean;
  createdAt: string;
  createdBy: string | null;
}

export interface CallCase {
  id: string;
  trackingCode: string;
  status: CaseStatus;
  part: number;
}

export function toHotlineCall(row: HotlineCallRow): HotlineCall {
  return {
    id: row.id,
    hotline: row.hotline,
    callId: row.call_id,
    startedAt: row.started_at,
    callerNumber: row.caller_number,
    operator: row.operator,
    transcript: row.transcript,
    transcriptHash: row.transcript_hash,
    summary: row.summary,
    externalRef: row.external_ref,
    anonymous: Number(row.anonymous) === 1,
    createdAt: row.created_at,
    createdBy: row.created_by,
  };
}

export async function insertHotlineCall(db: Db, row: NewHotlineCall, cases: Array<{ caseId: string; part: number }>): Promise<void> {
  await db.insertInto('hotline_calls').values(row).execute();
  await insertNow(db, 'hotline_call_cases', cases.map((c) => ({ hotline_call_id: row.id, case_id: c.caseId, part: c.part })));
}

export async function findHotlineCall(db: Db, hotline: string, callId: string): Promise<HotlineCall | null> {
  const row = await db.selectFrom('hotline_calls').selectAll().where('hotline', '=', hotline).where('call_id', '=', callId).executeTakeFirst();
  return row ? toHotlineCall(row) : null;
}

/** Identity, transcript hash, start and caller of the calls among `callIds` (any hotline): an import looks up a batch at once. */
export async function findCallKeys(
  db: Db,
  callIds: readonly string[],
): Promise<Array<{ id: string; hotline: string; callId: string; transcriptHash: string; startedAt: string; callerNumber: string | null }>> {
  const rows = await inChunks(callIds, (ids) =>
    db.selectFrom('hotline_calls').select(['id', 'hotline', 'call_id', 'transcript_hash', 'started_at', 'caller_number']).where('call_id', 'in', ids).execute(),
  );
  return rows.map((r) => ({
    id: r.id,
    hotline: r.hotline,
    callId: r.call_id,
    transcriptHash: r.transcript_hash,
    startedAt: r.started_at,
    callerNumber: r.caller_number,
  }));
}

export async function listCallCases(db: Db, hotlineCallId: string): Promise<CallCase[]> {
  const rows = await db
    .selectFrom('hotline_call_cases')
    .innerJoin('cases', 'cases.id', 'hotline_call_cases.case_id')
    .select(['cases.id', 'cases.tracking_code', 'cases.status', 'hotline_call_cases.part'])
    .where('hotline_call_cases.hotline_call_id', '=', hotlineCallId)
    .orderBy('hotline_call_cases.part')
    .execute();
  return rows.map((r) => ({ id: r.id, trackingCode: r.tracking_code, status: r.status as CaseStatus, part: Number(r.part) }));
}

/** The call a case came from, with its part number, or null for a case from another channel. */
export async function findCallOfCase(db: Db, caseId: string): Promise<{ call: HotlineCall; part: number } | null> {
  const link = await db.selectFrom('hotline_call_cases').select(['hotline_call_id', 'part']).where('case_id', '=', caseId).executeTakeFirst();
  if (!link) return null;
  const row = await db.selectFrom('hotline_calls').selectAll().where('id', '=', link.hotline_call_id).executeTakeFirst();
  return row ? { call: toHotlineCall(row), part: Number(link.part) } : null;
}
