import { GrammyError, InlineKeyboard, InputFile, type Api, type Bot, type Context } from 'grammy';
import type { InputMediaPhoto } from 'grammy/types';
import type { Kysely } from 'kysely';
import { listAssignments } from '../../db/repositories/assignments.repository.js';
import { listAttachments } from '../../db/repositories/attachments.repository.js';
import { findCase } from '../../db/repositories/cases.repository.js';
import { findContact } from '../../db/repositories/contacts.repository.js';
import { hiddenFromBureau, maskForBureau, mergedIntoHeld } from '../workflow/case-view.js';
import { findUser } from '../../db/repositories/users.repository.js';
import type { Db } from '../../db/repositories/db-types.js';
import { groupPostOnItsWay } from '../../db/repositories/notifications.repository.js';
import { releaseWaitingNotices } from '../workflow/notifications.js';
import type { Database } from '../../db/schema.js';
import type { JobContext, JobPayloads } from '../../queues/jobs.js';
import type { Principal } from '../auth/principal.js';
import type { Clock } from '../clock.js';
import { caseReference } from '../domain/case.js';
import { clip } from '../domain/text.js';
import { localTime } from '../domain/time-zone.js';
import { type District, groupLanguage, typeName, unitName } from '../district/district.schema.js';
import { AppError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { PhotoStore } from '../storage/photo-store.js';
import { acceptAssignment, currentRound, live, RETURN_REASONS, returnAssignment, type ReturnReason, type WorkflowDeps } from '../workflow/bureau.js';
import { ChatBusy, lockChat, type ChatLockOptions } from './chat-lock.js';
import { currentGroupChat, followMigration, migratedTo, recordChatMigration } from './chat-migrations.js';
import { linkedUser } from './links.js';
import { followedBy } from './api.js';
import { langOf, TEXTS, type Lang, type PostParts } from './texts.js';

/**
 * Bureau group chats: a bureau (or town office) whose district-file entry has
 * a `telegramChatId` gets each new assignment posted in its group by the
 * `telegram_post` job — type, place, urgency, deadlines, the report text with
 * phone numbers masked, the photos, never the reporter's name or phone — with
 * buttons to sign for (签收) or return (退回, then a reason). A press runs the
 * same workflow functions as the HTTP API, for the staff account the pressing
 * Telegram user linked with /link; the message then shows who did it and when.
 */

const PREFIX = 'g:';

import { openPost } from './post-queue.js';

export { queueBureauPosts } from './post-queue.js';


function zoneLabel(timeZone: string, lang: Lang): string {
  return timeZone === 'Asia/Shanghai' ? TEXTS[lang].group.beijingTime : timeZone;
}

/** A deadline as bureau staff read it: `YYYY-MM-DD HH:mm（北京时间）`, in an English group `YYYY-MM-DD HH:mm (Beijing time)`. */
export function deadlineLabel(iso: string, timeZone: string, lang: Lang): string {
  return TEXTS[lang].group.timeInZone(localTime(iso, timeZone), zoneLabel(timeZone, lang));
}

const MAX_POST_TEXT = 2500;
/** What Telegram accepts as a photo (sendPhoto / sendMediaGroup). */
const GROUP_PHOTO_TYPES: ReadonlySet<string> = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp']);
const MAX_GROUP_PHOTO_BYTES = 10 * 1024 * 1024;

export interface GroupPostDeps {
  db: Kysely<Database>;
  district: District;
  clock: Clock;
  logger: Logger;
  photos: PhotoStore | undefined;
  api: Api;
}

/**
 * The telegram_post job. Idempotent: the post row (unique per case, unit and
 * round) remembers what Telegram already took, so a retry sends only the rest.
 */
export async function postAssignment(deps: GroupPostDeps, p: JobPayloads['telegram_post'], ctx?: JobContext): Promise<string> {
  // One job at a time on a unit's post of the case: two re-routes in quick succession queue two, which must not both
  // find the new post still to be made and both make it (the one not recorded would keep its buttons).
  let release: () => Promise<void>;
  try {
    release = await lockChat(deps.db, deps.clock, `post:${p.caseId}:${p.unit}`, POST_LOCK);
  } catch (err) {
    if (err instanceof ChatBusy) throw new Error(`another job is making or settling the ${p.unit} group's post of the case`);
    throw err;
  }
  try {
    return await postOrSettle(deps, p, ctx);
  } finally {
    await release().catch((err: unknown) => deps.logger.warn({ caseId: p.caseId, unit: p.unit, err: String(err) }, 'telegram: a post lease was not released; it expires'));
  }
}

/**
 * The lease of a unit's post of a case: longer than a post takes with Telegram's throttling of a busy group (a post
 * and an album wait their turn with the group's other messages); a job that finds it held waits a minute before
 * failing its attempt, to be retried.
 */
const POST_LOCK: ChatLockOptions = { leaseMs: 10 * 60_000, waitMs: 60_000, pollMs: 100 };

async function postOrSettle(deps: GroupPostDeps, p: JobPayloads['telegram_post'], ctx?: JobContext): Promise<string> {
  if (p.settled) return settlePost(deps, p);
  const unit = deps.district.units.get(p.unit);
  if (unit?.telegramChatId === undefined) return nothingToPostTo(deps, p, `skipped: ${p.unit} has no telegram group`);
  const lang = groupLanguage(unit);
  // Before the case and the unit's part are read: a re-assignment after this instant may not show in the post made.
  const readAt = deps.clock.now().toISOString();
  const c = await findCase(deps.db, p.caseId);
  if (!c) return 'skipped: no such case';
  // No post is made: the notices to the unit that waited for it go on without it.
  if (c.round !== p.round) return notPosted(deps, p, `skipped: the case is in round ${c.round} now`);
  const mine = live(currentRound(c, await listAssignments(deps.db, c.id)).filter((a) => a.unitCode === p.unit)).at(-1);
  if (!mine) return notPosted(deps, p, `skipped: ${p.unit} has no live assignment`);
  if (mine.status !== 'pending') return notPosted(deps, p, `skipped: the assignment is already ${mine.status}`);

  // A Telegram report's photos arrive a moment after the case (telegram_photos job): wait for them, within reason.
  if (c.channel === 'telegram' && (await photosPending(deps.db, c.id)) && ctx && ctx.attempt < Math.min(ctx.maxAttempts, 5)) {
    throw new Error('waiting for the report photos to be downloaded');
  }

  // The group's chat id, or the supergroup Telegram made of it.
  let chatId = await currentGroupChat(deps.db, String(unit.telegramChatId));
  const at = deps.clock.now().toISOString();
  // Opened with the unit's assignment; an assignment made before posts were opened so has none yet.
  let post = await findPost(deps.db, c.id, p.unit, p.round);
  if (!post) {
    await openPost(deps.db, { caseId: c.id, unit: p.unit, round: p.round, chatId, at });
    post = (await findPost(deps.db, c.id, p.unit, p.round))!;
  }
  if (post.message_id !== null) {
    if (!p.again || post.status === 'posting') return 'skipped: already posted';
    // Posted since the unit was given the case anew: this job ran before (a retry, a second delivery), or the job of
    // an earlier re-assignment made the post from what the unit holds now. One still owed (`renewed_at`: the unit was
    // given the case again while that job read what it posted) is made.
    if (post.status === 'posted' && p.at !== undefined && Date.parse(post.updated_at) >= p.at && post.renewed_at === null) return 'skipped: already posted';
    // The unit has the case anew while its earlier post still offers the buttons (a re-route changed its role or
    // deadlines): that post says so and loses them, and a new one is made.
    if (post.status === 'posted') await markPost(deps, post, TEXTS[lang].group.superseded(deadlineLabel(at, deps.district.file.district.timezone, lang)));
    // The unit has the case again within the round (a re-route after it returned it): a new post with buttons.
    // A post withdrawn from the unit (returned, released) lost its photos then: they are posted again above the new one.
    const photosDeleted = post.status === 'returned' || post.status === 'released';
    await deps.db
      .updateTable('telegram_bureau_posts')
      .set({ message_id: null, text: null, status: 'posting', acted_by: null, acted_at: null, updated_at: at, ...(photosDeleted ? { photo_message_ids: null } : {}) })
      .where('id', '=', post.id)
      .where('status', '=', post.status)
      .execute();
    post = (await findPost(deps.db, c.id, p.unit, p.round))!;
    if (post.message_id !== null) return 'skipped: already posted';
  }

  const tz = deps.district.file.district.timezone;
  const photos = (await listAttachments(deps.db, c.id)).filter((a) => a.kind === 'photo');
  // Telegram shows JPEG, PNG, GIF and WebP photos of at most 10 MB; others (an iPhone's HEIC sent as a file) stay on the web.
  const postable = photos.filter((a) => GROUP_PHOTO_TYPES.has(a.mime) && a.size <= MAX_GROUP_PHOTO_BYTES).slice(0, 10);
  let shown = postable.length;
  if (post.photo_message_ids === null && postable.length > 0 && deps.photos) {
    const files: InputFile[] = [];
    for (const photo of postable) {
      const bytes = await deps.photos.get(photo.storageKey);
      if (bytes) files.push(new InputFile(bytes, `${photo.id}.${photo.mime.split('/')[1] ?? 'jpg'}`));
    }
    let ids: number[] = [];
    try {
      if (files.length === 1) {
        const sent = await followMigration(deps, chatId, (to) => deps.api.sendPhoto(to, files[0]!, { caption: caseReference(c.id) }));
        chatId = sent.chatId;
        ids = [sent.result.message_id];
      } else if (files.length > 1) {
        const media: InputMediaPhoto[] = files.map((media, i) => ({ type: 'photo', media, ...(i === 0 ? { caption: caseReference(c.id) } : {}) }));
        const sent = await followMigration(deps, chatId, (to) => deps.api.sendMediaGroup(to, media));
        chatId = sent.chatId;
        ids = sent.result.map((m) => m.message_id);
      }
    } catch (err) {
      // Telegram refused the photos themselves (400: dimensions, a file it cannot read): the assignment goes out without them.
      // Only a refusal of the photos themselves; a chat that is gone or was upgraded fails the job as before.
      if (!(err instanceof GrammyError && err.error_code === 400 && /photo|image|file|dimension|media/i.test(err.description) && !/chat/i.test(err.description))) throw err;
      deps.logger.warn({ caseId: c.id, unit: p.unit, err: err.description }, 'telegram: the group did not take the photos; posting without them');
    }
    await recordSent(deps, c.id, chatId, ids, () =>
      deps.db.updateTable('telegram_bureau_posts').set({ chat_id: chatId, photo_message_ids: JSON.stringify(ids), updated_at: at }).where('id', '=', post.id).execute(),
    );
    shown = ids.length;
  } else if (post.photo_message_ids !== null) {
    shown = (JSON.parse(post.photo_message_ids) as unknown[]).length;
  }

  const type = c.typeCode ? typeName(deps.district, c.typeCode, lang) : null;
  const jurisdiction = c.jurisdictionCode ? unitName(deps.district, c.jurisdictionCode, lang) : null;
  const contact = await findContact(deps.db, c.id);
  // The reporter's name (unless shared) and phone numbers are masked in their words and in the place they gave; as on the
  // unit's case page, so are the names staff wrote as a reporter's (来电人刘某…) and those of the reports merged into the case.
  const hidden = await hiddenFromBureau(deps.db, contact, c);
  const where = [jurisdiction, c.address ? maskForBureau(c.address, hidden) : null, c.location ? `${c.location.lat.toFixed(5)}, ${c.location.lng.toFixed(5)}` : null]
    .filter(Boolean)
    .join(' · ');
  const body = maskForBureau(c.text, hidden);
  const parts: PostParts = {
    unit: unit.name[lang],
    role: mine.role,
    reference: caseReference(c.id),
    type,
    place: where || null,
    urgent: c.urgent,
    signBy: mine.deadlines.signBy ? deadlineLabel(mine.deadlines.signBy, tz, lang) : null,
    replyBy: mine.deadlines.replyBy ? deadlineLabel(mine.deadlines.replyBy, tz, lang) : null,
    text: clip(body, MAX_POST_TEXT),
    photos: shown,
    photosElsewhere: photos.length - shown,
    reopened: p.round > 1,
  };
  const text = TEXTS[lang].group.post(parts);
  const { result: sent, chatId: postedIn } = await followMigration(deps, chatId, (to) =>
    deps.api.sendMessage(to, text, { reply_markup: actionKeyboard(post.id, lang), link_preview_options: { is_disabled: true } }),
  );
  await recordSent(deps, c.id, postedIn, [sent.message_id], () =>
    deps.db.transaction().execute(async (trx) => {
      const now = deps.clock.now();
      await trx
        .updateTable('telegram_bureau_posts')
        .set({ chat_id: postedIn, message_id: sent.message_id, text, status: 'posted', updated_at: now.toISOString() })
        .where('id', '=', post.id)
        .execute();
      // The new post owed is this one, unless the unit was given the case again after it was read (a second re-route
      // while this job ran): that post is still owed, and its job supersedes this one. Notices made since then
      // wait for it.
      await trx
        .updateTable('telegram_bureau_posts')
        .set({ renewed_at: null })
        .where('id', '=', post.id)
        .where('renewed_at', '<=', readAt)
        .execute();
      // The notices to the unit that waited for the post (a 督办 made while it was being retried, or since the unit was
      // given the case again) follow it now, in reply to it.
      await releaseWaitingNotices(trx, c.id, p.unit, 'telegram', now);
    }),
  );
  return `posted to the ${p.unit} group`;
}

/**
 * A post the job no longer makes (the unit signed for its part meanwhile, or no longer holds it, or the case was
 * reopened): the notices to the unit that waited for it are released, with the unit's post rows of the case locked
 * (PostgreSQL) as a notice marks itself waiting, so that one marked meanwhile is found. They go to the group as any
 * notice does.
 */
async function notPosted(deps: GroupPostDeps, p: JobPayloads['telegram_post'], outcome: string): Promise<string> {
  await deps.db.transaction().execute(async (trx) => {
    if (await groupPostOnItsWay(trx, p.caseId, p.unit, { lock: true })) return;
    await releaseWaitingNotices(trx, p.caseId, p.unit, 'telegram', deps.clock.now());
  });
  return outcome;
}

/**
 * A post the job has nowhere to make (the unit's group was taken out of the district file, or the bot is not
 * configured, since the unit was given the case): the notices to the unit that waited for it are released, as they
 * would never be otherwise. They go to the unit's other channels; the group is not one any more. The post stays owed,
 * and is made once the group or the bot is back. Released with the unit's post rows of the case locked (PostgreSQL),
 * as a notice marks itself waiting.
 */
export async function nothingToPostTo(deps: { db: Kysely<Database>; clock: Clock }, p: JobPayloads['telegram_post'], outcome: string): Promise<string> {
  if (p.settled) return outcome;
  await deps.db.transaction().execute(async (trx) => {
    await groupPostOnItsWay(trx, p.caseId, p.unit, { lock: true });
    await releaseWaitingNotices(trx, p.caseId, p.unit, 'telegram', deps.clock.now());
  });
  return outcome;
}

/** The pauses before a record of what a group was sent is tried again, before the messages are taken back (recordSent). */
const RECORD_RETRY_MS = [100, 500];

/**
 * Records what a group was just sent (a post, or the photos above it). Telegram has no idempotent send: a job that
 * failed to record its post is retried, finds nothing recorded and posts again, and the group would read the assignment
 * twice, the unrecorded copy keeping the report and its buttons when the case is signed for or withdrawn. So a record
 * that fails is tried again at once (the database busy for a moment), and when it still fails the messages are deleted
 * before the job fails: the post its retry makes is the only one the group keeps. Only a process that dies between
 * Telegram's answer and the record, or a delete Telegram does not take then, leaves a second copy (logged).
 */
async function recordSent(deps: GroupPostDeps, caseId: string, chatId: string, messageIds: number[], record: () => Promise<unknown>): Promise<void> {
  let failure: unknown;
  for (const pause of [0, ...RECORD_RETRY_MS]) {
    if (pause > 0) await new Promise((resolve) => setTimeout(resolve, pause));
    try {
      await record();
      return;
    } catch (err) {
      failure = err;
    }
  }
  if (messageIds.length > 0) {
    try {
      await deps.api.deleteMessages(chatId, messageIds);
      deps.logger.warn({ caseId, err: String(failure) }, 'telegram: a group post could not be recorded; it was deleted, to be posted again on retry');
    } catch (err) {
      deps.logger.error({ caseId, chatId, messageIds, err: String(err) }, 'telegram: a group post could be neither recorded nor deleted; its retry posts it again');
    }
  }
  throw failure;
}

/** The line added under a post once its assignment was signed for or returned, in the group's language. */
function settledMark(district: District, action: 'accepted' | 'returned', reason: string | null, name: string, atIso: string, lang: Lang): string {
  const tz = district.file.district.timezone;
  const when = deadlineLabel(atIso, tz, lang);
  const t = TEXTS[lang].group;
  const label = reason && reason in t.reasons ? t.reasons[reason as ReturnReason] : (reason ?? '');
  return action === 'accepted' ? t.signed(name, when) : t.returned(label, name, when);
}

/**
 * The assignment was signed for or returned somewhere else (the web inbox,
 * the API): the group post loses its buttons and says who did it and when.
 * A press in the group itself got there first and finds nothing to do.
 */
async function settlePost(deps: GroupPostDeps, p: JobPayloads['telegram_post']): Promise<string> {
  const post = await findPost(deps.db, p.caseId, p.unit, p.round);
  if (!post || post.message_id === null) return 'skipped: nothing was posted';
  const a = (await listAssignments(deps.db, p.caseId)).filter((x) => x.unitCode === p.unit && x.round === p.round).at(-1);
  // A post the unit signed for is withdrawn too once the case is taken from the unit: the report's words, place
  // and photos leave its group, as its inbox stops showing them.
  const withdrawable = post.status === 'posted' || (post.status === 'accepted' && a?.status === 'released');
  if (!withdrawable) return `skipped: the post is already ${post.status}`;
  if (!a || a.status === 'pending') return `skipped: the assignment is ${a?.status ?? 'gone'}`;
  const lang = groupLanguage(deps.district.units.get(p.unit));
  if (a.status === 'released') {
    // Taken from the unit by the dispatcher (a re-route, a merge, a transfer, a release): the buttons go. Merged into a
    // case the unit holds too, the post says where its work goes on.
    const when = deadlineLabel(a.releasedAt ?? deps.clock.now().toISOString(), deps.district.file.district.timezone, lang);
    const c = await findCase(deps.db, p.caseId);
    const into = c ? await mergedIntoHeld(deps.db, c, p.unit) : null;
    const t = TEXTS[lang].group;
    await markPost(deps, post, into ? t.mergedInto(caseReference(into.id), when) : t.withdrawn(when), { withdrawn: true });
    await deps.db
      .updateTable('telegram_bureau_posts')
      .set({ status: 'released', acted_at: a.releasedAt, updated_at: deps.clock.now().toISOString() })
      .where('id', '=', post.id)
      .where('status', 'in', ['posted', 'accepted'])
      .execute();
    return 'group post marked released';
  }
  const action = a.status === 'returned' ? 'returned' : 'accepted';
  const atIso = (action === 'accepted' ? a.acceptedAt : a.returnedAt) ?? deps.clock.now().toISOString();
  const by = action === 'accepted' ? a.acceptedBy : await returnedBy(deps.db, p.caseId, p.unit);
  const name = (by ? (await findUser(deps.db, by))?.name : null) ?? '—';
  await markPost(deps, post, settledMark(deps.district, action, action === 'returned' ? a.returnReason : null, name, atIso, lang), { withdrawn: action === 'returned' });
  await deps.db
    .updateTable('telegram_bureau_posts')
    .set({ status: action, acted_by: by, acted_at: atIso, updated_at: deps.clock.now().toISOString() })
    .where('id', '=', post.id)
    .where('status', '=', 'posted')
    .execute();
  return `group post marked ${action}`;
}

type PostRow = { case_id: string; chat_id: string; message_id: string | number | null; text: string | null; photo_message_ids?: string | null };

/**
 * A post of a case the unit no longer holds (it returned it, or a dispatcher
 * took it from the unit): only its first lines — the unit, its role and the
 * case reference — stay, then the line saying why; the reporter's words, the
 * place and the deadlines go, as on the web the unit keeps only its own record.
 */
function withdrawnPostText(text: string, line: string): string {
  return followedBy(text.split('\n').slice(0, 2).join('\n'), line);
}

/**
 * Deletes the photos posted above a withdrawn post, in the chat they were posted in (as the post's edit);
 * Telegram refuses for messages older than 48 h, which stay.
 */
async function deletePostPhotos(api: Api, logger: Logger, post: PostRow): Promise<void> {
  let ids: number[] = [];
  try {
    ids = (JSON.parse(post.photo_message_ids ?? '[]') as unknown[]).map(Number).filter((n) => Number.isInteger(n) && n > 0);
  } catch {
    ids = [];
  }
  if (ids.length === 0) return;
  try {
    await api.deleteMessages(post.chat_id, ids);
  } catch (err) {
    if (!(err instanceof GrammyError && err.error_code === 400)) throw err;
    logger.warn({ caseId: post.case_id, err: err.description }, 'telegram: could not delete the photos of a withdrawn group post');
  }
}

/**
 * Posts made before bureaus were kept from tracking codes (the reporter's key
 * to rating) named the case by its code: an edit names it by its reference.
 */
function withReference(text: string, caseId: string): string {
  return text.replace(/^跟踪码：.*$/m, TEXTS.zh.group.referenceLine(caseReference(caseId)));
}

/** A post's text with `line` added under it: all of it, or for a post withdrawn from the unit only its head (`withdrawnPostText`). */
function editedPostText(post: PostRow, line: string, withdrawn: boolean): string {
  const posted = withReference(post.text ?? '', post.case_id);
  return withdrawn ? withdrawnPostText(posted, line) : followedBy(posted, line);
}

/** Adds a line under a group post and takes its buttons away; a withdrawn post also loses the report (`withdrawnPostText`) and its photos. */
async function markPost(deps: GroupPostDeps, post: PostRow, line: string, opts: { withdrawn?: boolean } = {}): Promise<void> {
  if (post.message_id === null) return;
  const text = editedPostText(post, line, opts.withdrawn === true);
  if (opts.withdrawn) await deletePostPhotos(deps.api, deps.logger, post);
  try {
    // In the chat the post was made in, even once that group became a supergroup: its messages stay in the old
    // group, where the bot can still edit them, and their ids mean other messages in the new chat.
    await deps.api.editMessageText(post.chat_id, Number(post.message_id), text, { reply_markup: { inline_keyboard: [] }, link_preview_options: { is_disabled: true } });
  } catch (err) {
    // 400: the message is gone, too old or already says this. Anything else is retried by the queue.
    if (!(err instanceof GrammyError && err.error_code === 400)) throw err;
    const to = migratedTo(err);
    if (to !== null) await recordChatMigration(deps.db, deps.logger, post.chat_id, to, deps.clock.now());
    deps.logger.warn({ caseId: post.case_id, err: err.description }, 'telegram: could not edit the group post');
  }
}

/** Who returned the unit's assignment: the staff actor of the latest return event naming the unit. */
async function returnedBy(db: Db, caseId: string, unit: string): Promise<string | null> {
  const events = await db
    .selectFrom('case_events')
    .select(['actor_id', 'data'])
    .where('case_id', '=', caseId)
    .where('actor_type', '=', 'staff')
    .orderBy('id', 'desc')
    .limit(20)
    .execute();
  for (const e of events) {
    try {
      const data = JSON.parse(e.data ?? '{}') as { unit?: string; reason?: string };
      if (data.unit === unit && data.reason) return e.actor_id;
    } catch {
      // not an event of ours
    }
  }
  return null;
}

/**
 * True while photos of a Telegram report are still to be fetched. The count
 * is on the `received` event, committed with the case, so there is no window
 * in which a post could go out before the fetch is even recorded.
 */
async function photosPending(db: Db, caseId: string): Promise<boolean> {
  const received = await db.selectFrom('case_events').select('data').where('case_id', '=', caseId).where('kind', '=', 'received').executeTakeFirst();
  let expected = 0;
  try {
    expected = Number((JSON.parse(received?.data ?? '{}') as { photosToFetch?: unknown }).photosToFetch ?? 0);
  } catch {
    expected = 0;
  }
  if (!(expected > 0)) return false;
  const fetch = await db.selectFrom('telegram_photo_fetches').select('status').where('case_id', '=', caseId).executeTakeFirst();
  return fetch?.status !== 'done' && fetch?.status !== 'failed';
}

async function findPost(db: Db, caseId: string, unit: string, round: number) {
  return db
    .selectFrom('telegram_bureau_posts')
    .selectAll()
    .where('case_id', '=', caseId)
    .where('unit_code', '=', unit)
    .where('round', '=', round)
    .executeTakeFirst();
}

function actionKeyboard(postId: string, lang: Lang): InlineKeyboard {
  const t = TEXTS[lang].group;
  return new InlineKeyboard().text(t.signFor, `${PREFIX}a:${postId}`).text(t.return, `${PREFIX}r:${postId}`);
}

function reasonKeyboard(postId: string, lang: Lang): InlineKeyboard {
  const t = TEXTS[lang].group;
  const kb = new InlineKeyboard();
  RETURN_REASONS.forEach((reason, i) => kb.text(t.reasons[reason], `${PREFIX}x:${postId}:${i}`).row());
  return kb.text(t.back, `${PREFIX}b:${postId}`);
}

export type GroupButtonDeps = WorkflowDeps & { logger: Logger };

/** Button presses in bureau groups. */
export function handleGroupButtons(bot: Bot<Context & { session?: unknown }>, deps: GroupButtonDeps): void {
  const groups = bot.chatType(['group', 'supergroup']);
  groups.callbackQuery(/^g:([arxb]):([0-9a-f-]{36})(?::(\d))?$/, async (ctx) => {
    const [, action, postId, reasonIndex] = ctx.match as RegExpMatchArray;
    const post = await deps.db.selectFrom('telegram_bureau_posts').selectAll().where('id', '=', postId!).executeTakeFirst();
    // What the group reads (buttons, the line under the post) is in its language; the answers only the presser reads
    // too when the district file sets the group's language, else in the presser's own.
    const unit = post ? deps.district.units.get(post.unit_code) : undefined;
    const lang = groupLanguage(unit);
    const t = TEXTS[unit?.telegramLanguage ?? langOf(ctx.from.language_code)].group;
    const alert = (text: string) => ctx.answerCallbackQuery({ text, show_alert: true });

    // A post made before its group became a supergroup is pressed there, in the new chat.
    const here = String(ctx.chat.id);
    if (!post || (post.chat_id !== here && (await currentGroupChat(deps.db, post.chat_id)) !== here)) return void (await alert(t.tooLate));
    const user = await linkedUser(deps.db, String(ctx.from.id));
    if (!user) return void (await alert(t.notLinked));
    if (user.role !== 'bureau' || user.unitCode !== post.unit_code) return void (await alert(t.otherUnit));
    if (post.status !== 'posted') return void (await alert(t.tooLate));

    if (action === 'r') {
      await ctx.answerCallbackQuery({ text: t.chooseReason });
      await ctx.editMessageReplyMarkup({ reply_markup: reasonKeyboard(post.id, lang) });
      return;
    }
    if (action === 'b') {
      await ctx.answerCallbackQuery();
      await ctx.editMessageReplyMarkup({ reply_markup: actionKeyboard(post.id, lang) });
      return;
    }

    const principal: Principal = { userId: user.id, name: user.name, role: user.role, unitCode: user.unitCode, tokenId: `telegram:${ctx.from.id}` };
    const reason: ReturnReason | null = action === 'x' ? (RETURN_REASONS[Number(reasonIndex)] ?? null) : null;
    if (action === 'x' && !reason) return void (await alert(t.tooLate));
    try {
      if (action === 'a') await acceptAssignment(deps, principal, post.case_id, { pressedInGroup: true });
      else await returnAssignment(deps, principal, post.case_id, { reason: reason!, note: { said: 'returned_in_group', by: user.name } }, { pressedInGroup: true });
    } catch (err) {
      if (err instanceof AppError && (err.code === 'conflict' || err.code === 'illegal_transition' || err.code === 'not_found')) {
        // A case its lead returned waits in triage: the unit still holds it and its post keeps the buttons for when the
        // dispatcher routes it again, so "too late" would tell the group its part is over.
        const waiting = err.refusal?.reason === 'case_not_under_handling' && err.refusal.status === 'triage';
        return void (await alert(err.code === 'conflict' ? t.conflict : waiting ? t.waitingDispatcher : t.tooLate));
      }
      throw err;
    }

    const at = deps.clock.now().toISOString();
    const status = action === 'a' ? 'accepted' : 'returned';
    // The settled-post job queued by the workflow may get there first; whoever marks the post edits the message.
    const claimed = await deps.db
      .updateTable('telegram_bureau_posts')
      .set({ status, acted_by: user.id, acted_at: at, updated_at: at })
      .where('id', '=', post.id)
      .where('status', '=', 'posted')
      .executeTakeFirst();
    await ctx.answerCallbackQuery({ text: action === 'a' ? t.signedAlert : t.returnedAlert });
    if (Number(claimed.numUpdatedRows) !== 1) return;
    const mark = settledMark(deps.district, status, reason, user.name, at, lang);
    // Returned: the report is no longer the unit's to read, in the group as on the web.
    if (status === 'returned') {
      await deletePostPhotos(ctx.api, deps.logger, post).catch((err: unknown) => deps.logger.warn({ err: String(err), caseId: post.case_id }, 'telegram: could not delete the group post photos'));
    }
    // The workflow change is done; a message that cannot be edited (too old, deleted) only loses its label.
    const edited = editedPostText(post, mark, status === 'returned');
    const settledMarkup = { reply_markup: { inline_keyboard: [] }, link_preview_options: { is_disabled: true } };
    await ctx.editMessageText(edited, settledMarkup).catch((err: unknown) => deps.logger.warn({ err: String(err), caseId: post.case_id }, 'telegram: could not edit the group post'));
    // Pressed on a second copy of the post in its chat (Telegram took a post whose record was lost with its process, and
    // the job's retry posted it again): the recorded post says so too, rather than keep buttons that only answer 'too
    // late' and, once returned, the report the unit no longer reads.
    const pressedId = ctx.callbackQuery.message?.message_id;
    if (post.message_id !== null && String(ctx.chat.id) === post.chat_id && pressedId !== undefined && pressedId !== Number(post.message_id)) {
      await ctx.api
        .editMessageText(post.chat_id, Number(post.message_id), edited, settledMarkup)
        .catch((err: unknown) => deps.logger.warn({ err: String(err), caseId: post.case_id }, 'telegram: could not edit the recorded group post'));
    }
  });
  // Anything else pressed in a group (an old or foreign button) gets an answer, so the client stops spinning.
  groups.on('callback_query:data', (ctx) => ctx.answerCallbackQuery({ text: TEXTS[langOf(ctx.from.language_code)].group.tooLate, show_alert: true }));
}
