import { InlineKeyboard, type Context } from 'grammy';
import type { Kysely } from 'kysely';
import { findCaseByTrackingCode } from '../../db/repositories/cases.repository.js';
import { parseJson } from '../../db/repositories/db-types.js';
import type { Database } from '../../db/schema.js';
import type { Clock } from '../clock.js';
import type { District } from '../district/district.schema.js';
import { publicUrl, type Env } from '../env.js';
import { localTime } from '../domain/time-zone.js';
import { AppError } from '../errors.js';
import type { WorkCalendar } from '../pipeline/deadlines.js';
import type { Logger } from '../logger.js';
import { logRated, rateCase, ratingEndedAt, type RatingValue } from '../workflow/feedback.js';
import { followedBy } from './api.js';
import { langOf, TEXTS, type Lang } from './texts.js';

/**
 * Rating in the chat (回访): the bureau's reply is pushed with three buttons
 * (satisfied / basically / dissatisfied), then two (solved / not solved);
 * the second press calls the same rateCase as the tracking page, with the
 * channel `telegram`. Only the chat the case was reported from may rate.
 *
 * Callback data: `r:<tracking code>:<round>:<s|b|d>[:<y|n>]`.
 */

const RATING_OF = { s: 'satisfied', b: 'basic', d: 'dissatisfied' } as const satisfies Record<string, RatingValue>;
type RatingKey = keyof typeof RATING_OF;
export const RATING_DATA = /^r:([0-9A-Z]{10}):(\d{1,4}):([sbd])(?::([yn]))?$/;

export function ratingKeyboard(lang: Lang, trackingCode: string, round: number): InlineKeyboard {
  const t = TEXTS[lang].rating;
  const base = `r:${trackingCode}:${round}`;
  return new InlineKeyboard().text(t.satisfied, `${base}:s`).text(t.basic, `${base}:b`).text(t.dissatisfied, `${base}:d`);
}

function solvedKeyboard(lang: Lang, trackingCode: string, round: number, key: RatingKey): InlineKeyboard {
  const t = TEXTS[lang].rating;
  const base = `r:${trackingCode}:${round}:${key}`;
  return new InlineKeyboard().text(t.solved, `${base}:y`).text(t.notSolved, `${base}:n`);
}

export interface RatingDeps {
  env: Env;
  db: Kysely<Database>;
  clock: Clock;
  district: District;
  calendar: WorkCalendar;
  kickOutbox: () => void;
  logger: Pick<Logger, 'info'>;
}

/** Handles one press of a rating button in a private chat. */
export async function onRatingButton(ctx: Context, deps: RatingDeps, match: RegExpMatchArray): Promise<void> {
  const lang = langOf(ctx.from?.language_code);
  const t = TEXTS[lang].rating;
  const [, code, roundText, key, solvedKey] = match as unknown as [string, string, string, RatingKey, 'y' | 'n' | undefined];
  const round = Number(roundText);
  const alert = (text: string) => ctx.answerCallbackQuery({ text, show_alert: true });
  const original = ctx.callbackQuery?.message && 'text' in ctx.callbackQuery.message ? (ctx.callbackQuery.message.text ?? '') : '';
  const trackUrl = `${publicUrl(deps.env)}/track/${code}`;
  // The message without its buttons and the words asking to press them, followed by `line` when given.
  const withoutButtons = (line?: string) => {
    const kept = withoutRatingPrompt(original, trackUrl, solvedKey !== undefined);
    return ctx.editMessageText(line === undefined ? kept : followedBy(kept, line), { reply_markup: { inline_keyboard: [] } });
  };
  // (A message the button came without text keeps its text.)
  const clearButtons = () => (original ? withoutButtons() : ctx.editMessageReplyMarkup({ reply_markup: { inline_keyboard: [] } })).catch(() => undefined);

  const c = await findCaseByTrackingCode(deps.db, code);
  const reporter = c ? await deps.db.selectFrom('telegram_reporters').select('chat_id').where('case_id', '=', c.id).executeTakeFirst() : undefined;
  if (!c || !reporter || reporter.chat_id !== String(ctx.chat?.id)) return void (await alert(t.notYours));
  const rated = await deps.db.selectFrom('ratings').select(['rating', 'solved', 'channel']).where('case_id', '=', c.id).where('round', '=', round).executeTakeFirst();
  if (rated) {
    await alert(t.already);
    // Rated in this chat, the only one that can: maybe this very press, delivered again because its answer could not be
    // sent. The message says what the rating did, as it would have (the 办结 / 重办 notice of the rating waits for it).
    if (rated.channel === 'telegram' && original) {
      // Told already by the 办结 / 重办 notice, pushed because this press went unanswered past the notice's wait:
      // the buttons go, and the chat is not told a second time.
      if (await noticeTold(deps, c.id, round)) return void (await clearButtons());
      const done = ratedText(t, code, rated.rating as RatingValue, Number(rated.solved) === 1);
      const told = await withoutButtons(done).then(() => true, () => false);
      if (told) await chatTold(deps, c.id, round);
      return;
    }
    return void (await clearButtons());
  }
  // Past the rating window, whether or not its deadline job closed the case yet: no question (the second press would be
  // refused). Said with the time it ended, on the district's clock.
  const ended = c.round === round ? ratingEndedAt(c, deps.clock.now().toISOString()) : null;
  if (ended) {
    await alert(t.windowClosed(localTime(ended, deps.district.file.district.timezone)));
    return void (await clearButtons());
  }
  if (c.round !== round || c.status !== 'replied') {
    await alert(t.notNow);
    return void (await clearButtons());
  }
  const ratingLabel = t[RATING_OF[key]];

  if (!solvedKey) {
    await ctx.answerCallbackQuery();
    await ctx.editMessageText(followedBy(original, t.askSolved(code, ratingLabel)), { reply_markup: solvedKeyboard(lang, code, round, key) });
    return;
  }

  const solved = solvedKey === 'y';
  try {
    const outcome = await rateCase(deps, { trackingCode: code, rating: RATING_OF[key], solved, channel: 'telegram' });
    logRated(deps.logger, outcome, { channel: 'telegram' });
    deps.kickOutbox();
    await ctx.answerCallbackQuery();
    const done = ratedText(t, code, outcome.rating.rating, solved);
    // Neither the edit nor the message instead taken: the update fails, for Telegram to deliver the press again.
    await withoutButtons(done).catch(() => ctx.reply(done));
    await chatTold(deps, c.id, round);
  } catch (err) {
    if (err instanceof AppError && err.code === 'illegal_transition') {
      // The window closed between the checks above and the rating: when it did. Otherwise rated meanwhile
      // (the refusal says so, or this round has a rating: the web page reopened the case) or not rateable now.
      const refusal = err.refusal;
      if (refusal?.reason === 'rating_closed') await alert(t.windowClosed(localTime(refusal.rateBy, deps.district.file.district.timezone)));
      else {
        const again =
          refusal?.reason === 'already_rated' ||
          (await deps.db.selectFrom('ratings').select('id').where('case_id', '=', c.id).where('round', '=', round).executeTakeFirst()) !== undefined;
        await alert(again ? t.already : t.notNow);
      }
      return void (await clearButtons());
    }
    if (err instanceof AppError && err.code === 'conflict') return void (await alert(TEXTS[lang].group.conflict));
    throw err;
  }
}

