import type { Kysely } from 'kysely';
import { parseJson } from '../../db/repositories/db-types.js';
import { appendEvents } from '../../db/repositories/events.repository.js';
import type { Database } from '../../db/schema.js';
import { jobId, type JobName, type JobPayloads } from '../../queues/jobs.js';
import type { JobToEnqueue, JobTransport } from '../../queues/transport.js';
import type { Logger } from '../logger.js';
import type { Actor } from './transition.js';

/**
 * Sending again what failed for good: assignments a bureau's webhook or
 * Telegram group never took, and notices (to a resident's chat, to a unit's
 * webhook or group) that ran out of attempts — after the bureau fixed its
 * server or Telegram came back. The rows go back to pending, with a
 * `redelivery` event on each case naming who asked; the jobs are queued at
 * once when a transport is at hand, and otherwise by the reconciler, which
 * re-creates the job of whatever is pending past its grace period.
 */

export type RedeliverScope = { caseId: string } | { unit: string; since?: string };

export interface RedeliverResult {
  cases: number;
  /** Webhook deliveries of assignments set pending again. */
  deliveries: number;
  /** Telegram group posts of assignments set to be posted again. */
  posts: number;
  /** Notifications set pending again (the channels that took them are not sent to twice). */
  notifications: number;
  /** Jobs queued now; the rest (with no transport, or Redis down) by the reconciler. */
  queued: number;
}

export async function redeliverFailed(
  deps: { db: Kysely<Database>; clock: { now(): Date }; transport?: JobTransport; logger?: Logger },
  actor: Actor,
  scope: RedeliverScope,
): Promise<RedeliverResult> {
  const at = deps.clock.now().toISOString();
  const jobs: JobToEnqueue[] = [];
  const job = <K extends JobName>(name: K, payload: JobPayloads[K]) => jobs.push({ name, jobId: (jobId[name] as (p: JobPayloads[K]) => string)(payload), payload });
  const perCase = new Map<string, { deliveries: string[]; posts: string[]; notifications: string[] }>();
  const of = (caseId: string) => {
    let entry = perCase.get(caseId);
    if (!entry) perCase.set(caseId, (entry = { deliveries: [], posts: [], notifications: [] }));
    return entry;
  };

  const counts = await deps.db.transaction().execute(async (trx) => {
    let deliveryQuery = trx.selectFrom('deliveries').select(['id', 'case_id', 'unit_code', 'channel']).where('status', '=', 'failed');
    let postQuery = trx.selectFrom('telegram_bureau_posts').select(['id', 'case_id', 'unit_code', 'round']).where('status', '=', 'failed');
    let noticeQuery = trx.selectFrom('notifications').select(['id', 'case_id', 'kind', 'channels']).where('status', '=', 'failed');
    if ('caseId' in scope) {
      deliveryQuery = deliveryQuery.where('case_id', '=', scope.caseId);
      postQuery = postQuery.where('case_id', '=', scope.caseId);
      noticeQuery = noticeQuery.where('case_id', '=', scope.caseId);
    } else {
      deliveryQuery = deliveryQuery.where('unit_code', '=', scope.unit);
      postQuery = postQuery.where('unit_code', '=', scope.unit);
      noticeQuery = noticeQuery.where('audience', '=', `unit:${scope.unit}`);
      if (scope.since) {
        deliveryQuery = deliveryQuery.where('last_attempt_at', '>=', scope.since);
        postQuery = postQuery.where('updated_at', '>=', scope.since);
        noticeQuery = noticeQuery.where('sent_at', '>=', scope.since);
      }
    }
    const [deliveries, posts, notices] = await Promise.all([deliveryQuery.execute(), postQuery.execute(), noticeQuery.execute()]);

    for (const d of deliveries) {
      await trx.updateTable('deliveries').set({ status: 'pending', attempts: 0 }).where('id', '=', d.id).where('status', '=', 'failed').execute();
      of(d.case_id).deliveries.push(d.unit_code);
      job('dispatch', { caseId: d.case_id, unit: d.unit_code, channel: d.channel as 'webhook' });
    }
    for (const p of posts) {
      await trx.updateTable('telegram_bureau_posts').set({ status: 'posting', updated_at: at }).where('id', '=', p.id).where('status', '=', 'failed').execute();
      of(p.case_id).posts.push(p.unit_code);
      job('telegram_post', { caseId: p.case_id, unit: p.unit_code, round: Number(p.round) });
    }
    for (const n of notices) {
      // The channels that took the notice keep it; only the failed ones are tried again.
      const settled = Object.fromEntries(Object.entries(parseJson<Record<string, string>>(n.channels, {})).filter(([, v]) => v === 'delivered'));
      await trx
        .updateTable('notifications')
        .set({ status: 'pending', sent_at: null, channels: Object.keys(settled).length > 0 ? JSON.stringify(settled) : null })
        .where('id', '=', n.id)
        .where('status', '=', 'failed')
        .execute();
      of(n.case_id).notifications.push(n.kind);
      job('notify', { notificationId: n.id, caseId: n.case_id });
    }
    await appendEvents(
      trx,
      [...perCase].map(([caseId, what]) => ({ caseId, at, kind: 'redelivery', actor, data: what })),
    );
    return { cases: perCase.size, deliveries: deliveries.length, posts: posts.length, notifications: notices.length };
  });

  let queued = 0;
  if (deps.transport) {
    for (const j of jobs) {
      try {
        await deps.transport.ensure(j);
        queued += 1;
      } catch (err) {
        // Redis is down: the rows are pending, so the reconciler queues the job once it is back.
        deps.logger?.warn({ job: j.name, err: (err as Error).message }, 'redelivery left to the reconciler');
        break;
      }
    }
  }
  return { ...counts, queued };
}

/** How many assignments and notices of a case failed for good (what `redeliverFailed` would send again). */
export async function countFailedSends(db: Kysely<Database>, caseId: string): Promise<number> {
  const [deliveries, posts, notices] = await Promise.all(
    (['deliveries', 'telegram_bureau_posts', 'notifications'] as const).map((table) =>
      db
        .selectFrom(table)
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('case_id', '=', caseId)
        .where('status', '=', 'failed')
        .executeTakeFirstOrThrow(),
    ),
  );
  return Number(deliveries!.n) + Number(posts!.n) + Number(notices!.n);
}
