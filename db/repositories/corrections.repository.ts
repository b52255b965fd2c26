import { newId } from '../../src/domain/ids.js';
import type { Db } from './db-types.js';

export interface Correction {
  caseId: string | null;
  text: string;
  label: string;
  predicted: string | null;
  /** Who taught it: a dispatcher, a hotline operator, or the unit a case was handed to returning it (the type it had before). */
  source: 'dispatcher' | 'operator' | 'transfer_returned';
  actorId: string | null;
  at: string;
}

/** A person's correction of the machine's type: labelled data for the next training run. */
export async function recordCorrection(db: Db, c: Correction): Promise<void> {
  await db
    .insertInto('classifier_corrections')
    .values({
      id: newId(),
      case_id: c.caseId,
      text: c.text,
      label: c.label,
      predicted: c.predicted,
      source: c.source,
      actor_id: c.actorId,
      created_at: c.at,
    })
    .execute();
}

/**
 * The labelled data for training: for a case corrected more than once (re-routed
 * to one type, then another) only its latest label counts, so the same text is
 * never taught as two types.
 */
export async function listCorrections(db: Db): Promise<Array<{ text: string; label: string; source: string; createdAt: string }>> {
  const rows = await db
    .selectFrom('classifier_corrections')
    .select(['case_id', 'text', 'label', 'source', 'created_at'])
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  const latest = new Map<string, (typeof rows)[number]>();
  rows.forEach((r, i) => latest.set(r.case_id ?? `no-case-${i}`, r));
  return [...latest.values()].map((r) => ({ text: r.text, label: r.label, source: r.source, createdAt: r.created_at }));
}

/** The latest label a person gave the case, if any. */
export async function latestCorrectionLabel(db: Db, caseId: string): Promise<string | null> {
  const row = await db
    .selectFrom('classifier_corrections')
    .select('label')
    .where('case_id', '=', caseId)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .executeTakeFirst();
  return row?.label ?? null;
}
