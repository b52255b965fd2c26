import type { Kysely } from 'kysely';
import { currentAssignmentOf, currentLead, heldAssignmentOf, holdsCase, listAssignments, type Assignment } from '../../db/repositories/assignments.repository.js';
import { listAttachments, type StoredAttachment } from '../../db/repositories/attachments.repository.js';
import { findClassification, listExtensionRequests, type CaseListRow, type ExtensionRequest } from '../../db/repositories/case-queries.repository.js';
import { caseHandledIn, findCase } from '../../db/repositories/cases.repository.js';
import { findContact, findContactsFor, namesHiddenFromBureau, sharedWithBureau, type ReporterContact } from '../../db/repositories/contacts.repository.js';
import { findCallOfCase, listCallCases } from '../../db/repositories/hotline-calls.repository.js';
import { listDeliveries, type Delivery } from '../../db/repositories/deliveries.repository.js';
import { listEvents, type CaseEvent } from '../../db/repositories/events.repository.js';
import { anonymousReportMergedInto, listMergedReports, reporterNamesWithMerged, reporterNamesWithMergedFor } from '../../db/repositories/notifications.repository.js';
import type { Database } from '../../db/schema.js';
import { requireCaseAccess, type Principal } from '../auth/principal.js';
import { caseReference, type Case } from '../domain/case.js';
import { type District, typeName, unitName } from '../district/district.schema.js';
import { AppError } from '../errors.js';
import type { Classification } from '../pipeline/classifier.js';
import { maskIdentityInText } from '../pipeline/extract.js';
import { unitDue, unitLate } from './bureau.js';
import { isServiceWords } from './service-words.js';

/**
 * What staff see of a case, by role. Bureau staff see only cases assigned to
 * their unit (anything else is 404, so existence does not leak), never the
 * reporter's name or phone unless the reporter agreed and is not anonymous,
 * and phone numbers in free text masked. Operators, dispatchers and admins
 * see every case and the reporter's contact.
 */

export type UnitRef = { code: string; name: string };

function unitRef(district: District, code: string): UnitRef {
  return { code, name: unitName(district, code) };
}

/**
 * How much of a case the principal reads: `full`, or — for a bureau whose unit
 * no longer holds the case (it returned it, or a dispatcher released it from
 * the case or re-routed the case away from it) — `withdrawn`: only the record
 * of its own part and the notice that ended it; not the reporter's words,
 * place, photos, nor what happened on the case afterwards. Throws 404 for a
 * bureau that never had the case (and 403 for a role that sees no cases).
 */
export type CaseAccess = 'full' | 'withdrawn';

export function caseAccess(principal: Principal, assignments: readonly Assignment[]): CaseAccess {
  requireCaseAccess(principal, assignments.map((a) => a.unitCode));
  if (!isBureau(principal)) return 'full';
  return holdsCase(assignments, principal.unitCode) ? 'full' : 'withdrawn';
}

/** May the principal read this case in full (its text, photos, place)? Throws 404 unless so. */
export function requireReadAccess(principal: Principal, assignments: readonly Assignment[]): void {
  if (caseAccess(principal, assignments) !== 'full') throw new AppError('not_found', 'no such case');
}

export function isBureau(principal: Principal): boolean {
  return principal.role === 'bureau';
}

/**
 * The tracking code as the principal may read it: never for bureau staff.
 * With the code anyone can rate the case, so a bureau that read it could rate
 * its own answer; bureaus name a case by its reference (`caseReference`).
 */
export function trackingCodeFor(principal: Principal, code: string): string | null {
  return isBureau(principal) ? null : code;
}

/** A case as a link target of staff views: id, reference, and the tracking code where the principal may read it. */
function caseLink(principal: Principal, c: Pick<Case, 'id' | 'trackingCode'>) {
  return { id: c.id, trackingCode: trackingCodeFor(principal, c.trackingCode), reference: caseReference(c.id) };
}

/**
 * An event's data as the principal may read it: for bureau staff, a merge's
 * tracking codes (`merged_in` names the duplicate's) become the cases' references.
 */
