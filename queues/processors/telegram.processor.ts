import { appendEvents } from '../../db/repositories/events.repository.js';
import { releaseWaitingNotices } from '../../src/workflow/notifications.js';
import { nothingToPostTo, postAssignment } from '../../src/telegram/group-posts.js';
import { fetchReportPhotos, photoFetchFailed } from '../../src/telegram/photos.js';
import { chatGone } from '../../src/telegram/push.js';
import { PermanentJobError, type JobContext, type JobPayloads } from '../jobs.js';
import type { ProcessorDeps } from './processor-deps.js';

/**
 * telegram_post: post a new assignment to its bureau's Telegram group.
 * telegram_photos: download the photos of a Telegram report and keep them with the case.
 * Both do nothing (and say so) when the bot is not configured.
 */
export function createTelegramPostProcessor(deps: ProcessorDeps) {
  return async function processTelegramPost(payload: JobPayloads['telegram_post'], ctx?: JobContext): Promise<string> {
    const api = deps.telegram?.api;
    if (!api) {
      const outcome = await nothingToPostTo(deps, payload, 'skipped: the telegram bot is not configured');
      deps.kickOutbox();
      return outcome;
    }
    try {
      const outcome = await postAssignment({ db: deps.db, district: deps.district, clock: deps.clock, logger: deps.logger, photos: deps.photos, api }, payload, ctx);
      // Notices to the unit that waited for the post may have been released.
      deps.kickOutbox();
      return outcome;
    } catch (err) {
      // A group that removed the bot (or is gone) takes no retry: the post fails at once, and the dispatcher can send it
      // again once the bot is back in the group. Otherwise the last attempt: either way the post is marked failed and
      // the case says so, as for a bureau webhook.
      const gone = chatGone(err);
      if ((gone || (ctx && ctx.attempt >= ctx.maxAttempts)) && !payload.settled) await recordPostFailure(deps, payload, (err as Error).message, ctx?.attempt ?? 1);
      if (gone) throw new PermanentJobError((err as Error).message);
      throw err;
    }
  };
}

async function recordPostFailure(deps: ProcessorDeps, p: JobPayloads['telegram_post'], error: string, attempts: number): Promise<void> {
  const at = deps.clock.now().toISOString();
  await deps.transactions.run(async (trx) => {
    await trx
      .updateTable('telegram_bureau_posts')
      .set({ status: 'failed', updated_at: at })
      .where('case_id', '=', p.caseId)
      .where('unit_code', '=', p.unit)
      .where('round', '=', p.round)
      .where('status', '=', 'posting')
      .execute();
    // The post this job owed, since the unit was given the case again, is no longer on its way either: unless the unit
    // was given the case again since (a later re-route), whose own job still owes its post, and the notices made
    // since wait for that one. A first post's job owes no re-assignment's post.
    if (p.at !== undefined) {
      await trx
        .updateTable('telegram_bureau_posts')
        .set({ renewed_at: null })
        .where('case_id', '=', p.caseId)
        .where('unit_code', '=', p.unit)
        .where('round', '=', p.round)
        .where('renewed_at', '<=', new Date(p.at).toISOString())
        .execute();
    }
    await appendEvents(trx, [{ caseId: p.caseId, at, kind: 'delivery_failed', data: { unit: p.unit, channel: 'telegram', round: p.round, attempts, error } }]);
    // The notices that waited for the post fail in the group too, each recorded on the case.
    await releaseWaitingNotices(trx, p.caseId, p.unit, 'telegram', new Date(at));
  });
  deps.kickOutbox();
  deps.logger.error({ caseId: p.caseId, unit: p.unit, err: error }, 'telegram group post failed for good');
}

export function createTelegramPhotosProcessor(deps: ProcessorDeps) {
  return async function processTelegramPhotos(payload: JobPayloads['telegram_photos'], ctx?: JobContext): Promise<string> {
    const download = deps.telegram?.download?.bind(deps.telegram);
    const jobDeps = { db: deps.db, clock: deps.clock, logger: deps.logger, photos: deps.photos, download };
    try {
      return await fetchReportPhotos(jobDeps, payload, ctx);
    } catch (err) {
      // The last attempt: the fetch is marked failed and the chat told, never left pending unseen.
      if (!ctx || ctx.attempt >= ctx.maxAttempts) await photoFetchFailed(jobDeps, payload.caseId, (err as Error).message);
      throw err;
    }
  };
}
