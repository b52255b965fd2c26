import { newId } from '../../src/domain/ids.js';
import { insertAssignments, type NewAssignment } from '../../db/repositories/assignments.repository.js';
import { findCase, transitionCase } from '../../db/repositories/cases.repository.js';
import { bool, parseJson, type Trx } from '../../db/repositories/db-types.js';
import { findContact, insertContact } from '../../db/repositories/contacts.repository.js';
import { insertDeliveries } from '../../db/repositories/deliveries.repository.js';
import { appendEvents } from '../../db/repositories/events.repository.js';
import { addToOutbox } from '../../db/repositories/outbox.repository.js';
import { PRESET_FLAGS } from '../../src/intake/accept-report.js';
import { extractDetails } from '../../src/pipeline/extract-details.js';
import { complaintText } from '../../src/pipeline/transcript.js';
import { dispatchDeadlines } from '../../src/pipeline/deadlines.js';
import { decideRoute, withLead } from '../../src/pipeline/route.js';
import { queueNotification, scheduleDeadlineChecks } from '../../src/workflow/notifications.js';
import { wakeUpsFor } from '../../src/workflow/deadline-check.js';
import { queueBureauPosts } from '../../src/telegram/post-queue.js';
import { outboxEntry, type JobPayloads } from '../jobs.js';
import type { ProcessorDeps } from './processor-deps.js';
import { unitName } from '../../src/district/district.schema.js';

/** The lead bureau a person chose at intake, kept in the case's `received` event; null if it is not a bureau (any more). */
async function presetLeadOf(deps: ProcessorDeps, caseId: string): Promise<string | null> {
  const row = await deps.db.selectFrom('case_events').select('data').where('case_id', '=', caseId).where('kind', '=', 'received').executeTakeFirst();
  const lead = parseJson<{ presetLead?: unknown } | null>(row?.data ?? null, null)?.presetLead;
  return typeof lead === 'string' && deps.district.units.get(lead)?.kind === 'bureau' ? lead : null;
}

/**
 * intake: classify → extract place and urgency → route → record. Runs once
 * per case in effect: the status change from `received` is conditional, so a
 * redelivered job finds the case already moved and does nothing.
 */