function codesAsReferences<T>(principal: Principal, value: T): T {
  if (!isBureau(principal) || !value || typeof value !== 'object' || Array.isArray(value)) return value;
  const { intoTrackingCode, fromTrackingCode, ...rest } = value as Record<string, unknown>;
  const d = value as { into?: unknown; from?: unknown };
  return {
    ...rest,
    ...(intoTrackingCode !== undefined && typeof d.into === 'string' ? { intoReference: caseReference(d.into) } : {}),
    ...(fromTrackingCode !== undefined && typeof d.from === 'string' ? { fromReference: caseReference(d.from) } : {}),
  } as T;
}

/**
 * An event's note as the principal may read it: for bureau staff, the
 * tracking codes a merge's note names (the data's `intoTrackingCode` or
 * `fromTrackingCode`) become the cases' references, as in its data. A report
 * whose merge was undone comes to a bureau with that note in its history.
 */
function noteCodesAsReferences(principal: Principal, note: string, data: unknown): string {
  if (!isBureau(principal) || !data || typeof data !== 'object') return note;
  const d = data as Record<string, unknown>;
  let out = note;
  for (const [codeKey, idKey] of [
    ['intoTrackingCode', 'into'],
    ['fromTrackingCode', 'from'],
  ] as const) {
    const code = d[codeKey];
    const id = d[idKey];
    if (typeof code === 'string' && code !== '' && typeof id === 'string') out = out.replaceAll(code, caseReference(id));
  }
  return out;
}

/**
 * Names to mask in a reporter's words: the reporter's own (`reporterNames`: the contact fields' and those they gave in
 * their words), and whether the reporter asked not to be named, whose names show without their surname; with
 * `anonymousMerged`, so does every name in what staff write on the case, which may name the reporter of a report merged
 * into it who asked so.
 */
export interface HiddenNames {
  names: ReadonlyArray<string | null | undefined>;
  anonymous: boolean;
  anonymousMerged?: boolean;
}

export const NOTHING_HIDDEN: HiddenNames = { names: [], anonymous: false };

/** `text` with phone numbers and the `hidden` names masked as a bureau reads them (`byStaff`: see textFor). */
export function maskForBureau(text: string, hidden: HiddenNames, byStaff = false): string {
  const anonymous = hidden.anonymous || (byStaff && (hidden.anonymousMerged ?? false));
  return maskIdentityInText(text, hidden.names, { officials: byStaff, anonymous });
}

/**
 * Masks phone numbers and self-given names (and `names`) for bureau readers;
 * everyone else reads the text as written. `byStaff`: words staff wrote (a
 * reply, a note, a reason), where an official named by surname and title
 * (联系人：李科长) is the one who answers, not the reporter.
 */
export function textFor(principal: Principal, text: string, names: HiddenNames = NOTHING_HIDDEN, byStaff = false): string {
  return isBureau(principal) ? maskForBureau(text, names, byStaff) : text;
}

/**
 * Masks, for a bureau reader, every string in an event's data (`byStaff`: data
 * staff wrote, as `textFor`'s). Strings one by
 * one, never the data's JSON text as a whole: a number is no phone or ID
 * number (a confidence printed as 0.254826880320606 holds 15 digits in a
 * row), and masking part of it would also break the JSON.
 */
function maskDeep<T>(principal: Principal, value: T, names: HiddenNames = NOTHING_HIDDEN, byStaff = false): T {
  if (!isBureau(principal)) return value;
  const mask = (v: unknown): unknown => {
    if (typeof v === 'string') return maskForBureau(v, names, byStaff);
    if (Array.isArray(v)) return v.map(mask);
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, mask(x)]));
    return v;
  };
  return mask(value) as T;
}

/**
 * For a page of cases, the reporter names each case's text must hide from
 * this principal, by case id: one query for the whole page, and none at all
 * for staff who may read the reporter's contact anyway.
 */
