import { newId } from '../../src/domain/ids.js';
import type { Db } from './db-types.js';

export interface Correction {
  caseId: string | null;
  text: string;
  label: string;
  predicted: string | null;
  source: 'dispatcher' | 'operator';
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

export async function listCorrections(db: Db): Promise<Array<{ text: string; label: string; source: string; createdAt: string }>> {
  const rows = await db.selectFrom('classifier_corrections').select(['text', 'label', 'source', 'created_at']).orderBy('created_at').execute();
  return rows.map((r) => ({ text: r.text, label: r.label, source: r.source, createdAt: r.created_at }));
}
