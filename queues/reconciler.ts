import type { Kysely } from 'kysely';
import { pruneActionKeys } from '../db/repositories/action-keys.repository.js';
import type { PruneOptions } from '../db/repositories/batched-delete.js';
import { pruneIdempotencyKeys } from '../db/repositories/idempotency.repository.js';
import { pruneSignIns } from '../db/repositories/web-sessions.repository.js';
import { listStaleCases } from '../db/repositories/cases.repository.js';
import { listStalePendingDeliveries } from '../db/repositories/deliveries.repository.js';
import { listOwedGroupPosts, listStalePendingNotifications, listStalePhotoFetches } from '../db/repositories/notifications.repository.js';
import { outboxSize } from '../db/repositories/outbox.repository.js';
import type { Database } from '../db/schema.js';
import type { Clock } from '../src/clock.js';
import type { District } from '../src/district/district.schema.js';
import { WORKING } from '../src/domain/case.js';
import type { Logger } from '../src/logger.js';
import type { WorkCalendar } from '../src/pipeline/deadlines.js';
import { pruneTelegramState } from '../src/telegram/chat-lock.js';
import {
  checkDeadlines,
  dueTimers,
  futureWakeUps,
  remindersSent,
} from '../src/workflow/deadline-check.js';
import { jobId, jobIdOf, outboxEntry, type JobName, type JobPayloads } from './jobs.js';
import type { JobTransport } from './transport.js';

/**
 * The safety net under the outbox: if Redis lost jobs (restarted without
 * persistence, flushed, failed over), the database still says which cases
 * are not where they should be. Every case still `received`, every
 * delivery and notification still pending, every Telegram group post still
 * owed and every Telegram report's photos still to be fetched, past a grace
 * period, gets its job back.
 */
export interface ReconcileResult extends RequeueResult, PruneResult {
  /** Cases whose due timers the deadline sweep applied. */
  deadlines: number;
  /** Deadline wake-up jobs the sweep had to re-create. */
  wakeUps: number;
}

export interface Reconciler {
  runOnce(): Promise<ReconcileResult>;
  stop(): Promise<void>;
}

export function createReconciler(opts: {
  db: Kysely<Database>;
  transport: JobTransport;
  clock: Clock;
  logger: Logger;
  intervalMs: number;
  graceMs: number;
  batchSize?: number;
  /** Enables the deadline sweep (timers are computed from the district file and its calendar). */
  district?: District;
  calendar?: WorkCalendar;
  /** Units whose Telegram group gets their assignments (empty when the bot is not configured). */
  groupUnits?: readonly string[];
}): Reconciler {
  const batchSize = opts.batchSize ?? 1000;
  let running: Promise<ReconcileResult> | null = null;
  let stopped = false;

  async function reconcile(): Promise<ReconcileResult> {
    // Deadlines fall due whether or not Redis answers: the sweep runs even
    // when re-enqueueing failed (its notifications wait in the outbox).
    const jobs = await reconcileJobs().then(
      (value) => ({ value, error: null }),
      (error: unknown) => ({ value: null, error }),
    );
    let swept = { deadlines: 0, wakeUps: 0 };
    if (opts.district && opts.calendar && !stopped) {
      const { district, calendar } = opts;
      const result = await sweepDeadlines({ ...opts, district, calendar }, opts.clock.now(), {
        batchSize,
        // Wake-ups further ahead are re-created by a later pass; whatever falls due is applied by a pass anyway.
        ensureWithinMs: 4 * opts.intervalMs,
      });
      swept = { deadlines: result.checked.length, wakeUps: result.wakeUpsAdded };
    }
    // Batches of the reconciler's batch size, 50 at most a pass: a large backlog goes over a few passes.
    const pruned = await pruneKeptRows(opts.db, opts.clock.now(), { batchSize, stopped: () => stopped });
    // What went is said, as the Workers cron's 'scheduled sweep' line says it; a pass that found nothing says nothing.
    if (Object.values(pruned).some((n) => n > 0)) opts.logger.info(pruned, 'reconciler pruned kept rows');
    if (!jobs.value) throw jobs.error;
    return { ...jobs.value, ...swept, ...pruned };
  }

  function reconcileJobs(): Promise<RequeueResult> {
    return requeueLostJobs(opts, opts.clock.now(), {
      graceMs: opts.graceMs,
      batchSize,
      stopped: () => stopped,
      notifications: true,
      groupUnits: opts.groupUnits ?? [],
    });
  }

  function runOnce(): Promise<ReconcileResult> {
    if (!running) {
      running = reconcile().finally(() => {
        running = null;
      });
    }
    return running;
  }

  const safeRun = () => {
    if (stopped) return;
    runOnce().catch((err: Error) => opts.logger.debug({ err: err.message }, 'reconciler pass skipped'));
  };
  const timer = setInterval(safeRun, opts.intervalMs);
  timer.unref();
  // A reconnect may follow a Redis restart that lost every job.
  opts.transport.onReady(safeRun);

  return {
    runOnce,
    async stop() {
      stopped = true;
      clearInterval(timer);
      if (running) await running.catch(() => undefined);
    },
  };
}