export async function hiddenNamesFor(
  db: Kysely<Database>,
  principal: Principal,
  cases: ReadonlyArray<Pick<Case, 'id' | 'anonymous' | 'text' | 'address' | 'status'>>,
): Promise<Map<string, HiddenNames>> {
  const out = new Map<string, HiddenNames>();
  if (!isBureau(principal) || cases.length === 0) return out;
  const contacts = await findContactsFor(db, cases.map((c) => c.id));
  // As the case page (hiddenFromBureau): the names staff wrote as a reporter's, and those of the reports merged in, too.
  const others = await reporterNamesWithMergedFor(
    db,
    cases.filter((c) => c.status !== 'merged').map((c) => ({ id: c.id, text: c.text, address: c.address, contact: contacts.get(c.id) ?? null })),
  );
  for (const c of cases) out.set(c.id, { names: [...namesHiddenFromBureau(contacts.get(c.id) ?? null, c), ...(others.get(c.id) ?? [])], anonymous: c.anonymous });
  return out;
}

/** The first `max` characters of what the principal may read: masked first, then cut, so no phone number or name is cut past its rule. */
export function excerptFor(principal: Principal, text: string, names: HiddenNames, max: number): string {
  return [...textFor(principal, text, names)].slice(0, max).join('');
}

/**
 * The classifier's evidence as a bureau may read it, masked like the text. A
 * phrase can be a character or two of a name the text masks (the trained model
 * reads character n-grams: 建 of 陈建国): a phrase the reporter's words hold
 * but their masked text nowhere shows is masked whole.
 */
function evidenceFor<E extends { phrase: string }>(principal: Principal, evidence: readonly E[], text: string, maskedText: string, names: HiddenNames): E[] {
  if (!isBureau(principal)) return [...evidence];
  return evidence.map((e) => {
    const maskedAway = text.includes(e.phrase) && !maskedText.includes(e.phrase);
    return { ...e, phrase: maskedAway ? '*'.repeat([...e.phrase].length) : textFor(principal, e.phrase, names) };
  });
}

/**
 * The type as staff see it; the classifier's evidence is the reporter's words,
 * masked for a bureau like the text (`shownText`: the case text as the
 * principal reads it, `textFor`).
 */
export function typeView(district: District, principal: Principal, c: Case, classification: Classification | null, shownText: string, names: HiddenNames = NOTHING_HIDDEN) {
  if (!c.typeCode && !classification) return null;
  const machine = classification?.type ?? null;
  return {
    code: c.typeCode,
    name: c.typeCode ? typeName(district, c.typeCode) : null,
    /** The machine's confidence in its own choice (`classifiedAs`). */
    confidence: classification ? classification.confidence : c.confidence,
    evidence: evidenceFor(principal, classification?.evidence ?? [], c.text, shownText, names).map((e) => ({ phrase: e.phrase, weight: e.weight, source: e.source })),
    runnerUp: classification?.runnerUp ?? null,
    classifiedAs: machine,
  };
}

/** One unit's assignment. Its reply is a bureau's words about the reporter (已联系举报人…): masked for a bureau like the text. */
/**
 * A delivery of the case to a unit. A bureau reads the error of its own deliveries only: another unit's may name
 * that unit's server (a redirect's address, its host), which is not for other bureaus to read.
 */
function deliveryView(district: District, principal: Principal, d: Delivery) {
  const lastError = isBureau(principal) && d.unitCode !== principal.unitCode ? null : d.lastError;
  return { unit: unitRef(district, d.unitCode), channel: d.channel, status: d.status, attempts: d.attempts, deliveredAt: d.deliveredAt, lastError };
}

/** The events that record a channel's failure, with the error its server or Telegram gave. */
const FAILURE_EVENTS: ReadonlySet<string> = new Set(['delivery_failed', 'notification_failed']);

/**
 * A failure event's data as the principal may read it: a bureau reads the error of its own unit's deliveries and
 * notices only; another unit's may name that unit's server (a redirect's address, its host), as its delivery's
 * `lastError` does (deliveryView), and a reporter's notice is not the bureau's business either.
 */
