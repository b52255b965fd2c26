import type { Db } from '../../db/repositories/db-types.js';
import { addToOutbox } from '../../db/repositories/outbox.repository.js';
import { outboxEntry } from '../../queues/jobs.js';
import type { District } from '../district/district.schema.js';
import { newId } from '../domain/ids.js';

/**
 * Called by the workflow wherever a unit gets a new assignment (dispatch,
 * re-route, reopening): units whose district-file entry has a
 * `telegramChatId` get a `telegram_post` job, in the same transaction;
 * `again` for units given the case anew within the round they held it in.
 * A first post of the round is opened there too (`posting`), so the post is
 * on its way from the moment the unit has the case: a notice to the unit made
 * before the job's first run, or while it waits for a Telegram report's
 * photos, waits for the post as it does while Telegram refuses it.
 * A unit given the case anew keeps its earlier post's row (and message) until
 * the job has made the new one: the row is marked `renewed_at` meanwhile, so a
 * notice made since waits for the new post too, and replies to it, where one
 * made before still replies to the post it was made under.
 * Kept apart from group-posts.ts so the workflow does not import the bot.
 */
export async function queueBureauPosts(
  trx: Db,
  district: District,
  caseId: string,
  units: readonly string[],
  round: number,
  now: Date,
  opts: { again?: boolean } = {},
): Promise<number> {
  const posted = units.filter((u, i) => units.indexOf(u) === i && district.units.get(u)?.telegramChatId !== undefined);
  const at = now.toISOString();
  for (const unit of posted) await openPost(trx, { caseId, unit, round, chatId: String(district.units.get(unit)!.telegramChatId), at });
  // A post given anew keeps its row until the job marks the earlier post superseded (it needs the message's id): the
  // row says meanwhile since when the new post is owed. (A unit whose group was added since it got the case has no
  // earlier post: its row is opened above, `posting`.)
  if (opts.again && posted.length > 0) {
    await trx
      .updateTable('telegram_bureau_posts')
      .set({ renewed_at: at })
      .where('case_id', '=', caseId)
      .where('unit_code', 'in', posted)
      .where('round', '=', round)
      .execute();
  }
  const entries = posted.map((unit) => outboxEntry('telegram_post', { caseId, unit, round, ...(opts.again ? { again: true, at: now.getTime() } : {}) }));
  await addToOutbox(trx, entries, now);
  return entries.length;
}

/**
 * The row of a unit's post of the case in a round, `posting` until Telegram takes it, unless there is one. `chatId`
 * is the group's as the district file names it, or the supergroup it became: the job posts where the group is then,
 * and records that chat with the message.
 */
export async function openPost(db: Db, p: { caseId: string; unit: string; round: number; chatId: string; at: string }): Promise<void> {
  await db
    .insertInto('telegram_bureau_posts')
    .values({
      id: newId(),
      case_id: p.caseId,
      unit_code: p.unit,
      round: p.round,
      chat_id: p.chatId,
      message_id: null,
      photo_message_ids: null,
      text: null,
      status: 'posting',
      acted_by: null,
      acted_at: null,
      created_at: p.at,
      updated_at: p.at,
      renewed_at: null,
    })
    .onConflict((oc) => oc.columns(['case_id', 'unit_code', 'round']).doNothing())
    .execute();
}


/**
 * The units whose Telegram group gets their assignments: those with a
 * `telegramChatId`, when the bot is on. The reconciler re-creates the posts
 * owed to them that a lost job never made.
 */
export function telegramGroupUnits(env: { TELEGRAM_BOT_TOKEN?: string | undefined }, district: District): string[] {
  return env.TELEGRAM_BOT_TOKEN ? [...district.units.values()].filter((u) => u.telegramChatId !== undefined).map((u) => u.code) : [];
}

/** A press in the group edits its own message at once: the job after it waits this long, as the press's fallback. */
export const SETTLE_DELAY_MS = 5000;

/**
 * After a unit signed for or returned its assignment, or was released: its
 * group post (if any) loses its buttons and says so. At once when that was
 * done on the web or through the API; after a press in the group itself
 * (`pressedInGroup`), which marks the post on its own, a little later, so the
 * press is normally done by then and the job finds nothing to do.
 */
export async function queuePostSettled(
  trx: Db,
  district: District,
  caseId: string,
  unit: string,
  round: number,
  now: Date,
  opts: { pressedInGroup?: boolean } = {},
): Promise<void> {
  if (district.units.get(unit)?.telegramChatId === undefined) return;
  const due = opts.pressedInGroup ? new Date(now.getTime() + SETTLE_DELAY_MS) : undefined;
  await addToOutbox(trx, [outboxEntry('telegram_post', { caseId, unit, round, settled: true, at: now.getTime() }, due)], now);
}
