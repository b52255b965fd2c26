import type { Kysely } from 'kysely';
import { currentLead, listAssignments, stintOf } from '../../db/repositories/assignments.repository.js';
import { findCaseByTrackingCode } from '../../db/repositories/cases.repository.js';
import { listDeliveries, renewUndelivered } from '../../db/repositories/deliveries.repository.js';
import { addToOutbox } from '../../db/repositories/outbox.repository.js';
import { outboxEntry } from '../../queues/jobs.js';
import { bool, isUniqueViolation, type Db } from '../../db/repositories/db-types.js';
import type { Database } from '../../db/schema.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import type { Case, CaseStatus } from '../domain/case.js';
import { newId } from '../domain/ids.js';
import { type District, unitName } from '../district/district.schema.js';
import { AppError, refused } from '../errors.js';
import type { WorkCalendar } from '../pipeline/deadlines.js';
import { reopenDeadlines, wakeUpsFor } from './deadline-check.js';
import { queueBureauPosts } from '../telegram/post-queue.js';
import { queueClosedNotices, queueNotification, queueReopenedToLeadNotices, scheduleDeadlineChecks } from './notifications.js';
import { moveCase, REPORTER } from './transition.js';

/**
 * The reporter closes the loop (回访): after the reply they rate it, once per
 * handling round. Satisfied or basically satisfied closes the case;
 * dissatisfied hands it back to the lead bureau with shorter deadlines (重办).
 */

export const RATINGS = ['satisfied', 'basic', 'dissatisfied'] as const;
export type RatingValue = (typeof RATINGS)[number];

const RATING_ZH: Record<RatingValue, string> = { satisfied: '满意', basic: '基本满意', dissatisfied: '不满意' };

export interface Rating {
  caseId: string;
  round: number;
  rating: RatingValue;
  solved: boolean;
  channel: string;
  at: string;
}

export interface RateInput {
  trackingCode: string;
  rating: RatingValue;
  solved: boolean;
  comment?: string | null;
  /** Where the rating came from: 'web' (tracking page), 'telegram', a hotline call-back… */
  channel: string;
  /**
   * The answer rated, as the reporter was shown it: the lead's reply's time (`reply.at` of the public view, as
   * `toISOString` writes it). When the bureau answered again since, nothing is rated (a `conflict` naming `answer`):
   * a rating sent after a newer answer came must not rate that one unread. Absent, the current answer is rated.
   */
  answer?: string | null | undefined;
}

/** The field of a rating's refusal that says the answer it rated is not the current one. */
export const ANSWER_NOT_CURRENT = 'not the current answer: the bureau has answered again since; read the new answer and rate that one';

export interface RateOutcome {
  caseId: string;
  trackingCode: string;
  status: CaseStatus;
  round: number;
  rating: Rating;
  /** The lead bureau's new deadlines when the case was reopened. */
  deadlines: { signBy: string; replyBy: string } | null;
}

/**
 * The log line of a rating, on every channel: the request line names only the
 * tracking code, this one the case that was closed or reopened (no comment, no reporter).
 */
export function logRated(logger: Pick<Logger, 'info'>, outcome: RateOutcome, context: { reqId?: string | undefined; channel: string }): void {
  logger.info(
    { ...(context.reqId ? { reqId: context.reqId } : {}), channel: context.channel, caseId: outcome.caseId, rating: outcome.rating.rating, status: outcome.status, round: outcome.round },
    'case rated',
  );
}

/**
 * When the time to rate the case's answer ended, if it has by `at`: a replied
 * case past its window, or one closed for want of a rating (a page left open,
 * the deadline sweep first) — either is told that, with when. Null otherwise.
 */
export function ratingEndedAt(c: Pick<Case, 'status' | 'closeReason' | 'deadlines'>, at: string): string | null {
  const rateBy = c.deadlines.rateBy;
  if (!rateBy) return null;
  if (c.status === 'closed') return c.closeReason === 'not_rated' ? rateBy : null;
  return c.status === 'replied' && rateBy <= at ? rateBy : null;
}