function failureFor<T>(principal: Principal, kind: string, data: T): T {
  if (!isBureau(principal) || !FAILURE_EVENTS.has(kind) || !data || typeof data !== 'object' || Array.isArray(data)) return data;
  const d = data as Record<string, unknown>;
  const unit = typeof d.unit === 'string' ? d.unit : typeof d.audience === 'string' && d.audience.startsWith('unit:') ? d.audience.slice('unit:'.length) : null;
  if (unit === principal.unitCode || !('error' in d)) return data;
  const { error: _error, ...rest } = d;
  return rest as T;
}

/** A pending extension request, its reason masked for bureau readers like the reporter's words. */
function extensionView(district: District, principal: Principal, x: ExtensionRequest, names: HiddenNames) {
  return { id: x.id, unit: unitRef(district, x.unitCode), workingDays: x.workingDays, reason: textFor(principal, x.reason, names, true), status: x.status, requestedAt: x.createdAt };
}

function assignmentView(district: District, principal: Principal, a: Assignment, names: HiddenNames) {
  return {
    bureau: unitRef(district, a.unitCode),
    role: a.role,
    status: a.status,
    round: a.round,
    deadlines: { signBy: a.deadlines.signBy, replyBy: a.deadlines.replyBy },
    acceptedAt: a.acceptedAt,
    repliedAt: a.repliedAt,
    reply: a.replyText === null ? null : textFor(principal, a.replyText, names, true),
    returnedAt: a.returnedAt,
    returnReason: a.returnReason,
    releasedAt: a.releasedAt,
    overdue: { sign: a.signOverdueAt, reply: a.replyOverdueAt },
    supervisedAt: a.supervisedAt,
  };
}

/** A bureau's assignment of the case's current round (`currentAssignmentOf`); none for other roles. */
export function ownCurrentAssignment(principal: Principal, c: Pick<Case, 'round'>, assignments: readonly Assignment[]): Assignment | undefined {
  return isBureau(principal) ? currentAssignmentOf(assignments, (a) => a.unitCode === principal.unitCode, c.round) : undefined;
}

/**
 * When the case was supervised (督办) as the principal reads it: a bureau or office reads its own assignment's
 * supervision only — a co-handler whose part was not supervised is not told 督办 because the lead was —, staff the
 * case's mark.
 */
function supervisedAtFor(principal: Principal, c: Pick<Case, 'round' | 'supervisedAt'>, assignments: readonly Assignment[]): string | null {
  return isBureau(principal) ? (ownCurrentAssignment(principal, c, assignments)?.supervisedAt ?? null) : c.supervisedAt;
}

/**
 * One line of a case list. A bureau also sees its own assignment on the case:
 * the one of the current round (a reopened case gives the units it goes back
 * to a new one), else — for a unit that answered before the case was reopened
 * to the lead alone — its latest it was not released from, as the case page
 * shows it; with what the unit itself owes (`unitDue`, `unitLate`, as of
 * `now`), never the lead's lateness.
 * `names`: the reporter names to hide from this principal (`hiddenNamesFor`).
 */
export function caseSummary(district: District, principal: Principal, row: CaseListRow, assignments: readonly Assignment[], now: Date, names: HiddenNames = NOTHING_HIDDEN) {
  const c = row.case;
  const lead = currentLead(assignments);
  const current = ownCurrentAssignment(principal, c, assignments);
  const mine = isBureau(principal) ? (current ?? heldAssignmentOf(assignments, (a) => a.unitCode === principal.unitCode)) : undefined;
  return {
    ...caseLink(principal, c),
    status: c.status,
    type: c.typeCode ? unitLike(district, c.typeCode) : null,
    excerpt: excerptFor(principal, c.text, names, 80),
    urgent: c.urgent,
    overdue: c.overdue,
    supervised: supervisedAtFor(principal, c, assignments) !== null,
    extended: c.extended,
    receivedAt: c.receivedAt,
    dispatchedAt: c.dispatchedAt,
    deadlines: c.deadlines,
    lead: lead ? unitRef(district, lead.unitCode) : null,
    jurisdiction: c.jurisdictionCode ? unitRef(district, c.jurisdictionCode) : null,
    myAssignment: mine
      ? {
          role: mine.role,
          status: mine.status,
          deadlines: mine.deadlines,
          overdue: unitLate(c.status, current, now.getTime()),
          due: unitDue(c.status, current),
        }
      : null,
  };
}

