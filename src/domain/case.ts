import { compactCode } from './text.js';

/**
 * The case lifecycle (12345 practice: 受理 → 派单 → 签收 → 办理 → 答复 → 回访 → 办结)
 * and the one table of allowed status transitions.
 */

export const CASE_STATUSES = [
  'received',
  'triage',
  'dispatched',
  'accepted',
  'replied',
  'closed',
  'returned',
  'transferred',
  'merged',
  'reopened',
] as const;

export type CaseStatus = (typeof CASE_STATUSES)[number];

export const TRANSITIONS: Readonly<Record<CaseStatus, readonly CaseStatus[]>> = {
  received: ['dispatched', 'triage', 'transferred', 'merged'],
  triage: ['dispatched', 'transferred', 'merged', 'closed'],
  dispatched: ['accepted', 'returned', 'triage', 'dispatched', 'transferred', 'merged', 'replied'],
  accepted: ['replied', 'returned', 'triage', 'dispatched', 'transferred', 'merged'],
  returned: ['triage', 'dispatched', 'transferred', 'merged'],
  replied: ['closed', 'reopened'],
  reopened: ['accepted', 'replied', 'triage', 'dispatched', 'transferred'],
  transferred: ['closed', 'triage'],
  merged: ['triage'],
  closed: [],
};

/**
 * The public note of a merge, on the report merged: it goes on under its own
 * tracking code. The note staff read names the other case; its tracking code
 * is that case's reporter's key to its page and to rating its answer, so the
 * public never reads it.
 */
export const MERGED_PUBLIC_NOTE = '已与反映同一问题的案件合并办理，请继续以本查询码查询进展';

/**
 * Cases under handling: their units can act on them and their deadlines run
 * (reminders, overdue marks, 督办). A case in triage waits for a dispatcher:
 * no unit can act on it, and nothing of it falls due meanwhile.
 */
export const WORKING: readonly CaseStatus[] = ['dispatched', 'accepted', 'reopened'];

export function canTransition(from: CaseStatus, to: CaseStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

export function isCaseStatus(value: string): value is CaseStatus {
  return (CASE_STATUSES as readonly string[]).includes(value);
}

/**
 * The reference staff and bureaus give a case (工单号): the random last group
 * of its UUIDv7 id, in three groups of four (`3F9A-1C2B-7E4D`). Bureaus read
 * this and never the tracking code, which is the reporter's key to the
 * tracking page — and to rating the bureau's own answer.
 */
export function caseReference(id: string): string {
  const tail = id.slice(id.lastIndexOf('-') + 1).toUpperCase();
  return (tail.match(/.{1,4}/g) ?? [tail]).join('-');
}

/**
 * The case id a typed reference can stand for: the tail of the id, lower case.
 * Taken as people type or copy it, like a tracking code: any case, with or
 * without spaces or dashes (any dash punctuation), in full-width characters
 * (a Chinese input method), or as the line a bureau copies from its group post
 * or inbox (`工单号：3F9A-1C2B-7E4D`, `Case ref: …`).
 */
export function referenceTail(input: string): string | null {
  const text = input.normalize('NFKC').trim();
  const bare = /^(?:工单号|工单编号|case\s*ref(?:erence)?)\s*[:：]?\s*(.+)$/iu.exec(text)?.[1] ?? text;
  const tail = compactCode(bare).toLowerCase();
  return /^[0-9a-f]{12}$/.test(tail) ? tail : null;
}

export type Channel = 'web' | 'api' | 'telegram' | 'hotline12345' | 'hotline12369';

export interface Deadlines {
  signBy: string | null;
  replyBy: string | null;
  /** The reporter may rate the reply until then. */
  rateBy: string | null;
}

export interface Case {
  id: string;
  trackingCode: string;
  channel: Channel;
  text: string;
  address: string | null;
  location: { lat: number; lng: number } | null;
  occurredAt: string | null;
  status: CaseStatus;
  typeCode: string | null;
  confidence: number | null;
  urgent: boolean;
  anonymous: boolean;
  jurisdictionCode: string | null;
  placeSource: string | null;
  flags: string[];
  triageReason: string | null;
  receivedAt: string;
  dispatchedAt: string | null;
  deadlines: Deadlines;
  updatedAt: string;
  version: number;
  repliedAt: string | null;
  closedAt: string | null;
  closeReason: string | null;
  mergedInto: string | null;
  /** 1 on the first handling, +1 on each reopening (重办). */
  round: number;
  overdue: boolean;
  supervisedAt: string | null;
  extended: boolean;
}
