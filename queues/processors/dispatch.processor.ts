import { listAttachments } from '../../db/repositories/attachments.repository.js';
import { currentLead, HOLDING_STATUSES, listAssignments } from '../../db/repositories/assignments.repository.js';
import { findCase } from '../../db/repositories/cases.repository.js';
import { caseReference } from '../../src/domain/case.js';
import { findContact, sharedWithBureau } from '../../db/repositories/contacts.repository.js';
import { hiddenFromBureau, maskForBureau } from '../../src/workflow/case-view.js';
import { beginAttempt, endAttempt, findDelivery, recordAttempt, withdrawDelivery } from '../../db/repositories/deliveries.repository.js';
import { PostgresAdapter } from 'kysely';
import type { Trx } from '../../db/repositories/db-types.js';
import { appendEvents, listEvents } from '../../db/repositories/events.repository.js';
import { queueNotification, releaseWaitingNotices } from '../../src/workflow/notifications.js';
import { caseTypeView, unitView } from '../../src/district/district.schema.js';
import { PermanentJobError, type JobContext, type JobPayloads } from '../jobs.js';
import type { ProcessorDeps } from './processor-deps.js';
import { postSignedWebhook, WebhookError } from './webhook.js';
import { isServiceWords } from '../../src/workflow/service-words.js';