function unitLike(district: District, typeCode: string): UnitRef {
  return { code: typeCode, name: typeName(district, typeCode) };
}

/** An event's data with its classifier evidence (the `classified` event's) as the principal may read it. */
function withEvidenceFor<T>(principal: Principal, data: T, text: string, shownText: string, names: HiddenNames): T {
  if (!isBureau(principal) || !data || typeof data !== 'object' || !Array.isArray((data as { evidence?: unknown }).evidence)) return data;
  const evidence = (data as unknown as { evidence: Array<{ phrase: string }> }).evidence;
  return { ...data, evidence: evidenceFor(principal, evidence, text, shownText, names) };
}

/** The full staff view of one case, or 404 when the principal may not see it. */
export async function buildCaseView(deps: { db: Kysely<Database>; district: District }, principal: Principal, caseId: string) {
  return (await buildVersionedCaseView(deps, principal, caseId)).view;
}

/**
 * The staff view with the case's version it was drawn from (the API's ETag). The case row is read first and the
 * rest after it: the view is never older than the version, so a client acting on it with that version as If-Match
 * never acts on a change it was not shown.
 */
export async function buildVersionedCaseView(deps: { db: Kysely<Database>; district: District }, principal: Principal, caseId: string) {
  const c = await findCase(deps.db, caseId);
  if (!c) throw new AppError('not_found', 'no such case');
  const view = await viewOf(deps, principal, c);
  // A withdrawn unit reads the case a merge took it into only while it holds that one: its being released from it, or
  // given it, changes the view but not this case's version, so the view's tag says which case it names.
  const shows = view.access === 'withdrawn' && view.mergedInto ? view.mergedInto.id : undefined;
  return { view, version: c.version, shows };
}

