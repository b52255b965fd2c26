import { createHash } from 'node:crypto';
import { newId } from '../domain/ids.js';
import type { Kysely } from 'kysely';
import type { Attachment } from '../../db/repositories/attachments.repository.js';
import { findCase } from '../../db/repositories/cases.repository.js';
import { bool, isUniqueViolation } from '../../db/repositories/db-types.js';
import { findIdempotencyKey, type ScopedKey } from '../../db/repositories/idempotency.repository.js';
import type { Database } from '../../db/schema.js';
import { outboxEntry } from '../../queues/jobs.js';
import type { Clock } from '../clock.js';
import type { Channel } from '../domain/case.js';
import { newTrackingCode } from '../domain/tracking-code.js';
import { AppError } from '../errors.js';
import type { IntakeWriter, PreparedReport } from './intake-writer.js';
import type { PhotoStore } from '../storage/photo-store.js';
import { withoutMetadata } from './photo-metadata.js';

/**
 * Accepting a report, whatever the channel: persist the case, the reporter's
 * contact (apart), the photos and the `received` event, plus the outbox entry
 * that will start the pipeline — all in one transaction. Nothing here
 * classifies or notifies; the queue does that.
 */

export interface PhotoInput {
  bytes: Uint8Array;
  mime: string;
  ext: string;
}

export interface ReportInput {
  channel: Channel;
  text: string;
  address?: string | null;
  location?: { lat: number; lng: number } | null;
  name?: string | null;
  phone?: string | null;
  anonymous?: boolean;
  /** The reporter agreed that the handling bureau may see their contact. */
  shareContact?: boolean;
  occurredAt?: string | null;
  /** When the district received it, if earlier than its entry here (a hotline call entered or imported later). */
  receivedAt?: string | null;
  photos?: PhotoInput[];
  /** Decisions a person already made at intake (a hotline operator's review); the pipeline honours them. */
  preset?: PresetDecisions;
  /** Who entered the report for the reporter: a staff account (a hotline operator), or a batch import without one. */
  enteredBy?: { id: string | null; role: string | null } | null;
  /** More data for the `received` event (never contact details). */
  receivedData?: Record<string, unknown>;
}

export interface PresetDecisions {
  typeCode?: string | null;
  /** The lead bureau in place of the routing table's (kept in the `received` event as `presetLead`). */
  leadCode?: string | null;
  jurisdictionCode?: string | null;
  /** A person said the place is not known (a proposed jurisdiction was wrong): routed without one, flagged for the dispatcher. */
  placeUnknown?: boolean;
  urgent?: boolean | null;
}

/**
 * Flags on a received case saying which decisions a person made: the intake
 * processor routes with them instead of the machine's (a preset type at
 * confidence 1, a preset jurisdiction, a preset urgency).
 */
export const PRESET_FLAGS = {
  type: 'operator_type',
  lead: 'operator_lead',
  jurisdiction: 'operator_jurisdiction',
  urgency: 'operator_urgency',
} as const;

export interface AcceptDeps {
  db: Kysely<Database>;
  /** Writes the report's rows in one transaction (group-committed with concurrent reports). */
  writer: IntakeWriter;
  clock: Clock;
  photos: PhotoStore;
  /** Called after commit so the outbox relay moves the new job at once. */
  onCommitted?: () => void;
  /** The HTTP request that brought the report, named in the `report accepted` log line. */
  requestId?: string;
}

export interface AcceptedReport {
  id: string;
  trackingCode: string;
  /** True when an Idempotency-Key matched an earlier submission. */
  replayed: boolean;
}

/** A stable fingerprint of a submission, to tell a retry from a different report reusing a key. */
export function fingerprint(input: ReportInput): string {
  const h = createHash('sha256');
  h.update(
    JSON.stringify([
      input.channel,
      input.text,
      input.address ?? null,
      input.location ?? null,
      input.name ?? null,
      input.phone ?? null,
      input.anonymous ?? false,
      input.shareContact ?? false,
      input.occurredAt ?? null,
    ]),
  );
  for (const p of input.photos ?? []) h.update(createHash('sha256').update(p.bytes).digest());
  return h.digest('hex');
}

async function replay(db: Kysely<Database>, key: ScopedKey, requestHash: string): Promise<AcceptedReport | null> {
  const existing = await findIdempotencyKey(db, key);
  if (!existing) return null;
  if (existing.requestHash !== requestHash) {
    throw new AppError('idempotency_key_reused', 'this Idempotency-Key was already used for a different report', {
      'Idempotency-Key': 'already used for a different report',
    });
  }
  const c = await findCase(db, existing.caseId);
  if (!c) return null;
  return { id: c.id, trackingCode: c.trackingCode, replayed: true };
}

/**
 * The case an earlier submission with this key made of this report, or null
 * (none yet, or no key): what acceptReport would answer without writing.
 * A key used for another report is refused as there.
 */
export async function earlierReport(db: Kysely<Database>, input: ReportInput, idempotencyKey: ScopedKey | undefined): Promise<AcceptedReport | null> {
  return idempotencyKey ? replay(db, idempotencyKey, fingerprint(input)) : null;
}

