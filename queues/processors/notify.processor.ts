import { setTimeout as sleep } from 'node:timers/promises';
import { parseJson } from '../../db/repositories/db-types.js';
import { appendEvents } from '../../db/repositories/events.repository.js';
import { beginNoticeAttempt, followerOf, hadMergedReports, reporterNamesWithMerged } from '../../db/repositories/notifications.repository.js';
import { TelegramChatUnreachable, TelegramRateLimited, noticeText, type TelegramPush } from '../../src/telegram/push.js';
import { chatRatingOf, ratingKeyboard } from '../../src/telegram/rating.js';
import { langOf, type Lang } from '../../src/telegram/texts.js';
import type { JobContext, JobPayloads } from '../jobs.js';
import type { ProcessorDeps } from './processor-deps.js';
import { deliverUnitNotice } from './unit-notice.js';

/** How long a notice of a rating made in the chat waits in place for the answer to the press (it comes within moments). */
const RATING_ANSWER_WAIT_MS = 3000;

/** A 429 asking for at most this long is waited out in place; a longer one goes back to the queue. */
const INLINE_RETRY_AFTER_S = 10;

/**
 * notify: send one queued notification through its audience's channel.
 * Web reporters follow their case on the tracking page, which shows every
 * public event, so nothing is pushed to them; dispatchers read theirs on the
 * desk. Reporters who came through the Telegram bot are told in their chat;
 * bureaus and town offices through their webhook and Telegram group.
 */
export function createNotifyProcessor(deps: ProcessorDeps, telegram: TelegramPush | null = null) {
  return async function processNotify({ notificationId }: JobPayloads['notify'], jobCtx?: JobContext): Promise<string> {
    const n = await deps.db.selectFrom('notifications').selectAll().where('id', '=', notificationId).executeTakeFirst();
    if (!n) return 'skipped: no such notification';
    if (n.status !== 'pending') return `skipped: already ${n.status}`;
    // The attempt is the notice's own count, kept in the database, not the queue's: a job re-created by the reconciler
    // after its worker was killed twice (or lost by Redis) starts a fresh set of the queue's attempts, not of the notice's.
    const begun = await beginNoticeAttempt(deps.db, notificationId);
    if (begun === null) return 'skipped: settled meanwhile';
    const ctx = jobCtx && { ...jobCtx, attempt: Math.min(Math.max(jobCtx.attempt, begun), jobCtx.maxAttempts) };
    // Its last attempt got no outcome (its worker was killed during it): what is still owed fails now, unsent, as a
    // delivery's last attempt cut off does.
    const cutOff = jobCtx && begun > jobCtx.maxAttempts ? `attempt ${jobCtx.maxAttempts} got no outcome: its worker stopped during it` : undefined;
    const c = await deps.db.selectFrom('cases').select(['channel', 'tracking_code', 'round']).where('id', '=', n.case_id).executeTakeFirst();
    let status: 'sent' | 'skipped' | 'failed' | 'pending';
    let outcome: string;
    // The chat of a duplicate merged into the case, which follows it.
    const follower = n.audience.startsWith('chat:') ? n.audience.slice('chat:'.length) : null;
    if (telegram && c && (follower !== null || (n.audience === 'reporter' && c.channel === 'telegram'))) {
      const notice = { caseId: n.case_id, kind: n.kind, data: n.data, trackingCode: c.tracking_code, round: Number(c.round ?? 1) };
      const audience = follower !== null ? 'merged_reporter' : 'reporter';
      if (cutOff) {
        await recordFailure(deps, { id: notificationId, caseId: n.case_id, kind: n.kind, audience }, cutOff, jobCtx!.maxAttempts);
        return `failed: ${cutOff}`;
      }
      try {
        ({ status, outcome } = follower !== null ? await toFollower(deps, telegram, notice, follower) : await toTelegram(deps, telegram, notice, ctx));
      } catch (err) {
        // A chat that blocked the bot (or is gone) takes no retry: the notice fails at once. On the last attempt, any
        // failure. Either way it is marked failed and the case says so (a dispatcher can send it again), never left unseen.
        const unreachable = err instanceof TelegramChatUnreachable;
        if (unreachable || (ctx && ctx.attempt >= ctx.maxAttempts)) {
          await recordFailure(deps, { id: notificationId, caseId: n.case_id, kind: n.kind, audience }, (err as Error).message, ctx?.attempt ?? 1);
        }
        if (unreachable) return `failed: telegram chat unreachable (${err.message})`;
        throw err;
      }
    } else if (follower !== null) {
      status = 'skipped';
      outcome = 'skipped: no telegram bot to tell the reporter of a merged duplicate';
    } else if (n.audience === 'reporter') {
      // No pushing channel for this reporter: the tracking page is where they follow the case.
      status = 'skipped';
      outcome = `skipped: ${c?.channel ?? 'unknown'} reporters follow the tracking page`;
    } else if (n.audience.startsWith('unit:')) {
      ({ status, outcome } = await deliverUnitNotice(deps, telegram, n, ctx, cutOff));
    } else {
      status = 'sent';
      outcome = `recorded for ${n.audience}`;
      deps.logger.info({ caseId: n.case_id, audience: n.audience, kind: n.kind }, 'notification for staff');
    }
    // Still pending: a unit's webhook or group waits for its assignment, and the delivery's or post's settling sends the
    // notice again.
    if (status === 'pending') return outcome;
    await deps.db
      .updateTable('notifications')
      .set({ status, sent_at: deps.clock.now().toISOString() })
      .where('id', '=', notificationId)
      .where('status', '=', 'pending')
      .execute();
    return outcome;
  };
}