async function viewOf(deps: { db: Kysely<Database>; district: District }, principal: Principal, c: Case) {
  const { db, district } = deps;
  const caseId = c.id;
  const assignments = await listAssignments(db, caseId);
  if (caseAccess(principal, assignments) === 'withdrawn') return withdrawnCaseView(deps, principal, c, assignments);
  const [classification, contact, photos, deliveries, events, extensions, merged] = await Promise.all([
    findClassification(db, caseId),
    findContact(db, caseId),
    listAttachments(db, caseId),
    listDeliveries(db, caseId),
    listEvents(db, caseId),
    listExtensionRequests(db, caseId, 'pending'),
    listMergedReports(db, caseId),
  ]);
  const contactVisible = !isBureau(principal) || sharedWithBureau(contact, c.anonymous);
  // A name the reporter gave and did not agree to share is masked wherever their words mention it, and so are the
  // names of the reporters of reports merged into the case, which a note or a reply on it may mention.
  const hidden = isBureau(principal) ? await hiddenFromBureau(db, contact, c) : NOTHING_HIDDEN;
  const mergedInto = c.mergedInto ? await findCase(db, c.mergedInto) : null;
  const hotline = isBureau(principal) ? null : await hotlineCallView(db, caseId);
  // Masked once: the text, the type's evidence and the classified event's evidence all read it.
  const shownText = textFor(principal, c.text, hidden);
  return {
    ...caseLink(principal, c),
    access: 'full' as CaseAccess,
    channel: c.channel,
    status: c.status,
    round: c.round,
    text: shownText as string | null,
    address: c.address === null ? null : textFor(principal, c.address, hidden),
    location: c.location,
    occurredAt: c.occurredAt,
    jurisdiction: c.jurisdictionCode ? unitRef(district, c.jurisdictionCode) : null,
    placeSource: c.placeSource,
    flags: c.flags,
    triageReason: c.triageReason,
    type: typeView(district, principal, c, classification, shownText, hidden),
    urgent: c.urgent,
    anonymous: c.anonymous,
    overdue: c.overdue,
    supervisedAt: supervisedAtFor(principal, c, assignments),
    extended: c.extended,
    receivedAt: c.receivedAt,
    dispatchedAt: c.dispatchedAt,
    repliedAt: c.repliedAt,
    closedAt: c.closedAt,
    closeReason: c.closeReason,
    mergedInto: mergedInto ? caseLink(principal, mergedInto) : null,
    deadlines: c.deadlines,
    reporter: contactVisible && contact && (contact.name !== null || contact.phone !== null) ? { name: contact.name, phone: contact.phone } : null,
    photos: photos.filter((p) => p.kind === 'photo').map((p) => ({ id: p.id, mime: p.mime, size: p.size })),
    /**
     * The reports merged into the case (duplicates of it): their words, as the case's own for this reader (for a
     * bureau, phones and reporters' names masked), and their photos, served under this case like its own.
     */
    mergedReports: merged.map(({ report, photos: files }) => {
      // A duplicate's reporter who asked not to be named keeps no surname in its words, whatever the case's did.
      const theirs = report.anonymous ? { ...hidden, anonymous: true } : hidden;
      return {
        ...caseLink(principal, report),
        channel: report.channel,
        receivedAt: report.receivedAt,
        text: textFor(principal, report.text, theirs),
        address: report.address === null ? null : textFor(principal, report.address, theirs),
        photos: files.map((p) => ({ id: p.id, mime: p.mime, size: p.size })),
      };
    }),
    /** Files bureaus attached to their replies (the reply event names them); served like photos. */
    // The name a clerk gave a file may name the reporter: masked for a bureau as their words are.
    replyAttachments: photos
      .filter((p) => p.kind !== 'photo')
      .map((p) => ({ id: p.id, mime: p.mime, size: p.size, name: p.originalName === null ? null : textFor(principal, p.originalName, hidden) })),
    assignments: assignments.map((a) => assignmentView(district, principal, a, hidden)),
    deliveries: deliveries.map((d) => deliveryView(district, principal, d)),
    events: events.map((e) => ({
      id: e.id,
      at: e.at,
      kind: e.kind,
      actor: { type: e.actor.type, id: e.actor.id, role: e.actor.role },
      fromStatus: e.fromStatus,
      toStatus: e.toStatus,
      note: e.note === null ? null : textFor(principal, noteCodesAsReferences(principal, e.note, e.data), hidden, true),
      // What staff wrote in it (a 督办 note, a co-handler's reply, a reason) keeps an official named by title, as in notes.
      data: maskDeep(principal, codesAsReferences(principal, failureFor(principal, e.kind, withEvidenceFor(principal, e.data, c.text, shownText, hidden))), hidden, e.actor.type === 'staff'),
      public: e.public,
    })),
    /** The call the case came from, with its full transcript: operators, dispatchers and admins only (bureaus read the complaint text). */
    hotline,
    extensionRequests: extensions.map((x) => extensionView(district, principal, x, hidden)),
  };
}

/** The events of a case that are the unit's own record: what it did, what was asked of it or decided about it. */
function isOwnEvent(e: CaseEvent, unit: string): boolean {
  const data = (e.data ?? {}) as { unit?: unknown; units?: unknown };
  return data.unit === unit || (Array.isArray(data.units) && data.units.includes(unit));
}

/** An event that took the case from the unit (a re-route, a merge, a transfer, a new local office): its notice. */
function releasedUnitBy(e: CaseEvent, unit: string): boolean {
  const released = (e.data as { released?: unknown } | null)?.released;
  return Array.isArray(released) && released.includes(unit);
}

/**
 * The reporter names a bureau reads masked on a case: its own reporter's (unless shared), those staff wrote as a
 * reporter's, and those of the reports merged into it — on its case page, in its assignment's webhook and its group post.
 */
export async function hiddenFromBureau(db: Kysely<Database>, contact: ReporterContact | null, c: Case): Promise<HiddenNames> {
  const [merged, anonymousMerged] =
    c.status === 'merged' ? [[], false] : await Promise.all([reporterNamesWithMerged(db, c.id, { own: false }), anonymousReportMergedInto(db, c.id)]);
  return { names: [...namesHiddenFromBureau(contact, c), ...merged], anonymous: c.anonymous, anonymousMerged };
}