export async function acceptReport(
  deps: AcceptDeps,
  input: ReportInput,
  idempotencyKey?: ScopedKey,
): Promise<AcceptedReport> {
  const requestHash = idempotencyKey ? fingerprint(input) : '';
  if (idempotencyKey) {
    const earlier = await replay(deps.db, idempotencyKey, requestHash);
    if (earlier) return earlier;
  }

  const now = deps.clock.now();
  const at = now.toISOString();
  const id = newId();
  const month = at.slice(0, 7).replace('-', '/');
  const attachments: Attachment[] = [];
  // Kept without what the files say of who took them and where they stood (GPS, device, owner).
  const photos = await Promise.all((input.photos ?? []).map(async (p) => ({ ...p, bytes: await withoutMetadata(p.bytes, p.mime) })));
  for (const [i, photo] of photos.entries()) {
    const sha256 = createHash('sha256').update(photo.bytes).digest('hex');
    attachments.push({
      id: newId(),
      caseId: id,
      kind: 'photo',
      storageKey: `${month}/${id}/${i + 1}-${sha256.slice(0, 12)}.${photo.ext}`,
      mime: photo.mime,
      size: photo.bytes.byteLength,
      sha256,
      createdAt: at,
    });
  }
  const written: string[] = [];
  const discardPhotos = async () => {
    await Promise.allSettled(written.map((k) => deps.photos.delete(k)));
  };

  try {
    for (const [i, a] of attachments.entries()) {
      await deps.photos.put(a.storageKey, photos[i]!.bytes, a.mime);
      written.push(a.storageKey);
    }
    for (let attempt = 1; ; attempt++) {
      const trackingCode = newTrackingCode();
      try {
        await deps.writer.write(
          withRequestId(
            prepareReport(input, { id, trackingCode }, now, attachments, idempotencyKey ? { key: idempotencyKey, requestHash } : null),
            deps.requestId,
          ),
        );
        deps.onCommitted?.();
        return { id, trackingCode, replayed: false };
      } catch (err) {
        if (!isUniqueViolation(err)) throw err;
        // Either a concurrent retry with the same Idempotency-Key won the race,
        // or (astronomically rarely) the tracking code was taken.
        if (idempotencyKey) {
          const earlier = await replay(deps.db, idempotencyKey, requestHash);
          if (earlier) {
            await discardPhotos();
            return earlier;
          }
        }
        if (attempt >= 3) throw err;
      }
    }
  } catch (err) {
    await discardPhotos();
    throw err;
  }
}

/** Names the request that brought a report, for its log line (never stored). */
export function withRequestId(report: PreparedReport, requestId: string | undefined): PreparedReport {
  if (requestId) report.requestId = requestId;
  return report;
}

/**
 * The rows of one accepted report — case, contact, photos, the `received`
 * event and the outbox entry that starts the pipeline — ready for the writer.
 */
export function prepareReport(
  input: ReportInput,
  ids: { id: string; trackingCode: string },
  now: Date,
  attachments: Attachment[] = [],
  idempotency: { key: ScopedKey; requestHash: string } | null = null,
): PreparedReport {
  const { id, trackingCode } = ids;
  const at = now.toISOString();
  const hasContact = Boolean(input.name || input.phone);
  const preset = input.preset ?? {};
  const flags: string[] = [];
  if (preset.typeCode) flags.push(PRESET_FLAGS.type);
  if (preset.jurisdictionCode || preset.placeUnknown) flags.push(PRESET_FLAGS.jurisdiction);
  if (typeof preset.urgent === 'boolean') flags.push(PRESET_FLAGS.urgency);
  if (preset.leadCode) flags.push(PRESET_FLAGS.lead);
  return {
    at: now,
    caseRow: {
      id,
      tracking_code: trackingCode,
      channel: input.channel,
      text: input.text,
      address: input.address ?? null,
      lat: input.location?.lat ?? null,
      lng: input.location?.lng ?? null,
      occurred_at: input.occurredAt ?? null,
      status: 'received',
      type_code: preset.typeCode ?? null,
      confidence: null,
      classification: null,
      urgent: bool(preset.urgent === true),
      urgency_reasons: null,
      anonymous: bool(input.anonymous ?? false),
      jurisdiction_code: preset.placeUnknown ? null : (preset.jurisdictionCode ?? null),
      place_source: preset.jurisdictionCode || preset.placeUnknown ? 'operator' : null,
      flags: JSON.stringify(flags),
      triage_reason: null,
      // A call keeps the time it came in (a batch imported today counts in the month of its calls), never later than now.
      received_at: input.receivedAt && Date.parse(input.receivedAt) < now.getTime() ? input.receivedAt : at,
      dispatched_at: null,
      sign_deadline_at: null,
      reply_deadline_at: null,
      updated_at: at,
      version: 0,
      round: 1,
      overdue: 0,
      extended: 0,
    },
    contact: hasContact
      ? {
          name: input.name ?? null,
          phone: input.phone ?? null,
          shareWithBureau: Boolean(input.shareContact) && !input.anonymous,
        }
      : null,
    attachments,
    events: [
      {
        caseId: id,
        at,
        actor: input.enteredBy
          ? { type: input.enteredBy.id ? 'staff' : 'system', id: input.enteredBy.id, role: input.enteredBy.role }
          : { type: 'reporter' },
        kind: 'received',
        toStatus: 'received',
        note: '已受理',
        data: { channel: input.channel, photos: attachments.length, ...input.receivedData, ...(preset.leadCode ? { presetLead: preset.leadCode } : {}) },
        public: true,
      },
    ],
    outbox: [outboxEntry('intake', { caseId: id })],
    idempotency,
  };
}