/** A notification's words for a resident's chat, in their language; null for a kind residents are not told about. */
function reporterNotice(
  deps: ProcessorDeps,
  n: { kind: string; data: string | null; trackingCode: string },
  lang: Lang,
  hiddenNames?: ReadonlyArray<string>,
): string | null {
  return noticeText({
    ...(hiddenNames ? { hiddenNames } : {}),
    kind: n.kind,
    data: parseJson<Record<string, unknown>>(n.data, {}),
    trackingCode: n.trackingCode,
    lang,
    district: deps.district,
    trackUrl: `${deps.publicUrl}/track/${n.trackingCode}`,
    timeZone: deps.district.file.district.timezone,
  });
}

async function recordFailure(deps: ProcessorDeps, n: { id: string; caseId: string; kind: string; audience: string }, error: string, attempts: number): Promise<void> {
  const at = deps.clock.now().toISOString();
  await deps.transactions.run(async (trx) => {
    const marked = await trx.updateTable('notifications').set({ status: 'failed', sent_at: at }).where('id', '=', n.id).where('status', '=', 'pending').executeTakeFirst();
    if (Number(marked.numUpdatedRows) === 0) return;
    await appendEvents(trx, [{ caseId: n.caseId, at, kind: 'notification_failed', data: { audience: n.audience, channel: 'telegram', notice: n.kind, attempts, error } }]);
  });
  deps.logger.error({ caseId: n.caseId, audience: n.audience, notice: n.kind, err: error }, 'telegram notice to the reporter failed for good');
}

/**
 * The notice, without rating buttons (only the case's own reporter rates
 * it), to the chat of a duplicate merged into the case, under the duplicate's
 * tracking code: the case's own is its reporter's key to its page and to
 * rating it. They are not the case's reporter: the reply reaches them with
 * the reporter's names masked.
 */
async function toFollower(
  deps: ProcessorDeps,
  telegram: TelegramPush,
  n: { caseId: string; kind: string; data: string | null },
  chatId: string,
): Promise<{ status: 'sent' | 'skipped'; outcome: string }> {
  const follower = await followerOf(deps.db, n.caseId, chatId);
  if (!follower) return { status: 'skipped', outcome: 'skipped: the chat follows no duplicate of this case' };
  // The case's reporter's names, and those of the other reports merged into it, which its answer may name too.
  const names = await reporterNamesWithMerged(deps.db, n.caseId);
  const text = reporterNotice(deps, { ...n, trackingCode: follower.trackingCode }, langOf(follower.language), names);
  if (!text) return { status: 'skipped', outcome: `skipped: residents are not told about ${n.kind}` };
  await sendToChat(telegram, chatId, text, {});
  return { status: 'sent', outcome: `sent to telegram: ${n.kind}, to the reporter of a merged duplicate` };
}