/**
 * What a unit that no longer holds the case reads of it (`CaseAccess`
 * `withdrawn`): the case's id, code, status and when it came in, its own
 * assignment, deliveries, requests and the events of its own part — with the
 * files it attached itself — and a short notice of when and why the case was
 * taken from it; for a merge into a case the unit holds too, that case
 * (`mergedInto`), where its work goes on. Nothing of the reporter's words,
 * place or photos, the other units, or what was done on the case after it left.
 */
async function withdrawnCaseView(deps: { db: Kysely<Database>; district: District }, principal: Principal, c: Case, assignments: readonly Assignment[]) {
  const { db, district } = deps;
  const unit = principal.unitCode!;
  const [contact, deliveries, events, extensions, files] = await Promise.all([
    findContact(db, c.id),
    listDeliveries(db, c.id),
    listEvents(db, c.id),
    listExtensionRequests(db, c.id, 'pending'),
    listAttachments(db, c.id),
  ]);
  const hidden = await hiddenFromBureau(db, contact, c);
  const into = await mergedIntoHeld(db, c, unit);
  const continuesIn = into ? caseLink(principal, into) : null;
  const own = events.filter((e) => isOwnEvent(e, unit) || releasedUnitBy(e, unit));
  const names = new Map(files.map((f) => [f.id, f.originalName]));
  const ownFiles = new Map<string, { id: string; mime: string; size: number; name: string | null }>();
  for (const e of own) {
    const attached = e.kind === 'reply' && isOwnEvent(e, unit) ? (e.data as { attachments?: Array<{ id: string; mime: string; size: number }> }).attachments : undefined;
    for (const f of attached ?? []) {
      const name = names.get(f.id) ?? null;
      ownFiles.set(f.id, { id: f.id, mime: f.mime, size: f.size, name: name === null ? null : textFor(principal, name, hidden) });
    }
  }
  return {
    ...caseLink(principal, c),
    access: 'withdrawn' as CaseAccess,
    channel: c.channel,
    status: c.status,
    round: c.round,
    text: null as string | null,
    address: null as string | null,
    location: null as Case['location'],
    occurredAt: null as string | null,
    jurisdiction: null as UnitRef | null,
    placeSource: null as string | null,
    flags: [] as string[],
    triageReason: null as string | null,
    type: null as ReturnType<typeof typeView>,
    urgent: c.urgent,
    anonymous: c.anonymous,
    overdue: false,
    supervisedAt: null as string | null,
    extended: false,
    receivedAt: c.receivedAt,
    dispatchedAt: c.dispatchedAt,
    repliedAt: null as string | null,
    closedAt: null as string | null,
    closeReason: null as string | null,
    mergedInto: continuesIn,
    deadlines: { signBy: null, replyBy: null, rateBy: null } as Case['deadlines'],
    reporter: null as { name: string | null; phone: string | null } | null,
    photos: [] as Array<{ id: string; mime: string; size: number }>,
    mergedReports: [] as Array<{ id: string; trackingCode: string | null; reference: string; channel: string; receivedAt: string; text: string; address: string | null; photos: Array<{ id: string; mime: string; size: number }> }>,
    replyAttachments: [...ownFiles.values()],
    assignments: assignments.filter((a) => a.unitCode === unit).map((a) => assignmentView(district, principal, a, hidden)),
    deliveries: deliveries.filter((d) => d.unitCode === unit).map((d) => deliveryView(district, principal, d)),
    events: own.map((e) => {
      const mine = isOwnEvent(e, unit);
      const reason = (e.data as { reason?: unknown }).reason;
      // Why it was taken: the dispatcher's words, or the service's for a one-click action (read in the reader's language).
      const data = mine ? e.data : { unit, ...(typeof reason === 'string' || isServiceWords(reason) ? { reason } : {}) };
      return {
        id: e.id,
        at: e.at,
        // A re-route, merge or transfer shows to the unit as what it was for it: its release from the case.
        kind: mine ? e.kind : 'released',
        actor: { type: e.actor.type, id: e.actor.id, role: e.actor.role },
        fromStatus: mine ? e.fromStatus : null,
        toStatus: mine ? e.toStatus : null,
        note: mine && e.note !== null ? textFor(principal, noteCodesAsReferences(principal, e.note, e.data), hidden, true) : null,
        data: maskDeep(principal, data, hidden, e.actor.type === 'staff'),
        public: false,
      };
    }),
    hotline: null as Awaited<ReturnType<typeof hotlineCallView>>,
    extensionRequests: extensions.filter((x) => x.unitCode === unit).map((x) => extensionView(district, principal, x, hidden)),
  };
}