export async function rateCase(
  deps: { db: Kysely<Database>; clock: Clock; district: District; calendar: WorkCalendar },
  input: RateInput,
): Promise<RateOutcome> {
  const now = deps.clock.now();
  const at = now.toISOString();
  try {
    return await deps.db.transaction().execute(async (trx) => {
      const c = await findCaseByTrackingCode(trx, input.trackingCode);
      if (!c) throw new AppError('not_found', 'no case with this tracking code', { trackingCode: 'no case with this code' });
      const already = await trx
        .selectFrom('ratings')
        .select('id')
        .where('case_id', '=', c.id)
        .where('round', '=', c.round)
        .executeTakeFirst();
      if (already) throw refused('illegal_transition', 'this reply has already been rated; a case is rated once per reply', { reason: 'already_rated' });
      const ended = ratingEndedAt(c, at);
      if (ended) throw refused('illegal_transition', `the rating window closed at ${ended}`, { reason: 'rating_closed', rateBy: ended });
      if (c.status !== 'replied') {
        throw refused('illegal_transition', `only a replied case can be rated; this case is ${c.status}`, { reason: 'rate_not_replied', status: c.status });
      }
      if (input.answer) {
        const answeredAt = currentLead(await listAssignments(trx, c.id))?.repliedAt ?? null;
        if (answeredAt !== input.answer) {
          throw new AppError('conflict', `the answer rated (${input.answer}) is not the current answer${answeredAt ? ` (${answeredAt})` : ''}`, { answer: ANSWER_NOT_CURRENT });
        }
      }

      const rating: Rating = { caseId: c.id, round: c.round, rating: input.rating, solved: input.solved, channel: input.channel, at };
      await trx
        .insertInto('ratings')
        .values({
          id: newId(),
          case_id: c.id,
          round: c.round,
          rating: input.rating,
          solved: bool(input.solved),
          comment: input.comment ?? null,
          channel: input.channel,
          created_at: at,
          chat_told_at: null,
        })
        .execute();
      // The comment stays in the ratings table: free text may identify the reporter.
      const data = { rating: input.rating, solved: input.solved, round: c.round, channel: input.channel };

      if (input.rating !== 'dissatisfied') {
        await moveCase(trx, c, 'closed', {
          actor: REPORTER,
          at,
          reason: 'rated',
          note: `评价：${RATING_ZH[input.rating]}（${input.solved ? '已解决' : '未解决'}），办结`,
          data,
          changes: { closed_at: at, close_reason: 'rated' },
        });
        // The reporter's notice names the channel and the round rated: a chat that rated is answered as it rated.
        await queueNotification(
          trx,
          { caseId: c.id, audience: 'reporter', kind: 'closed', data: { reason: 'rated', rating: input.rating, ratedVia: input.channel, ratedRound: c.round } },
          now,
        );
        await queueClosedNotices(trx, c.id, { reason: 'rated', rating: input.rating, solved: input.solved, round: c.round }, now);
        return { caseId: c.id, trackingCode: c.trackingCode, status: 'closed', round: c.round, rating, deadlines: null };
      }

      const lead = currentLead(await listAssignments(trx, c.id));
      if (!lead) throw refused('illegal_transition', 'the case has no lead bureau to hand it back to', { reason: 'no_lead_to_reopen' });
      const round = c.round + 1;
      const deadlines = reopenDeadlines(deps.district, deps.calendar, c.typeCode, c.urgent, now);
      await moveCase(trx, c, 'reopened', {
        actor: REPORTER,
        at,
        reason: 'dissatisfied',
        note: `评价：不满意（${input.solved ? '已解决' : '未解决'}），已退回${unitName(deps.district, lead.unitCode)}重新办理`,
        // The round that ends here, as the lead's assignment had it: the statistics still count that work.
        data: {
          ...data,
          lead: lead.unitCode,
          deadlines,
          previousRound: stintOf(lead),
        },
        changes: {
          round,
          sign_deadline_at: deadlines.signBy,
          reply_deadline_at: deadlines.replyBy,
          rate_deadline_at: null,
          overdue: 0,
          // A new round starts unsupervised, as the lead's assignment does (督办 is once per unit and round): the mark of
          // the round that ended would show a 督办 nobody made on this one.
          supervised_at: null,
        },
      });
      await resetLeadAssignment(trx, lead.id, round, deadlines, at);
      // The others that answered keep their part as done; they are told the case is open again, at the lead.
      await queueReopenedToLeadNotices(trx, c.id, { lead: lead.unitCode, round, solved: input.solved }, now);
      // The lead's group sees the case again, for the new round.
      await queueBureauPosts(trx, deps.district, c.id, [lead.unitCode], round, now);
      await queueNotification(trx, { caseId: c.id, audience: 'reporter', kind: 'reopened', data: { round, ratedVia: input.channel, ratedRound: c.round } }, now);
      // A lead whose server never took the assignment (its delivery failed for good) gets it now, for the new round,
      // with a fresh set of attempts, rather than a notice reopening a case its system does not know.
      const undelivered = (await listDeliveries(trx, c.id)).find((d) => d.unitCode === lead.unitCode && d.status === 'failed' && deps.district.units.get(d.unitCode)?.webhook);
      if (undelivered) {
        await renewUndelivered(trx, [undelivered.id]);
        await addToOutbox(trx, [outboxEntry('dispatch', { caseId: c.id, unit: lead.unitCode, channel: 'webhook' })], now);
      } else {
        await queueNotification(trx, { caseId: c.id, audience: `unit:${lead.unitCode}`, kind: 'reopened', data: { round, deadlines } }, now);
      }
      await scheduleDeadlineChecks(trx, c.id, wakeUpsFor(deps.district, deps.calendar, deadlines), now);
      return { caseId: c.id, trackingCode: c.trackingCode, status: 'reopened', round, rating, deadlines };
    });
  } catch (err) {
    // Two ratings racing for the same round: the unique (case_id, round) decides.
    if (isUniqueViolation(err)) throw refused('illegal_transition', 'this reply has already been rated; a case is rated once per reply', { reason: 'already_rated' });
    throw err;
  }
}