/** What `pruneKeptRows` deleted, table by table. */
export interface PruneResult {
  /** Units' action keys deleted as older than their retention (KEEP_ACTION_KEYS_MS). */
  actionKeysPruned: number;
  /** Submissions' idempotency keys deleted as older than their retention (KEEP_IDEMPOTENCY_KEYS_MS). */
  idempotencyKeysPruned: number;
  /** The Telegram bot's rows deleted as past their time (pruneTelegramState: update ids, leases, link tokens, drafts, edits). */
  telegramStatePruned: number;
  /** Web sign-in attempts, and sessions that ended, deleted as older than a day (KEEP_SIGN_INS_MS). */
  signInAttemptsPruned: number;
  sessionsPruned: number;
}

/**
 * The rows kept past their time, deleted by the periodic sweeps (the reconciler's pass, the Workers cron) rather than
 * on a request's path, each table in `opts`' batches: the answers kept for the units' retries and the keys of reports
 * and 督办 once no retry needs them (they may hold a reporter's contact); the bot's handled update ids, expired leases
 * and link tokens, stale drafts and answered edits, which an update's handling never waits on; sign-in attempts and
 * ended sessions over a day old, which failed guesses alone never reached when a sign-in pruned them.
 */
export async function pruneKeptRows(db: Kysely<Database>, now: Date, opts: PruneOptions): Promise<PruneResult> {
  const actionKeysPruned = await pruneActionKeys(db, now, opts);
  const idempotencyKeysPruned = await pruneIdempotencyKeys(db, now, opts);
  const telegramStatePruned = (await pruneTelegramState(db, now, opts)).deleted;
  const signIns = await pruneSignIns(db, now, opts);
  return { actionKeysPruned, idempotencyKeysPruned, telegramStatePruned, signInAttemptsPruned: signIns.attempts, sessionsPruned: signIns.sessions };
}

export interface RequeueResult {
  intake: number;
  dispatch: number;
  notify: number;
  telegramPost: number;
  telegramPhotos: number;
}

/**
 * Every case still `received`, every delivery and notification still
 * pending, every group post still owed and every Telegram report's photo
 * fetch still pending, past the grace period, gets its
 * job back (`ensure`: added when missing, retried when it failed for good).
 * Skipped while the outbox holds a backlog: those jobs are about to be
 * created. Notifications and group posts only where asked (a transport that
 * cannot tell a queued job from a missing one would send them twice).
 */