/**
 * For a unit a merge took the case from: the case it was merged into (followed
 * to the one it is handled in), when the unit holds that case too — the clerk
 * who was working on the duplicate goes on there, so its page names and links
 * it, and its webhook's `released` notice and its group's post say so too.
 * Never a case the unit does not hold: where a case went is not for a unit it
 * was taken from to read.
 */
export async function mergedIntoHeld(db: Kysely<Database>, c: Case, unit: string): Promise<Case | null> {
  if (c.status !== 'merged') return null;
  const into = await caseHandledIn(db, c);
  return into && holdsCase(await listAssignments(db, into.id), unit) ? into : null;
}

/**
 * A file of a case the principal may fetch, or null: with full access any of
 * them, a withdrawn unit only those it attached itself. With it, the name a
 * download of it is saved under: the name the clerk's file had, as the case
 * page shows it to this principal (for a bureau, the reporter's unshared name
 * and the names of the reporters of reports merged into the case masked, as there); a reporter's photo keeps no name, nor does a
 * file stored before names were kept.
 */
export async function readableFile(
  deps: { db: Kysely<Database>; district: District },
  principal: Principal,
  caseId: string,
  fileId: string,
): Promise<{ file: StoredAttachment; name: string | null } | null> {
  const c = await findCase(deps.db, caseId);
  if (!c) throw new AppError('not_found', 'no such case');
  const assignments = await listAssignments(deps.db, caseId);
  if (caseAccess(principal, assignments) !== 'full') {
    const view = await withdrawnCaseView(deps, principal, c, assignments);
    if (!view.replyAttachments.some((f) => f.id === fileId)) return null;
  }
  // A photo of a report merged into the case is read with it, by whoever reads the case in full.
  const file =
    (await listAttachments(deps.db, caseId)).find((f) => f.id === fileId) ??
    (caseAccess(principal, assignments) === 'full' ? (await listMergedReports(deps.db, caseId)).flatMap((m) => m.photos).find((f) => f.id === fileId) : undefined);
  if (!file) return null;
  if (file.kind === 'photo' || file.originalName === null) return { file, name: null };
  if (!isBureau(principal)) return { file, name: file.originalName };
  // The names the case page masks in it: the case's own reporter's and those of the reports merged into it.
  return { file, name: textFor(principal, file.originalName, await hiddenFromBureau(deps.db, await findContact(deps.db, caseId), c)) };
}

async function hotlineCallView(db: Kysely<Database>, caseId: string) {
  const found = await findCallOfCase(db, caseId);
  if (!found) return null;
  const { call, part } = found;
  const cases = await listCallCases(db, call.id);
  return {
    hotline: call.hotline,
    callId: call.callId,
    startedAt: call.startedAt,
    operator: call.operator,
    callerNumber: call.callerNumber,
    transcript: call.transcript,
    summary: call.summary,
    externalRef: call.externalRef,
    part,
    /** Every case of the call (more than one when the operator split it). */
    cases: cases.map((k) => ({ id: k.id, trackingCode: k.trackingCode, status: k.status, part: k.part })),
  };
}

export type CaseView = Awaited<ReturnType<typeof buildCaseView>>;
export type CaseSummary = ReturnType<typeof caseSummary>;
