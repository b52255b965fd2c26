import { postAssignment } from '../../src/telegram/group-posts.js';
import { fetchReportPhotos } from '../../src/telegram/photos.js';
import type { JobContext, JobPayloads } from '../jobs.js';
import type { ProcessorDeps } from './processor-deps.js';

/**
 * telegram_post: post a new assignment to its bureau's Telegram group.
 * telegram_photos: download the photos of a Telegram report and keep them with the case.
 * Both do nothing (and say so) when the bot is not configured.
 */
export function createTelegramPostProcessor(deps: ProcessorDeps) {
  return async function processTelegramPost(payload: JobPayloads['telegram_post'], ctx?: JobContext): Promise<string> {
    const api = deps.telegram?.api;
    if (!api) return 'skipped: the telegram bot is not configured';
    return postAssignment({ db: deps.db, district: deps.district, clock: deps.clock, logger: deps.logger, photos: deps.photos, api }, payload, ctx);
  };
}

export function createTelegramPhotosProcessor(deps: ProcessorDeps) {
  return async function processTelegramPhotos(payload: JobPayloads['telegram_photos'], ctx?: JobContext): Promise<string> {
    const download = deps.telegram?.download?.bind(deps.telegram);
    return fetchReportPhotos({ db: deps.db, clock: deps.clock, logger: deps.logger, photos: deps.photos, download }, payload, ctx);
  };
}