export function createIntakeProcessor(deps: ProcessorDeps) {
  const { district } = deps;
  return async function processIntake({ caseId }: JobPayloads['intake']): Promise<string> {
    const c = await findCase(deps.db, caseId);
    if (!c) return 'skipped: no such case';
    if (c.status !== 'received') return `skipped: case already ${c.status}`;

    // A hotline transcript is classified on the caller's lines: the operator's words are context.
    const classification = deps.classifier.classify(complaintText(c.text));
    // Decisions a person made at intake (a hotline operator's review) win over the machine's:
    // a preset type is routed at confidence 1; the machine's answer is still recorded.
    const presetType = c.flags.includes(PRESET_FLAGS.type) && c.typeCode ? c.typeCode : null;
    // A person set the place: a jurisdiction, or none (they said the place is not known).
    const placeSet = c.flags.includes(PRESET_FLAGS.jurisdiction);
    const presetPlace = placeSet && c.jurisdictionCode ? c.jurisdictionCode : null;
    const presetUrgency = c.flags.includes(PRESET_FLAGS.urgency);
    const presetLead = c.flags.includes(PRESET_FLAGS.lead) ? await presetLeadOf(deps, caseId) : null;
    const routed = presetType ? { ...classification, type: presetType, confidence: 1 } : classification;
    const details = extractDetails(district, c.text, {
      location: c.location,
      address: c.address,
      receivedAt: c.receivedAt,
      typeCode: routed.type,
      anonymous: c.anonymous,
    });
    const place = presetPlace ? { jurisdiction: presetPlace, matched: 'operator', source: 'text' as const } : placeSet ? null : details.jurisdiction;
    const urgency = presetUrgency ? { urgent: c.urgent, reasons: c.urgent ? ['operator'] : [] } : details.urgency;
    const anonymityPhrase = details.anonymity.phrase;
    const anonymous = c.anonymous || anonymityPhrase !== null;
    const incidentTime = details.time
      ? { phrase: details.time.phrase, at: details.time.at, approximate: details.time.approximate, recurring: details.time.recurring }
      : null;
    const decision = withLead(decideRoute(district, routed, place, urgency), presetLead);
    const presetFlags = c.flags.filter((f) => (Object.values(PRESET_FLAGS) as string[]).includes(f));

    const now = deps.clock.now();
    const at = now.toISOString();

    const moved = await deps.transactions.run(async (trx) => {
      const common = {
        updated_at: at,
        type_code: decision.type,
        confidence: routed.confidence,
        classification: JSON.stringify(classification),
        urgent: bool(urgency.urgent),
        urgency_reasons: JSON.stringify(urgency.reasons),
        anonymous: bool(anonymous),
        jurisdiction_code: place?.jurisdiction ?? null,
        place_source: presetPlace ? 'operator' : (place?.source ?? null),
        flags: JSON.stringify([...presetFlags, ...decision.flags]),
        // The reporter's stated time fills an empty occurred_at; a time someone entered is never overwritten.
        ...(c.occurredAt === null && incidentTime?.at ? { occurred_at: incidentTime.at } : {}),
      };
      const classifiedEvent = {
        caseId,
        at,
        kind: 'classified',
        data: {
          type: classification.type,
          confidence: classification.confidence,
          runnerUp: classification.runnerUp,
          evidence: classification.evidence.slice(0, 10),
          engine: classification.engine,
          jurisdiction: place?.jurisdiction ?? null,
          placeMatched: place?.matched ?? null,
          place: details.place,
          incidentTime,
          urgent: urgency.urgent,
          urgencyReasons: urgency.reasons,
          anonymityRequested: anonymityPhrase !== null,
          flags: decision.flags,
          ...(presetType || presetPlace || presetUrgency || presetLead
            ? { operator: { type: presetType, lead: presetLead, jurisdiction: presetPlace, urgent: presetUrgency ? c.urgent : null } }
            : {}),
        },
      };

      if (decision.outcome === 'triage') {
        const ok = await transitionCase(trx, caseId, 'received', { ...common, status: 'triage', triage_reason: decision.reason });
        if (!ok) return false;
        await keepPhonesProtected(trx, caseId, details.phones, anonymous);
        await appendEvents(trx, [
          classifiedEvent,
          { caseId, at, kind: 'status', fromStatus: 'received', toStatus: 'triage', note: '待人工分派', data: { reason: decision.reason }, public: true },
        ]);
        return true;
      }

      const deadlines = dispatchDeadlines(district, deps.calendar, decision.type, urgency.urgent, now);
      const status = decision.outcome === 'transfer' ? 'transferred' : 'dispatched';
      const ok = await transitionCase(trx, caseId, 'received', {
        ...common,
        status,
        dispatched_at: at,
        sign_deadline_at: decision.outcome === 'transfer' ? null : deadlines.signBy,
        reply_deadline_at: decision.outcome === 'transfer' ? null : deadlines.replyBy,
      });
      if (!ok) return false;
      await keepPhonesProtected(trx, caseId, details.phones, anonymous);

      const assignments: NewAssignment[] = decision.assignments.map((a) => ({
        id: newId(),
        caseId,
        unitCode: a.unit,
        role: a.role,
        signBy: decision.outcome === 'transfer' ? null : deadlines.signBy,
        replyBy: decision.outcome === 'transfer' ? null : deadlines.replyBy,
        at,
      }));
      await insertAssignments(trx, assignments);
      const lead = decision.assignments[0]!.unit;
      await appendEvents(trx, [
        classifiedEvent,
        {
          caseId,
          at,
          kind: 'status',
          fromStatus: 'received',
          toStatus: status,
          note: status === 'transferred' ? `非环境类诉求，已转${unitName(district, lead)}` : `已派发至${unitName(district, lead)}办理`,
          data: { assignments: decision.assignments, deadlines: status === 'transferred' ? null : deadlines },
          public: true,
        },
      ]);

      await queueNotification(
        trx,
        { caseId, audience: 'reporter', kind: status === 'transferred' ? 'transferred' : 'dispatched', data: { lead }, channel: c.channel },
        now,
      );
      if (status === 'dispatched') await scheduleDeadlineChecks(trx, caseId, wakeUpsFor(district, deps.calendar, deadlines), now);

      const deliveries = decision.assignments
        .filter((a) => district.units.get(a.unit)?.webhook)
        .map((a) => ({ id: newId(), caseId, unitCode: a.unit, channel: 'webhook' as const, at }));
      await insertDeliveries(trx, deliveries);
      await addToOutbox(
        trx,
        deliveries.map((d) => outboxEntry('dispatch', { caseId, unit: d.unitCode, channel: 'webhook' })),
        now,
      );
      // Units with a Telegram group get the assignment posted there too.
      if (status === 'dispatched') await queueBureauPosts(trx, district, caseId, decision.assignments.map((a) => a.unit), c.round, now);
      return true;
    });

    if (!moved) return 'skipped: case moved by another worker';
    deps.kickOutbox();
    return decision.outcome === 'triage' ? `triage: ${decision.reason}` : `${decision.outcome}: ${decision.type}`;
  };
}

/**
 * Phone numbers the reporter wrote into the text belong in the protected
 * contact fields (the text itself is masked wherever a bureau reads it).
 * A number given in the form stays. An anonymous report keeps no number it
 * did not come with: the anonymous box promises 不保存您的姓名和电话, and a
 * caller who asked not to be named keeps only the call's own number, which
 * the hotline intake put in the contact (operators and dispatchers only).
 */
async function keepPhonesProtected(trx: Trx, caseId: string, phones: readonly string[], anonymous: boolean): Promise<void> {
  const phone = phones[0];
  if (!phone || anonymous) return;
  const existing = await findContact(trx, caseId);
  if (existing?.phone) return;
  if (existing) {
    await trx.updateTable('case_contacts').set({ phone }).where('case_id', '=', caseId).execute();
  } else {
    await insertContact(trx, caseId, { name: null, phone, shareWithBureau: false });
  }
}
