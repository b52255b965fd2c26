import { createHash } from 'node:crypto';
import { fileTypeFromBuffer } from 'file-type';
import type { Api } from 'grammy';
import type { Kysely } from 'kysely';
import { insertAttachments, type Attachment } from '../../db/repositories/attachments.repository.js';
import type { Db } from '../../db/repositories/db-types.js';
import { appendEvents } from '../../db/repositories/events.repository.js';
import { addToOutbox } from '../../db/repositories/outbox.repository.js';
import { queueNotification } from '../workflow/notifications.js';
import type { Database } from '../../db/schema.js';
import { outboxEntry, type JobContext, type JobPayloads } from '../../queues/jobs.js';
import type { Clock } from '../clock.js';
import { newId } from '../domain/ids.js';
import type { PhotoInput } from '../intake/accept-report.js';
import type { Logger } from '../logger.js';
import type { PhotoStore } from '../storage/photo-store.js';
import { IMAGE_TYPES, MAX_PHOTO_BYTES } from '../intake/limits.js';
import { withoutMetadata } from '../intake/photo-metadata.js';

/**
 * Photos of a Telegram report are downloaded by the `telegram_photos` job,
 * not in the webhook: the resident gets the tracking code at once, and the
 * files (getFile, then the file endpoint) follow a moment later.
 */


/** Records the photos to fetch and queues the job, next to the case just created. */
export async function queuePhotoFetch(db: Db, caseId: string, fileIds: readonly string[], now: Date): Promise<void> {
  if (fileIds.length === 0) return;
  await db
    .insertInto('telegram_photo_fetches')
    .values({ case_id: caseId, file_ids: JSON.stringify(fileIds), status: 'pending', created_at: now.toISOString(), done_at: null })
    .onConflict((oc) => oc.column('case_id').doNothing())
    .execute();
  await addToOutbox(db, [outboxEntry('telegram_photos', { caseId })], now);
}

/**
 * getFile, then the file endpoint of the same Bot API server. Null for a file
 * that is not a photo, or is larger than a photo of the web form may be
 * (a self-hosted Bot API server hands out files of any size).
 */
export async function downloadPhoto(api: Api, apiRoot: string, token: string, fileId: string): Promise<PhotoInput | null> {
  const file = await api.getFile(fileId);
  if (!file.file_path || (file.file_size ?? 0) > MAX_PHOTO_BYTES) return null;
  const res = await fetch(`${apiRoot}/file/bot${token}/${file.file_path}`, { signal: AbortSignal.timeout(20_000) });
  if (!res.ok) throw new Error(`file download: HTTP ${res.status}`);
  const bytes = await readAtMost(res, MAX_PHOTO_BYTES);
  if (!bytes) return null;
  const type = await fileTypeFromBuffer(bytes);
  if (!type || !IMAGE_TYPES.has(type.mime)) return null;
  // A photo sent as a file keeps its EXIF (Telegram strips it from compressed photos only).
  return { bytes: await withoutMetadata(bytes, type.mime), mime: type.mime, ext: type.ext };
}

