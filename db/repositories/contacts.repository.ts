import type { Db } from './db-types.js';

export interface ReporterContact {
  name: string | null;
  phone: string | null;
  shareWithBureau: boolean;
}

/** Whether the bureaus may see the reporter's contact: only when the reporter agreed and did not ask to stay anonymous. */
export function sharedWithBureau(contact: ReporterContact | null, anonymous: boolean): boolean {
  return contact !== null && contact.shareWithBureau && !anonymous;
}

/** The reporter's name to mask wherever a bureau reads their words: none when they agreed to share it. */
export function namesHiddenFromBureau(contact: ReporterContact | null, anonymous: boolean): Array<string | null | undefined> {
  return sharedWithBureau(contact, anonymous) ? [] : [contact?.name];
}

export async function insertContact(db: Db, caseId: string, contact: ReporterContact): Promise<void> {
  await db
    .insertInto('case_contacts')
    .values({ case_id: caseId, name: contact.name, phone: contact.phone, share_with_bureau: contact.shareWithBureau ? 1 : 0 })
    .execute();
}

export async function findContact(db: Db, caseId: string): Promise<ReporterContact | null> {
  const row = await db.selectFrom('case_contacts').selectAll().where('case_id', '=', caseId).executeTakeFirst();
  return row ? { name: row.name, phone: row.phone, shareWithBureau: Number(row.share_with_bureau) === 1 } : null;
}

/**
 * The contacts of several cases at once (a list page, an export batch), by
 * case id, in one query: a page of rows costs one round trip, not one per row.
 */
export async function findContactsFor(db: Db, caseIds: readonly string[]): Promise<Map<string, ReporterContact>> {
  const out = new Map<string, ReporterContact>();
  if (caseIds.length === 0) return out;
  const rows = await db.selectFrom('case_contacts').selectAll().where('case_id', 'in', [...new Set(caseIds)]).execute();
  for (const row of rows) out.set(row.case_id, { name: row.name, phone: row.phone, shareWithBureau: Number(row.share_with_bureau) === 1 });
  return out;
}

export async function insertContacts(db: Db, list: Array<ReporterContact & { caseId: string }>): Promise<void> {
  if (list.length === 0) return;
  await db
    .insertInto('case_contacts')
    .values(list.map((c) => ({ case_id: c.caseId, name: c.name, phone: c.phone, share_with_bureau: c.shareWithBureau ? 1 : 0 })))
    .execute();
}