/**
 * The lead's assignment starts the new round: pending again with the new
 * deadlines, and the marks of the previous round cleared (the events keep
 * them). Co-handlers keep their state: their part was done.
 */
async function resetLeadAssignment(db: Db, id: string, round: number, deadlines: { signBy: string; replyBy: string }, at: string): Promise<void> {
  await db
    .updateTable('assignments')
    .set({
      status: 'pending',
      round,
      sign_deadline_at: deadlines.signBy,
      reply_deadline_at: deadlines.replyBy,
      accepted_at: null,
      accepted_by: null,
      replied_at: null,
      replied_by: null,
      reply_text: null,
      sign_overdue_at: null,
      reply_overdue_at: null,
      supervised_at: null,
      updated_at: at,
    })
    .where('id', '=', id)
    .execute();
}


/** The latest rating of a case, for the public view. */
export async function latestRating(db: Db, caseId: string): Promise<{ rating: RatingValue; solved: boolean; at: string; round: number } | null> {
  const row = await db
    .selectFrom('ratings')
    .select(['rating', 'solved', 'created_at', 'round'])
    .where('case_id', '=', caseId)
    .orderBy('round', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row ? { rating: row.rating as RatingValue, solved: Number(row.solved) === 1, at: row.created_at, round: Number(row.round) } : null;
}

/**
 * The case's latest rating when it is `input` — the same choices and comment — made at or after `since` (the answer
 * it rated): the rating sent again (a resend after an answer lost on the way, going back and sending the form again,
 * a page refreshed, an app's retry). The rating made the first time stands, and the resident is told what it did
 * rather than that the answer was rated already. Null otherwise.
 */
export async function sameRatingSince(
  db: Db,
  caseId: string,
  input: Pick<RateInput, 'rating' | 'solved' | 'comment'>,
  since: string,
): Promise<{ rating: RatingValue; solved: boolean; at: string; round: number } | null> {
  const row = await db
    .selectFrom('ratings')
    .select(['rating', 'solved', 'comment', 'created_at', 'round'])
    .where('case_id', '=', caseId)
    .orderBy('round', 'desc')
    .limit(1)
    .executeTakeFirst();
  if (!row || row.created_at < since) return null;
  const solved = Number(row.solved) === 1;
  if (row.rating !== input.rating || solved !== input.solved || (row.comment ?? null) !== (input.comment ?? null)) return null;
  return { rating: row.rating as RatingValue, solved, at: row.created_at, round: Number(row.round) };
}

/**
 * What a rating sent again did, as the case stands now: the case's latest rating is the same as `input` and no
 * answer came after it (the case's answer is the one it rated) — or, with `input.answer`, it was made after that
 * answer (the bureau may have answered again since: the retry rates nothing). Closed by it, or reopened into the next round with
 * that round's deadlines. Null when it is not the same rating, or a newer answer waits for one.
 */
export async function ratingSentAgain(
  db: Db,
  trackingCode: string,
  input: Pick<RateInput, 'rating' | 'solved' | 'comment' | 'answer'>,
): Promise<Omit<RateOutcome, 'caseId' | 'rating'> & { rating: Pick<Rating, 'rating' | 'solved' | 'at'> } | null> {
  const c = await findCaseByTrackingCode(db, trackingCode);
  // Sent with the answer it rated, the rating made since that answer, even when the bureau answered again after it.
  const since = input.answer || c?.repliedAt;
  if (!c || !since) return null;
  const same = await sameRatingSince(db, c.id, input, since);
  if (!same) return null;
  const { signBy, replyBy } = c.deadlines;
  const reopened = c.round > same.round && signBy !== null && replyBy !== null;
  return {
    trackingCode: c.trackingCode,
    status: c.status,
    round: c.round,
    rating: { rating: same.rating, solved: same.solved, at: same.at },
    deadlines: reopened ? { signBy, replyBy } : null,
  };
}
