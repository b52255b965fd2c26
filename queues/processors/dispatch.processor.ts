import { listAttachments } from '../../db/repositories/attachments.repository.js';
import { currentLead, HOLDING_STATUSES, listAssignments } from '../../db/repositories/assignments.repository.js';
import { findCase } from '../../db/repositories/cases.repository.js';
import { caseReference } from '../../src/domain/case.js';
import { findContact, namesHiddenFromBureau, sharedWithBureau } from '../../db/repositories/contacts.repository.js';
import { findDelivery, recordAttempt, withdrawDelivery } from '../../db/repositories/deliveries.repository.js';
import { PostgresAdapter } from 'kysely';
import type { Trx } from '../../db/repositories/db-types.js';
import { appendEvents, listEvents } from '../../db/repositories/events.repository.js';
import { queueNotification } from '../../src/workflow/notifications.js';
import { caseTypeView, unitView } from '../../src/district/district.schema.js';
import { maskIdentityInText } from '../../src/pipeline/extract.js';
import { PermanentJobError, type JobContext, type JobPayloads } from '../jobs.js';
import type { ProcessorDeps } from './processor-deps.js';
import { postSignedWebhook, WebhookError } from './webhook.js';

/**
 * dispatch: deliver one assignment to one bureau's webhook, signed with
 * HMAC-SHA256. Retried with exponential backoff; when the last attempt
 * fails, or the bureau's server rejects the request for good, the failure is
 * recorded on the case and in the deliveries table for a person to see.
 */