export async function requeueLostJobs(
  deps: { db: Kysely<Database>; transport: JobTransport; logger: Logger },
  now: Date,
  opts: { graceMs: number; batchSize?: number; stopped?: () => boolean; notifications?: boolean; groupUnits?: readonly string[] },
): Promise<RequeueResult> {
  const batchSize = opts.batchSize ?? 1000;
  const result: RequeueResult = { intake: 0, dispatch: 0, notify: 0, telegramPost: 0, telegramPhotos: 0 };
  // While the outbox still holds entries the relay has not moved, those
  // cases are not lost; their jobs are about to be created.
  if ((await outboxSize(deps.db)) > batchSize) return result;
  const olderThan = new Date(now.getTime() - opts.graceMs).toISOString();
  const ensure = async <K extends JobName>(name: K, payload: JobPayloads[K], key: keyof RequeueResult) => {
    const entry = outboxEntry(name, payload);
    if ((await deps.transport.ensure({ ...entry, jobId: jobIdOf(entry) })) !== 'present') result[key] += 1;
  };
  // Every page of each kind in one pass (a Redis that lost 100,000 jobs gets them all back at once), until stopped.
  const eachPage = async <T>(list: (afterId?: string) => Promise<T[]>, idOf: (row: T) => string, each: (row: T) => Promise<void>) => {
    let afterId: string | undefined;
    for (;;) {
      const rows = await list(afterId);
      for (const row of rows) await each(row);
      if (rows.length < batchSize || opts.stopped?.()) return;
      afterId = idOf(rows[rows.length - 1]!);
    }
  };
  await eachPage(
    (after) => listStaleCases(deps.db, 'received', olderThan, batchSize, after),
    (c) => c.id,
    (c) => ensure('intake', { caseId: c.id }, 'intake'),
  );
  await eachPage(
    (after) => listStalePendingDeliveries(deps.db, olderThan, batchSize, after),
    (d) => d.id,
    (d) => ensure('dispatch', { caseId: d.caseId, unit: d.unitCode, channel: d.channel }, 'dispatch'),
  );
  if (opts.notifications) {
    await eachPage(
      (after) => listStalePendingNotifications(deps.db, olderThan, batchSize, after),
      (n) => n.notificationId,
      (n) => ensure('notify', n, 'notify'),
    );
  }
  await eachPage(
    (after) => listOwedGroupPosts(deps.db, opts.groupUnits ?? [], olderThan, batchSize, after),
    (p) => p.assignmentId,
    (p) => ensure('telegram_post', p.post, 'telegramPost'),
  );
  // The photos of a Telegram report: nothing else would fetch them once their job is gone (the job is idempotent).
  await eachPage(
    (after) => listStalePhotoFetches(deps.db, olderThan, batchSize, after),
    (caseId) => caseId,
    (caseId) => ensure('telegram_photos', { caseId }, 'telegramPhotos'),
  );
  const { intake, dispatch, notify, telegramPost, telegramPhotos } = result;
  if (intake + dispatch + notify + telegramPost + telegramPhotos > 0) deps.logger.warn(result, 'reconciler re-enqueued lost jobs');
  return result;
}

export interface SweepDeps {
  db: Kysely<Database>;
  clock: Clock;
  district: District;
  calendar: WorkCalendar;
  /** Without a transport the sweep only applies what is due (e.g. a Workers cron with its own queue). */
  transport?: JobTransport;
  logger?: Logger;
}

export interface SweepResult {
  /** Cases on which something was due and applied. */
  checked: string[];
  /** What was applied, as checkDeadlines reports it. */
  actions: string[];
  /** Future wake-up jobs that were missing (or had failed) and were re-created. */
  wakeUpsAdded: number;
  /** Open assignments the pass read: those with a timer due or within the wake-up window. */
  assignmentsRead: number;
}

/**
 * The deadline timers' safety net. BullMQ delays run on real time and die
 * with Redis, so each pass (1) applies whatever is due at `now` and not done
 * yet — a reminder, an overdue mark, supervision, or the end of a rating
 * window — on every open case, and (2) makes sure each open case's next wake-up
 * job exists, so timers lost with Redis come back (one Redis round trip per
 * open case and pass). Both are
 * idempotent: the database says what has been done.
 */
