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
  transferred: ['closed'],
  merged: [],
  closed: [],
};

export function canTransition(from: CaseStatus, to: CaseStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

export function isCaseStatus(value: string): value is CaseStatus {
  return (CASE_STATUSES as readonly string[]).includes(value);
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
