import { findClassification } from '../../db/repositories/case-queries.repository.js';
import { latestCorrectionLabel, recordCorrection, type Correction } from '../../db/repositories/corrections.repository.js';
import type { Trx } from '../../db/repositories/db-types.js';
import { listEvents } from '../../db/repositories/events.repository.js';
import type { Principal } from '../auth/principal.js';
import type { District } from '../district/district.schema.js';
import type { Case } from '../domain/case.js';

/**
 * A case's type as people gave it, kept as labelled data for retraining, and the type a case handed to 12345
 * had before: what the dispatcher's actions (re-route, transfer, its undoing) and 12345's return of a transfer
 * change of it.
 */

/**
 * Records a person's type as labelled data when it differs from the
 * latest label the case has (the machine's, or a person's earlier one):
 * routing a case back to the machine's type after correcting it supersedes
 * the earlier correction, and training takes the latest label per case.
 */
export async function correctType(
  trx: Trx,
  c: Case,
  newType: string,
  principal: Principal,
  at: string,
  source: Correction['source'] = 'dispatcher',
): Promise<boolean> {
  const machine = (await findClassification(trx, c.id))?.type ?? null;
  const corrected = await latestCorrectionLabel(trx, c.id);
  if (newType === (corrected ?? machine)) return false;
  await recordCorrection(trx, { caseId: c.id, text: c.text, label: newType, predicted: machine, source, actorId: principal.userId, at });
  return true;
}

/** The unit that takes what is not environmental (the route marked `transfer`). */
export function transferUnit(district: District): { type: string | null; unit: string } {
  for (const [type, r] of Object.entries(district.routing)) if (r.transfer) return { type, unit: r.lead };
  return { type: null, unit: 'hotline12345' };
}

/**
 * The type a transferred case had before its transfer, as the transfer recorded it; for a transfer recorded before
 * that was kept, the classifier's type. Never the type that sends a case to 12345 — a case the classifier took for
 * one (in triage for its low confidence) is environmental after all once the transfer is undone or returned —, but
 * none then: the dispatcher picks one when routing it (the desk's form starts on the classifier's other choice).
 */
export async function typeBeforeTransfer(district: District, trx: Trx, c: Case): Promise<string | null> {
  const transfer = (await listEvents(trx, c.id)).filter((e) => e.kind === 'status' && e.toStatus === 'transferred').at(-1);
  const recorded = (transfer?.data as { typeBefore?: string | null } | null)?.typeBefore;
  const before = recorded !== undefined ? recorded : ((await findClassification(trx, c.id))?.type ?? null);
  return before !== null && before !== transferUnit(district).type ? before : null;
}