export async function sweepDeadlines(
  deps: SweepDeps,
  now: Date,
  opts: { batchSize?: number; ensureWithinMs?: number } = {},
): Promise<SweepResult> {
  const batchSize = opts.batchSize ?? 1000;
  const at = now.toISOString();
  const remindBeforeMs = deps.district.file.supervision.remindBeforeHours * 3_600_000;
  // Nothing can be due on an assignment before its reminder instant.
  const horizon = new Date(now.getTime() + remindBeforeMs).toISOString();
  // Wake-ups are ensured only up to this instant (all of them without a window), so
  // rows whose every timer lies beyond it are not read at all: a pass costs what is
  // near, not the whole open backlog. Every timer of an assignment is at or after its
  // reminder (deadline minus remindBefore); a rating window's only timer is its end.
  const ensureMs = deps.transport ? (opts.ensureWithinMs ?? Number.POSITIVE_INFINITY) : 0;
  const until = Number.isFinite(ensureMs) ? new Date(now.getTime() + ensureMs + remindBeforeMs).toISOString() : null;
  const rateUntil = Number.isFinite(ensureMs) ? new Date(now.getTime() + ensureMs).toISOString() : null;

  const dueCases = new Set<string>();
  // The next wake-up of each case. Only the next one is ensured: whatever
  // falls due later is applied by a pass of this sweep at the latest, and the
  // pass after the next wake-up ensures the one after it.
  const nextWakeUp = new Map<string, string>();
  const addWakeUp = (caseId: string, instant: string) => {
    const current = nextWakeUp.get(caseId);
    if (!current || instant < current) nextWakeUp.set(caseId, instant);
  };

  // Replies waiting for a rating: closing when the window is over, or a wake-up at its end.
  let afterCase: string | undefined;
  for (;;) {
    let q = deps.db
      .selectFrom('cases')
      .select(['id', 'rate_deadline_at'])
      .where('status', '=', 'replied')
      .where('rate_deadline_at', 'is not', null);
    if (rateUntil !== null) q = q.where('rate_deadline_at', '<=', rateUntil);
    if (afterCase) q = q.where('id', '>', afterCase);
    const rows = await q.orderBy('id').limit(batchSize).execute();
    for (const r of rows) {
      if (r.rate_deadline_at! <= at) dueCases.add(r.id);
      else addWakeUp(r.id, r.rate_deadline_at!);
    }
    if (rows.length < batchSize) break;
    afterCase = rows[rows.length - 1]!.id;
  }

  // Assignments running against a deadline.
  let afterAssignment: string | undefined;
  let assignmentsRead = 0;
  for (;;) {
    let q = deps.db
      .selectFrom('assignments as a')
      .innerJoin('cases as c', 'c.id', 'a.case_id')
      .select([
        'a.id',
        'a.case_id',
        'a.unit_code',
        'a.status',
        'a.sign_deadline_at',
        'a.reply_deadline_at',
        'a.sign_overdue_at',
        'a.reply_overdue_at',
        'a.supervised_at',
        'a.updated_at',
      ])
      .where('c.status', 'in', WORKING)
      .where('a.status', 'in', ['pending', 'accepted']);
    if (until !== null) {
      q = q.where((eb) =>
        eb.or([eb.and([eb('a.status', '=', 'pending'), eb('a.sign_deadline_at', '<=', until)]), eb('a.reply_deadline_at', '<=', until)]),
      );
    }
    if (afterAssignment) q = q.where('a.id', '>', afterAssignment);
    const rows = await q.orderBy('a.id').limit(batchSize).execute();
    assignmentsRead += rows.length;
    const assignments = rows.map((r) => ({
      caseId: r.case_id,
      unitCode: r.unit_code,
      status: r.status as 'pending' | 'accepted',
      deadlines: { signBy: r.sign_deadline_at, replyBy: r.reply_deadline_at },
      signOverdueAt: r.sign_overdue_at,
      replyOverdueAt: r.reply_overdue_at,
      supervisedAt: r.supervised_at,
      updatedAt: r.updated_at,
    }));
    const near = assignments.filter(
      (a) =>
        (a.status === 'pending' && a.deadlines.signBy !== null && a.deadlines.signBy <= horizon) ||
        (a.deadlines.replyBy !== null && a.deadlines.replyBy <= horizon),
    );
    const reminded = await remindersSent(deps.db, [...new Set(near.map((a) => a.caseId))]);
    for (const a of near) {
      if (dueTimers(deps.district, deps.calendar, a, now, reminded).length > 0) dueCases.add(a.caseId);
    }
    for (const a of assignments) {
      for (const instant of futureWakeUps(deps.district, deps.calendar, a, now)) addWakeUp(a.caseId, instant);
    }
    if (rows.length < batchSize) break;
    afterAssignment = rows[rows.length - 1]!.id;
  }

  const checked: string[] = [];
  const actions: string[] = [];
  for (const caseId of dueCases) {
    try {
      const done = await checkDeadlines(deps, caseId, now);
      if (done.length > 0) {
        checked.push(caseId);
        actions.push(...done.map((d) => `${caseId}: ${d}`));
      }
    } catch (err) {
      // A staff action on the same case won the race; the next pass sees the new state.
      deps.logger?.debug({ caseId, err: (err as Error).message }, 'deadline sweep skipped a case');
    }
  }

  let wakeUpsAdded = 0;
  if (deps.transport) {
    try {
      const limit = opts.ensureWithinMs === undefined ? null : new Date(now.getTime() + opts.ensureWithinMs).toISOString();
      for (const [caseId, instant] of nextWakeUp) {
        if (limit !== null && instant > limit) continue;
        const payload = { caseId, at: instant };
        const outcome = await deps.transport.ensure({ name: 'deadline', jobId: jobId.deadline(payload), payload, runAt: new Date(instant) });
        if (outcome !== 'present') wakeUpsAdded += 1;
      }
    } catch (err) {
      // Redis is away: the due timers were applied above; wake-ups are re-created on the next pass.
      deps.logger?.debug({ err: (err as Error).message }, 'deadline wake-ups not ensured');
    }
  }
  if (checked.length + wakeUpsAdded > 0) deps.logger?.info({ cases: checked.length, wakeUpsAdded }, 'deadline sweep');
  return { checked, actions, wakeUpsAdded, assignmentsRead };
}
