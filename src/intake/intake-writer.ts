import type { Kysely } from 'kysely';
import { insertAttachments, type Attachment } from '../../db/repositories/attachments.repository.js';
import { insertCases } from '../../db/repositories/cases.repository.js';
import { insertContacts, type ReporterContact } from '../../db/repositories/contacts.repository.js';
import { recordCorrection, type Correction } from '../../db/repositories/corrections.repository.js';
import { insertHotlineCall } from '../../db/repositories/hotline-calls.repository.js';
import { appendEvents, type NewEvent } from '../../db/repositories/events.repository.js';
import { insertIdempotencyKeys, type ScopedKey } from '../../db/repositories/idempotency.repository.js';
import { addToOutbox } from '../../db/repositories/outbox.repository.js';
import type { Trx } from '../../db/repositories/db-types.js';
import { createGroupCommit } from '../../db/group-commit.js';
import { bufferingInserts } from '../../db/insert-buffer.js';
import type { Database, NewCase, NewHotlineCall } from '../../db/schema.js';
import type { OutboxEntry } from '../../queues/jobs.js';

/** Everything one accepted report writes, prepared before the transaction. */
export interface PreparedReport {
  caseRow: NewCase;
  contact: ReporterContact | null;
  attachments: Attachment[];
  events: NewEvent[];
  outbox: OutboxEntry[];
  idempotency: { key: ScopedKey; requestHash: string } | null;
  at: Date;
  /** The HTTP request that brought the report, for its log line; not stored. */
  requestId?: string;
  /**
   * The hotline call the report came from, with the operator's corrections:
   * written in the same transaction. Plain data, so a report can be handed
   * to the writer thread.
   */
  hotlineCall?: HotlineCallRows;
}

export interface HotlineCallRows {
  row: NewHotlineCall;
  cases: Array<{ caseId: string; part: number }>;
  corrections: Correction[];
}

/** A report refused because the intake writer thread is down (stopped, being started again, or stopped with the service): a 503. */
export class IntakeWriterDown extends Error {
  override readonly name = 'IntakeWriterDown';
}

/**
 * Group commit: reports that arrive while a transaction is running are
 * written together in the next one, with one multi-row insert per table.
 * Each caller's promise resolves only after its own rows are committed; a
 * batch that fails is retried one report at a time, so one bad report (a
 * duplicate idempotency key, say) fails alone and never takes others with it.
 */
export interface IntakeWriter {
  write(report: PreparedReport): Promise<void>;
  /** Reports that commit together or not at all (the cases of one split hotline call). */
  writeAll(reports: PreparedReport[]): Promise<void>;
  /** Whether it takes reports now: false while a writer thread that stopped is being restarted (`/readyz`). Absent: always. */
  up?(): boolean;
}

/**
 * The rows of a batch of accepted reports, in one order: one multi-row insert
 * per table. Runs inside the caller's transaction (Node) or against a
 * recorder whose statements go to D1 in one atomic batch (Workers).
 */
export async function writeReports(trx: Trx, batch: PreparedReport[]): Promise<void> {
  await insertCases(trx, batch.map((r) => r.caseRow));
  await insertContacts(
    trx,
    batch.flatMap((r) => (r.contact ? [{ caseId: r.caseRow.id, ...r.contact }] : [])),
  );
  await insertAttachments(trx, batch.flatMap((r) => r.attachments));
  await appendEvents(trx, batch.flatMap((r) => r.events));
  // Outbox ids follow insertion order, so jobs are relayed in arrival order.
  for (const r of batch) await addToOutbox(trx, r.outbox, r.at);
  for (const r of batch) {
    if (!r.hotlineCall) continue;
    await insertHotlineCall(trx, r.hotlineCall.row, r.hotlineCall.cases);
    for (const c of r.hotlineCall.corrections) await recordCorrection(trx, c);
  }
  await insertIdempotencyKeys(
    trx,
    batch.flatMap((r) =>
      r.idempotency ? [{ ...r.idempotency, caseId: r.caseRow.id, at: r.caseRow.received_at }] : [],
    ),
  );
}

/** A batch of reports in one transaction of its own (Node: SQLite or PostgreSQL). */
export async function commitReports(db: Kysely<Database>, batch: PreparedReport[]): Promise<void> {
  // The outbox rows of the whole batch go in as one insert rather than one per report.
  await db.transaction().execute((trx) => bufferingInserts(trx, () => writeReports(trx, batch)));
}

export function createIntakeWriter(db: Kysely<Database>, opts: { maxBatch?: number } = {}): IntakeWriter {
  // An entry is one or several reports that commit together (the cases of a split call).
  const enqueue = createGroupCommit<PreparedReport[], void>(async (entries) => {
    await commitReports(db, entries.flat());
    return entries.map(() => undefined);
  }, opts.maxBatch ?? 200);

  return {
    write: (report) => enqueue([report]),
    writeAll: (reports) => (reports.length === 0 ? Promise.resolve() : enqueue(reports)),
  };
}