/** The body, or null (and the rest left unread) once it exceeds `max` bytes, whatever the file said its size was. */
async function readAtMost(res: Response, max: number): Promise<Uint8Array | null> {
  if (Number(res.headers.get('content-length') ?? 0) > max) {
    await res.body?.cancel();
    return null;
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of res.body ?? []) {
    size += chunk.byteLength;
    // Leaving the loop cancels the rest of the download.
    if (size > max) return null;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

export interface PhotoJobDeps {
  db: Kysely<Database>;
  clock: Clock;
  logger: Logger;
  photos: PhotoStore | undefined;
  download: ((fileId: string) => Promise<PhotoInput | null>) | undefined;
}

/**
 * The telegram_photos job: downloads every photo (a failure is retried by
 * the queue; after the last attempt the case keeps what could be fetched,
 * and the chat is told how many photos could not be saved and how to send
 * them again), stores them and attaches them to the case once.
 */
export async function fetchReportPhotos(deps: PhotoJobDeps, { caseId }: JobPayloads['telegram_photos'], ctx?: JobContext): Promise<string> {
  const row = await deps.db.selectFrom('telegram_photo_fetches').selectAll().where('case_id', '=', caseId).executeTakeFirst();
  if (!row) return 'skipped: no photos to fetch';
  if (row.status !== 'pending') return `skipped: photos already ${row.status}`;
  if (!deps.download || !deps.photos) return 'skipped: the bot is not configured here';
  const fileIds = JSON.parse(row.file_ids) as string[];
  const lastAttempt = !ctx || ctx.attempt >= ctx.maxAttempts;
  const got: Array<{ photo: PhotoInput; index: number }> = [];
  let missing = 0;
  for (const [index, fileId] of fileIds.entries()) {
    try {
      const photo = await deps.download(fileId);
      if (photo) got.push({ photo, index });
      else missing++;
    } catch (err) {
      // Transient (network, 429 beyond the plugin's patience): let the queue retry the whole job.
      if (!lastAttempt) throw err;
      deps.logger.warn({ caseId, err: String(err) }, 'telegram: a photo could not be downloaded');
      missing++;
    }
  }
  const now = deps.clock.now();
  const at = now.toISOString();
  const month = row.created_at.slice(0, 7).replace('-', '/');
  const attachments: Attachment[] = got.map(({ photo, index }) => {
    const sha256 = createHash('sha256').update(photo.bytes).digest('hex');
    return {
      id: newId(),
      caseId,
      kind: 'photo',
      // Deterministic: a retried job overwrites the same files.
      storageKey: `${month}/${caseId}/tg-${index + 1}-${sha256.slice(0, 12)}.${photo.ext}`,
      mime: photo.mime,
      size: photo.bytes.byteLength,
      sha256,
      createdAt: at,
    };
  });
  for (const [i, a] of attachments.entries()) await deps.photos.put(a.storageKey, got[i]!.photo.bytes, a.mime);
  const attached = await settleFetch(deps.db, caseId, 'done', attachments, missing, now);
  if (!attached) return 'skipped: photos attached by another run';
  return `attached ${attachments.length} photo(s)${missing > 0 ? `, ${missing} not downloaded` : ''}`;
}

/**
 * The job failed on its last attempt (the photo store, the database): none of
 * the photos is kept, the fetch is marked failed and the chat told, once.
 */
export async function photoFetchFailed(deps: Pick<PhotoJobDeps, 'db' | 'clock' | 'logger'>, caseId: string, error: string): Promise<void> {
  const row = await deps.db.selectFrom('telegram_photo_fetches').select(['file_ids', 'status']).where('case_id', '=', caseId).executeTakeFirst();
  if (!row || row.status !== 'pending') return;
  const photos = (JSON.parse(row.file_ids) as string[]).length;
  if (await settleFetch(deps.db, caseId, 'failed', [], photos, deps.clock.now())) {
    deps.logger.error({ caseId, photos, err: error }, 'telegram: the photos of a report could not be fetched');
  }
}

/**
 * Settles the fetch, once: the first run to claim the pending row attaches
 * what it got and, when some photos the bot took could not be saved, queues
 * the notice telling the chat (a redelivered job finds the row settled and
 * does neither again).
 */
async function settleFetch(db: Kysely<Database>, caseId: string, status: 'done' | 'failed', attachments: Attachment[], missing: number, now: Date): Promise<boolean> {
  const at = now.toISOString();
  return db.transaction().execute(async (trx) => {
    const claimed = await trx
      .updateTable('telegram_photo_fetches')
      .set({ status, done_at: at })
      .where('case_id', '=', caseId)
      .where('status', '=', 'pending')
      .executeTakeFirst();
    if (Number(claimed.numUpdatedRows) !== 1) return false;
    await insertAttachments(trx, attachments);
    await appendEvents(trx, [
      { caseId, at, kind: 'photos_attached', data: { channel: 'telegram', photos: attachments.length, ...(missing > 0 ? { photosNotDownloaded: missing } : {}) } },
    ]);
    if (missing > 0) {
      await queueNotification(trx, { caseId, audience: 'reporter', kind: 'photos_not_saved', data: { photos: missing }, channel: 'telegram' }, now);
    }
    return true;
  });
}