async function toTelegram(
  deps: ProcessorDeps,
  telegram: TelegramPush,
  n: { caseId: string; kind: string; data: string | null; trackingCode: string; round: number },
  ctx: JobContext | undefined,
): Promise<{ status: 'sent' | 'skipped'; outcome: string }> {
  // A status change the resident's own rating in the chat made: the bot answers the press by editing the reply's
  // message to say so (thanks, or handed back), so the chat is not told it a second time. A press never answered
  // (Telegram took neither the edit nor a message, and did not deliver the press again) is told by this notice, at
  // the last attempt.
  const rated = chatRatingOf(n.kind, n.data);
  if (rated) {
    const lastAttempt = ctx !== undefined && ctx.attempt >= ctx.maxAttempts;
    // (A notice queued before the round was named: its rating was answered as it was made.)
    const answered = rated.round === null || (await ratingAnswered(deps, n.caseId, rated.round, lastAttempt ? 0 : RATING_ANSWER_WAIT_MS));
    if (answered) return { status: 'skipped', outcome: `skipped: the chat that rated was told the case is ${n.kind} when it rated` };
    if (ctx && !lastAttempt) throw new Error('the press that rated the case has not been answered in the chat yet');
  }
  const link = await deps.db.selectFrom('telegram_reporters').select(['chat_id', 'language', 'code_sent_at']).where('case_id', '=', n.caseId).executeTakeFirst();
  if (!link) {
    // The bot links the chat right after the case is committed: give it a moment before giving up.
    if (ctx && ctx.attempt < ctx.maxAttempts) throw new Error('no telegram chat linked to this case yet');
    return { status: 'skipped', outcome: 'skipped: no telegram chat for this case' };
  }
  // A notice never comes before the tracking code (the bot's answer may be waiting out a 429, or be redelivered);
  // on the last attempt it goes anyway.
  if (link.code_sent_at === null && ctx && ctx.attempt < ctx.maxAttempts) throw new Error('the chat has not been given the tracking code yet');
  const lang = langOf(link.language);
  // The case's own reporter reads their own name as written; the reporters of the reports merged into it, masked: their
  // names kept, and those staff give one whose report kept none (与王小明的举报重复, 已回访王小明), as the tracking page does.
  const merged = (await hadMergedReports(deps.db, n.caseId)) ? await reporterNamesWithMerged(deps.db, n.caseId, { own: false }) : undefined;
  const text = reporterNotice(deps, n, lang, merged);
  if (!text) return { status: 'skipped', outcome: `skipped: residents are not told about ${n.kind}` };
  // The reply comes with the rating buttons (satisfied / basically / dissatisfied).
  const opts = n.kind === 'replied' ? { buttons: ratingKeyboard(lang, n.trackingCode, n.round) } : {};
  await sendToChat(telegram, link.chat_id, text, opts);
  return { status: 'sent', outcome: `sent to telegram: ${n.kind}` };
}

/**
 * Sends a message to a resident's chat, waiting out a short 429 in place. A
 * chat gone for the bot (TelegramChatUnreachable), a longer 429 and network
 * failures are thrown: the first fails the notice, the others go back to the
 * queue's backoff.
 */
async function sendToChat(
  telegram: TelegramPush,
  chatId: string,
  text: string,
  opts: Parameters<TelegramPush['send']>[2],
): Promise<void> {
  try {
    await telegram.send(chatId, text, opts);
  } catch (err) {
    if (!(err instanceof TelegramRateLimited) || err.retryAfterS > INLINE_RETRY_AFTER_S) throw err;
    await sleep(err.retryAfterS * 1000);
    await telegram.send(chatId, text, opts);
  }
}

/** Whether the chat that rated the round was told what its rating did, waiting up to waitMs for it. */
async function ratingAnswered(deps: ProcessorDeps, caseId: string, round: number, waitMs: number): Promise<boolean> {
  const until = Date.now() + waitMs;
  for (;;) {
    const rating = await deps.db.selectFrom('ratings').select('chat_told_at').where('case_id', '=', caseId).where('round', '=', round).executeTakeFirst();
    if (!rating || rating.chat_told_at !== null) return true;
    if (Date.now() >= until) return false;
    await sleep(200);
  }
}
