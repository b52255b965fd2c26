import { sql, type Kysely } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.

/**
 * An extension request ends undecided when a dispatcher releases its unit
 * from the case (as when the unit replies): the deadline it asked to move is
 * no longer the unit's. Requests left waiting by releases made before that
 * rule lapse now, at the release, so they leave the dispatcher's desk.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const released = (column: string) =>
    sql`(select ${sql.ref(`assignments.${column}`)} from assignments where assignments.case_id = extension_requests.case_id and assignments.unit_code = extension_requests.unit_code and assignments.status = 'released')`;
  await db
    .updateTable('extension_requests')
    .set({ status: 'lapsed', decision_note: 'released', decided_at: released('released_at') })
    .where('status', '=', 'pending')
    .where(sql<boolean>`exists ${released('id')}`)
    .execute();
}

export async function down(): Promise<void> {
  // The requests stay lapsed: they were waiting for a decision nobody could make.
}