/**
 * The chat that rated has been told what its rating did: the 办结 / 重办
 * notice of the rating, waiting for this, is not pushed to it (the notify job
 * pushes it instead when a press is never answered).
 */
async function chatTold(deps: RatingDeps, caseId: string, round: number): Promise<void> {
  await deps.db
    .updateTable('ratings')
    .set({ chat_told_at: deps.clock.now().toISOString() })
    .where('case_id', '=', caseId)
    .where('round', '=', round)
    .where('chat_told_at', 'is', null)
    .execute();
}

/** The reporter notices a rating makes (办结 / 重办). For a rating made in the chat, the answer to the press tells it instead. */
const RATED_IN_CHAT = ['closed', 'reopened'];

/**
 * Of a reporter notice made by a rating in the chat: the round rated (null for
 * a notice queued before the round was named). Undefined for any other notice.
 */
export function chatRatingOf(kind: string, data: string | null): { round: number | null } | undefined {
  if (!RATED_IN_CHAT.includes(kind)) return undefined;
  const d = parseJson<{ ratedVia?: unknown; ratedRound?: unknown }>(data, {});
  if (d.ratedVia !== 'telegram') return undefined;
  return { round: typeof d.ratedRound === 'number' ? d.ratedRound : null };
}

/** Whether the notice of what the round's rating did (办结 / 重办) was pushed to the chat by its job, instead of the press's answer. */
async function noticeTold(deps: RatingDeps, caseId: string, round: number): Promise<boolean> {
  const sent = await deps.db
    .selectFrom('notifications')
    .select(['kind', 'data'])
    .where('case_id', '=', caseId)
    .where('audience', '=', 'reporter')
    .where('kind', 'in', RATED_IN_CHAT)
    .where('status', '=', 'sent')
    .execute();
  return sent.some((n) => chatRatingOf(n.kind, n.data)?.round === round);
}

/** What the chat is told of its rating: thanks, or (dissatisfied) that the case goes back to the bureau. */
function ratedText(t: (typeof TEXTS)[Lang]['rating'], code: string, rating: RatingValue, solved: boolean): string {
  return rating === 'dissatisfied' ? t.reopened(code) : t.thanks(code, t[rating], solved);
}

/**
 * The reply's message once its buttons go (rated, or no longer to be rated):
 * without the question of the second step (`asked`: the message is at that
 * step) nor the prompt to rate with the buttons; a reply the chat shows cut
 * (clip ends it with …) keeps the link to the whole of it on the tracking page.
 */
function withoutRatingPrompt(message: string, url: string, asked: boolean): string {
  const paragraphs = message.split('\n\n');
  if (paragraphs.length < 2) return message;
  if (asked) paragraphs.pop();
  const promptLang = (Object.keys(TEXTS) as Lang[]).find((l) => TEXTS[l].notify.ratePrompt(url) === paragraphs.at(-1));
  if (promptLang && paragraphs.length > 1) {
    paragraphs.pop();
    if (paragraphs.at(-1)!.endsWith('…')) paragraphs.push(TEXTS[promptLang].rating.fullReply(url));
  }
  return paragraphs.join('\n\n');
}
