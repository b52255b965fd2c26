import { maskSelfNames } from '../../src/pipeline/extract.js';
import { insertNow } from '../insert-buffer.js';
import { inChunks, type Db } from './db-types.js';

export interface ReporterContact {
  name: string | null;
  phone: string | null;
  shareWithBureau: boolean;
}

/** Whether the bureaus may see the reporter's contact: only when the reporter agreed and did not ask to stay anonymous. */
export function sharedWithBureau(contact: ReporterContact | null, anonymous: boolean): boolean {
  return contact !== null && contact.shareWithBureau && !anonymous;
}

/** The words of a case in which a reporter may have named themself. */
export interface ReporterWords {
  text: string;
  address?: string | null;
}

/**
 * The reporter's names to mask in whatever a reader who may not know them
 * reads (the address, notes, replies, the extracted place): the name of the
 * contact fields — also written the other way round or without the space a
 * Telegram contact card puts between 阮 and 志明 — and the names the reporter
 * gave for themself in their words (我叫…, 姓名：…), which the masking rules
 * find there but not in a note that mentions the name alone. With them the
 * contact fields' phone number, which maskIdentityInText masks however it is
 * written, also where the words would make it a unit's (学校电话…) and a
 * landline without its area code.
 */
export function reporterNames(contact: (Pick<ReporterContact, 'name'> & { phone?: string | null }) | null | undefined, words: ReporterWords): string[] {
  const out = new Set<string>();
  const phone = contact?.phone?.trim();
  if (phone) out.add(phone);
  const name = contact?.name?.trim();
  if (name) {
    out.add(name);
    const parts = name.split(/\s+/);
    if (parts.length === 2 && parts.every((p) => /^\p{Script=Han}+$/u.test(p))) {
      out.add(parts.join(''));
      out.add(`${parts[1]}${parts[0]}`);
    }
  }
  for (const w of [words.text, words.address]) if (w) for (const n of maskSelfNames(w).names) out.add(n);
  return [...out];
}

/** The reporter's names to mask wherever a bureau reads their words (`reporterNames`): none when they agreed to share them. */
export function namesHiddenFromBureau(contact: ReporterContact | null, c: ReporterWords & { anonymous: boolean }): string[] {
  return sharedWithBureau(contact, c.anonymous) ? [] : reporterNames(contact, c);
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
 * case id, a query per LIST_PER_STATEMENT cases: a page of rows costs a round
 * trip or two, not one per row.
 */
export async function findContactsFor(db: Db, caseIds: readonly string[]): Promise<Map<string, ReporterContact>> {
  const out = new Map<string, ReporterContact>();
  if (caseIds.length === 0) return out;
  const rows = await inChunks(caseIds, (ids) => db.selectFrom('case_contacts').selectAll().where('case_id', 'in', ids).execute());
  for (const row of rows) out.set(row.case_id, { name: row.name, phone: row.phone, shareWithBureau: Number(row.share_with_bureau) === 1 });
  return out;
}

export async function insertContacts(db: Db, list: Array<ReporterContact & { caseId: string }>): Promise<void> {
  await insertNow(
    db,
    'case_contacts',
    list.map((c) => ({ case_id: c.caseId, name: c.name, phone: c.phone, share_with_bureau: c.shareWithBureau ? 1 : 0 })),
  );
}
