import { z } from '@hono/zod-openapi';
import type { ExpressionBuilder, Kysely } from 'kysely';
import type { Db } from '../../db/repositories/db-types.js';
import { parseJson } from '../../db/repositories/db-types.js';
import { appendEvents } from '../../db/repositories/events.repository.js';
import type { Database } from '../../db/schema.js';
import { jobIdOf, outboxEntry, type JobName, type JobPayloads } from '../../queues/jobs.js';
import type { JobToEnqueue, JobTransport } from '../../queues/transport.js';
import { INSTANT_RULE, instantInServiceYears } from '../domain/service-years.js';
import { normalizeDateTime } from '../domain/time-zone.js';
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

/**
 * A unit's redelivery `since`, as the API and `npm run admin -- redeliver` take
 * it: a real date and time with its offset (`+08:00` or `+0800`; no 2026-02-30,
 * no bare date read as midnight UTC), in the service's years.
 */
export const REDELIVER_SINCE = z.preprocess(
  normalizeDateTime,
  z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time, e.g. 2026-12-01T00:00:00+08:00' }).refine(instantInServiceYears, INSTANT_RULE),
);

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
  const job = <K extends JobName>(name: K, payload: JobPayloads[K]) => {
    const entry = outboxEntry(name, payload);
    jobs.push({ ...entry, jobId: jobIdOf(entry) });
  };
  const perCase = new Map<string, { deliveries: string[]; posts: string[]; notifications: string[] }>();
  const of = (caseId: string) => {
    let entry = perCase.get(caseId);
    if (!entry) perCase.set(caseId, (entry = { deliveries: [], posts: [], notifications: [] }));
    return entry;
  };

  const counts = await deps.db.transaction().execute(async (trx) => {
    const q = failedSends(trx, scope);
    const [deliveries, posts, notices] = await Promise.all([q.deliveries.execute(), q.posts.execute(), q.notices.execute()]);

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
      // The channels that took the notice keep it; only the failed ones are tried again, with a fresh set of attempts.
      const settled = Object.fromEntries(Object.entries(parseJson<Record<string, string>>(n.channels, {})).filter(([, v]) => v === 'delivered'));
      await trx
        .updateTable('notifications')
        .set({ status: 'pending', sent_at: null, channels: Object.keys(settled).length > 0 ? JSON.stringify(settled) : null, attempts: 0 })
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

/**
 * What failed for good in the scope and can go out again: deliveries and
 * group posts of assignments the unit still holds on a case still open (a
 * case re-routed away or closed meanwhile is not sent again), and notices.
 */
function failedSends(db: Db, scope: RedeliverScope) {
  const held = (table: 'deliveries' | 'telegram_bureau_posts', statuses: readonly string[]) => (eb: ExpressionBuilder<Database, typeof table>) =>
    eb.exists(
      eb
        .selectFrom('assignments as a')
        .innerJoin('cases as c', 'c.id', 'a.case_id')
        .select('a.id')
        .whereRef('a.case_id', '=', `${table}.case_id`)
        .whereRef('a.unit_code', '=', `${table}.unit_code`)
        .where('a.status', 'in', [...statuses])
        .where('c.status', 'not in', ['closed', 'merged']),
    );
  let deliveries = db
    .selectFrom('deliveries')
    .select(['id', 'case_id', 'unit_code', 'channel'])
    .where('status', '=', 'failed')
    .where(held('deliveries', ['pending', 'accepted', 'replied']));
  let posts = db
    .selectFrom('telegram_bureau_posts')
    .select(['id', 'case_id', 'unit_code', 'round'])
    .where('status', '=', 'failed')
    .where(held('telegram_bureau_posts', ['pending']));
  let notices = db.selectFrom('notifications').select(['id', 'case_id', 'kind', 'channels']).where('status', '=', 'failed');
  if ('caseId' in scope) {
    deliveries = deliveries.where('case_id', '=', scope.caseId);
    posts = posts.where('case_id', '=', scope.caseId);
    notices = notices.where('case_id', '=', scope.caseId);
  } else {
    deliveries = deliveries.where('unit_code', '=', scope.unit);
    posts = posts.where('unit_code', '=', scope.unit);
    notices = notices.where('audience', '=', `unit:${scope.unit}`);
    if (scope.since) {
      deliveries = deliveries.where('last_attempt_at', '>=', scope.since);
      posts = posts.where('updated_at', '>=', scope.since);
      notices = notices.where('sent_at', '>=', scope.since);
    }
  }
  return { deliveries, posts, notices };
}

/** How many assignments and notices of a case failed for good and can go out again (what `redeliverFailed` would send). */
export async function countFailedSends(db: Kysely<Database>, caseId: string): Promise<number> {
  const q = failedSends(db, { caseId });
  const [deliveries, posts, notices] = await Promise.all([q.deliveries.execute(), q.posts.execute(), q.notices.execute()]);
  return deliveries.length + posts.length + notices.length;
}