export function createDispatchProcessor(deps: ProcessorDeps) {
  const { district } = deps;

  return async function processDispatch(
    { caseId, unit, channel }: JobPayloads['dispatch'],
    ctx: JobContext,
  ): Promise<string> {
    const [delivery, c] = await Promise.all([findDelivery(deps.db, caseId, unit, channel), findCase(deps.db, caseId)]);
    if (!delivery) return 'skipped: no such delivery';
    if (delivery.status !== 'pending') return `skipped: delivery already ${delivery.status}`;
    const target = district.units.get(unit)?.webhook;
    const secret = target?.secret ?? deps.webhookSecret;
    if (!c) return 'skipped: no such case';

    const fail = async (message: string, final: boolean): Promise<never> => {
      const at = deps.clock.now().toISOString();
      if (final) {
        await deps.transactions.run(async (trx) => {
          const recorded = await recordAttempt(trx, delivery.id, { status: 'failed', error: message, at });
          if (recorded) {
            await appendEvents(trx, [
              { caseId, at, kind: 'delivery_failed', data: { unit, channel, attempts: delivery.attempts + 1, error: message } },
            ]);
          }
        });
        deps.logger.error({ caseId, unit, jobId: ctx.jobId, err: message }, 'bureau delivery failed for good');
        throw new PermanentJobError(message);
      }
      await deps.db
        .updateTable('deliveries')
        .set((eb) => ({ attempts: eb('attempts', '+', 1), last_error: message, last_attempt_at: at }))
        .where('id', '=', delivery.id)
        .where('status', '=', 'pending')
        .execute();
      throw new Error(message);
    };

    if (!target || !secret) return fail(`bureau ${unit} has no signed webhook configured`, true);

    // Independent reads, side by side: one round trip's wait instead of three.
    const [assignments, contact, photos] = await Promise.all([
      listAssignments(deps.db, caseId),
      findContact(deps.db, caseId),
      listAttachments(deps.db, caseId),
    ]);
    const mine = assignments.find((a) => a.unitCode === unit);
    if (!mine) return fail(`case has no assignment for ${unit}`, true);
    // Taken from the unit (or returned by it) before its server took the case — a retry after its server was down,
    // a job that waited in the queue: the reporter's words no longer go to it. Given back, the delivery is renewed.
    if (!HOLDING_STATUSES.includes(mine.status)) {
      await withdrawDelivery(deps.db, delivery.id, deps.clock.now().toISOString());
      return `skipped: ${unit} no longer holds the case (${mine.status})`;
    }

    // The reporter's name (unless shared) and phone numbers are masked wherever their own words go.
    const hidden = namesHiddenFromBureau(contact, c);
    const body = JSON.stringify({
      event: 'case.assigned',
      deliveryId: delivery.id,
      case: {
        id: c.id,
        // Not the tracking code: with it anyone can rate the case, the bureau its own answer too.
        reference: caseReference(c.id),
        // As it stands when sent: `dispatched` (or further, another unit was quicker), `transferred` for a case handed to 12345.
        status: c.status,
        type: caseTypeView(district, c.typeCode),
        confidence: c.confidence,
        urgent: c.urgent,
        text: maskIdentityInText(c.text, hidden),
        address: c.address === null ? null : maskIdentityInText(c.address, hidden),
        location: c.location,
        jurisdiction: unitView(district, c.jurisdictionCode),
        occurredAt: c.occurredAt,
        receivedAt: c.receivedAt,
        dispatchedAt: c.dispatchedAt,
        photos: photos.length,
        reporter:
          contact && sharedWithBureau(contact, c.anonymous) ? { name: contact.name, phone: contact.phone } : null,
      },
      assignment: {
        unit: unitView(district, unit),
        role: mine.role,
        deadlines: mine.deadlines,
        lead: unitView(district, currentLead(assignments)?.unitCode ?? null),
        coHandlers: assignments.filter((a) => a.unitCode !== unit && a.status !== 'released').map((a) => ({ ...unitView(district, a.unitCode), role: a.role })),
      },
      caseUrl: `${deps.publicUrl}/inbox/cases/${c.id}`,
      sentAt: deps.clock.now().toISOString(),
    });
    try {
      await postSignedWebhook(deps.fetch, { url: target.url, secret, deliveryId: delivery.id }, body);
    } catch (err) {
      if (!(err instanceof WebhookError)) throw err;
      return fail(err.message, !err.retryable || ctx.attempt >= ctx.maxAttempts);
    }
    const at = deps.clock.now().toISOString();
    // Group-committed with other jobs' writes: one commit for many deliveries.
    await deps.transactions.run(async (trx) => {
      const recorded = await recordAttempt(trx, delivery.id, { status: 'delivered', error: null, at });
      if (!recorded) return;
      await appendEvents(trx, [{ caseId, at, kind: 'delivered', data: { unit, channel, attempts: delivery.attempts + 1 } }]);
      await tellIfReleasedMeanwhile(trx, caseId, unit, deps.clock.now());
    });
    return `delivered to ${unit}`;
  };
}

/**
 * The dispatcher took the case from the unit while its server was taking the
 * assignment: the release saw no delivery made and told nobody, so the unit
 * gets its \`released\` notice now, with the dispatcher's reason. The unit's
 * assignment is read locked (PostgreSQL), and the release reads the
 * deliveries after changing the assignments: whichever commits second sees
 * the other, so the unit is told once.
 */
async function tellIfReleasedMeanwhile(trx: Trx, caseId: string, unit: string, now: Date): Promise<void> {
  let q = trx.selectFrom('assignments').select(['status', 'round']).where('case_id', '=', caseId).where('unit_code', '=', unit);
  if (trx.getExecutor().adapter instanceof PostgresAdapter) q = q.forUpdate();
  const mine = await q.executeTakeFirst();
  if (mine?.status !== 'released') return;
  const reason = (await listEvents(trx, caseId))
    .map((e) => (e.data ?? {}) as { released?: unknown; reason?: unknown })
    .filter((d) => Array.isArray(d.released) && d.released.includes(unit))
    .at(-1)?.reason;
  await queueNotification(
    trx,
    { caseId, audience: `unit:${unit}`, kind: 'released', data: { unit, round: Number(mine.round ?? 1), ...(typeof reason === 'string' ? { note: reason } : {}) } },
    now,
  );
}
