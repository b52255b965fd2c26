import type { Db } from '../../db/repositories/db-types.js';
import { addToOutbox } from '../../db/repositories/outbox.repository.js';
import { outboxEntry } from '../../queues/jobs.js';
import type { District } from '../district/district.schema.js';

/**
 * Called by the workflow wherever a unit gets a new assignment (dispatch,
 * re-route, reopening): units whose district-file entry has a
 * `telegramChatId` get a `telegram_post` job, in the same transaction;
 * `again` for units given the case anew within the round they held it in.
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
  const entries = units
    .filter((u, i) => units.indexOf(u) === i && district.units.get(u)?.telegramChatId !== undefined)
    .map((unit) => outboxEntry('telegram_post', { caseId, unit, round, ...(opts.again ? { again: true, at: now.getTime() } : {}) }));
  await addToOutbox(trx, entries, now);
  return entries.length;
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