/**
 * dispatch: deliver one assignment to one bureau's webhook, signed with
 * HMAC-SHA256. Retried with exponential backoff; when the last attempt
 * fails, or the bureau's server rejects the request for good, the failure is
 * recorded on the case and in the deliveries table for a person to see.
 *
 * The attempts are counted in the database before each request goes out, not
 * by the queue: a worker killed during a request leaves the job to be run
 * again without that attempt counted (BullMQ's stalled-job recovery, or the
 * reconciler's fresh job), and the bureau would get one more than
 * DISPATCH_ATTEMPTS. The run that finds an attempt begun and never ended
 * counts it as failed, and fails the delivery when it was the last.
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

    /** Fails the delivery for good, `settle` writing its row: recorded on the case (`delivery_failed`) for a person to see. */
    const failForGood = async (message: string, attempts: number, settle: (trx: Trx, at: string) => Promise<boolean>): Promise<never> => {
      const at = deps.clock.now().toISOString();
      await deps.transactions.run(async (trx) => {
        if (await settle(trx, at)) {
          await appendEvents(trx, [{ caseId, at, kind: 'delivery_failed', data: { unit, channel, attempts, error: message } }]);
          // The notices that waited for the assignment fail there too, each recorded on the case.
          await releaseWaitingNotices(trx, caseId, unit, 'webhook', new Date(at));
        }
      });
      deps.kickOutbox();
      deps.logger.error({ caseId, unit, jobId: ctx.jobId, err: message }, 'bureau delivery failed for good');
      throw new PermanentJobError(message);
    };
    // Nothing was sent: the attempt is counted as it ends.
    const failUnsent = (message: string) =>
      failForGood(message, delivery.attempts + 1, (trx, at) => recordAttempt(trx, delivery.id, { status: 'failed', error: message, at }));

    if (!target || !secret) return failUnsent(`bureau ${unit} has no signed webhook configured`);

    // Independent reads, side by side: one round trip's wait instead of three.
    const [assignments, contact, photos] = await Promise.all([
      listAssignments(deps.db, caseId),
      findContact(deps.db, caseId),
      listAttachments(deps.db, caseId),
    ]);
    const mine = assignments.find((a) => a.unitCode === unit);
    if (!mine) return failUnsent(`case has no assignment for ${unit}`);
    // Taken from the unit (or returned by it) before its server took the case — a retry after its server was down,
    // a job that waited in the queue: the reporter's words no longer go to it. Given back, the delivery is renewed.
    if (!HOLDING_STATUSES.includes(mine.status)) {
      const at = deps.clock.now();
      await deps.transactions.run(async (trx) => {
        if (await withdrawDelivery(trx, delivery.id, at.toISOString())) await releaseWaitingNotices(trx, caseId, unit, 'webhook', at);
      });
      deps.kickOutbox();
      return `skipped: ${unit} no longer holds the case (${mine.status})`;
    }

    // An attempt begun and never ended: its worker was killed (or lost the job) during the request. It counts as failed.
    const cutOff = delivery.attemptStartedAt === null ? null : `attempt ${delivery.attempts} got no outcome: its worker stopped during the request`;
    if (delivery.attempts >= ctx.maxAttempts) {
      const message = cutOff ?? delivery.lastError ?? 'no attempts left';
      return failForGood(message, delivery.attempts, (trx, at) => endAttempt(trx, delivery.id, { status: 'failed', error: message, at }));
    }

    // The reporter's name (unless shared) and phone numbers are masked wherever their own words go; as on the unit's
    // case page, so are the names staff wrote as a reporter's (来电人刘某…) and those of the reports merged into the case.
    const hidden = await hiddenFromBureau(deps.db, contact, c);
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
        text: maskForBureau(c.text, hidden),
        address: c.address === null ? null : maskForBureau(c.address, hidden),
        location: c.location,
        jurisdiction: unitView(district, c.jurisdictionCode),
        occurredAt: c.occurredAt,
        receivedAt: c.receivedAt,
        dispatchedAt: c.dispatchedAt,
        // The reporter's photos: not the files units attached to their replies, which the case's attachments hold too.
        photos: photos.filter((p) => p.kind === 'photo').length,
        reporter:
          contact && sharedWithBureau(contact, c.anonymous) ? { name: contact.name, phone: contact.phone } : null,
      },
      assignment: {
        unit: unitView(district, unit),
        role: mine.role,
        // The unit's own part as it stands when sent: `pending` (to sign for), or `accepted` / `replied` when a clerk
        // already did so on the web before its server took the case (a retry after the server was down).
        status: mine.status,
        deadlines: mine.deadlines,
        lead: unitView(district, currentLead(assignments)?.unitCode ?? null),
        // The other units on the case as it is sent: not one released from it, nor one that returned its part (退回).
        coHandlers: assignments.filter((a) => a.unitCode !== unit && HOLDING_STATUSES.includes(a.status)).map((a) => ({ ...unitView(district, a.unitCode), role: a.role })),
      },
      caseUrl: `${deps.publicUrl}/inbox/cases/${c.id}`,
      sentAt: deps.clock.now().toISOString(),
    });
    const attempt = delivery.attempts + 1;
    // Counted, and committed, before the request goes out (group-committed with other jobs' writes). Another run of
    // the job began one meanwhile (a worker thought dead still running), or the delivery was settled: this run sends
    // nothing, and the next finds out which.
    const begun = await deps.transactions.run((trx) => beginAttempt(trx, delivery, deps.clock.now().toISOString(), cutOff));
    if (!begun) {
      throw new Error(`the delivery changed before attempt ${attempt} began`);
    }
    try {
      await postSignedWebhook(deps.fetch, { url: target.url, secret, deliveryId: delivery.id }, body);
    } catch (err) {
      const message = (err as Error).message;
      const final = (err instanceof WebhookError && !err.retryable) || attempt >= ctx.maxAttempts || ctx.attempt >= ctx.maxAttempts;
      if (final) return failForGood(message, attempt, (trx, at) => endAttempt(trx, delivery.id, { status: 'failed', error: message, at }));
      await endAttempt(deps.db, delivery.id, { status: 'pending', error: message, at: deps.clock.now().toISOString() });
      throw err;
    }
    const at = deps.clock.now().toISOString();
    // Group-committed with other jobs' writes: one commit for many deliveries.
    await deps.transactions.run(async (trx) => {
      const recorded = await endAttempt(trx, delivery.id, { status: 'delivered', error: null, at });
      if (!recorded) return;
      await appendEvents(trx, [{ caseId, at, kind: 'delivered', data: { unit, channel, attempts: attempt } }]);
      await tellIfReleasedMeanwhile(trx, caseId, unit, deps.clock.now());
      // The notices that waited for the assignment (a 督办 made while it was being retried) follow it now.
      await releaseWaitingNotices(trx, caseId, unit, 'webhook', deps.clock.now());
    });
    deps.kickOutbox();
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
    { caseId, audience: `unit:${unit}`, kind: 'released', data: { unit, round: Number(mine.round ?? 1), ...(typeof reason === 'string' || isServiceWords(reason) ? { note: reason } : {}) } },
    now,
  );
}
