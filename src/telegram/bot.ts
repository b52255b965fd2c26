import { Bot, InlineKeyboard, Keyboard, session, type Context, type SessionFlavor, type StorageAdapter } from 'grammy';
import type { Message } from 'grammy/types';
import type { Kysely } from 'kysely';
import { statusLabel } from '../web/status-words.js';
import { currentLead, listAssignments } from '../../db/repositories/assignments.repository.js';
import { caseHandledIn, casesHandledIn, findCaseByTrackingCode } from '../../db/repositories/cases.repository.js';
import { isUniqueViolation } from '../../db/repositories/db-types.js';
import { scopedKey } from '../../db/repositories/idempotency.repository.js';
import type { Database } from '../../db/schema.js';
import type { Deps } from '../deps.js';
import { onlyTrackingCode, trackingCodeIn } from '../domain/tracking-code.js';
import { clip, keepableText } from '../domain/text.js';
import { publicUrl } from '../env.js';
import { acceptReport, earlierReport, type AcceptedReport, type ReportInput } from '../intake/accept-report.js';
import { admitReport, refusalWords, telegramSender } from '../intake/intake-gate.js';
import { lookupCounter, type LookupCounter } from '../intake/lookup-counter.js';
import { reporterFields } from '../intake/anonymity.js';
import { findPhones, insideDistrict, maskPhone } from '../pipeline/extract.js';
import { extractDetails } from '../pipeline/extract-details.js';
import {
  CHOICES,
  converse,
  emptySession,
  holdsPhotoOf,
  inProgress,
  firstMessageOf,
  lastMessageOf,
  pendingQuestion,
  reportText,
  reviveSession,
  saysNothing,
  type Choice,
  type ConversationContext,
  type Draft,
  type Input,
  type Prompt,
  type Session,
  type Step,
} from './conversation.js';
import { answersNeverFail, apiRootOf, followedBy, installDelivery, LONG_POLL_S, unchangedEditsAreDone, WEBHOOK_DELIVERY } from './api.js';
import { oneAtATimePerChat } from './chat-lock.js';
import { recordChatMigration } from './chat-migrations.js';
import { handleGroupButtons } from './group-posts.js';
import { linkedUser, looksLikeLinkToken, redeemLinkToken, unlink, voidLinkToken } from './links.js';
import { IMAGE_TYPES, MAX_PHOTO_BYTES, MAX_PHOTOS } from '../intake/limits.js';
import { queuePhotoFetch } from './photos.js';
import { chatGone } from './push.js';
import { onRatingButton, RATING_DATA } from './rating.js';
import { langOf, TEXTS, type Lang, type Texts } from './texts.js';
import { unitName } from '../district/district.schema.js';

/**
 * The Telegram bot. In private chats, the resident's side: every update is
 * handled once (telegram_updates), one at a time per chat across processes
 * (a lease in telegram_chat_locks), the report in progress lives in the
 * database (telegram_sessions), and a confirmed report becomes a case
 * through the same acceptReport as every channel; its photos are fetched by
 * a job. Staff link their account with /link; the rating buttons after a
 * reply call rateCase. In bureau groups, the sign-for and return buttons of
 * posted assignments (group-posts.ts).
 */

export type BotDeps = Pick<Deps, 'env' | 'db' | 'writer' | 'clock' | 'photos' | 'district' | 'logger' | 'kickOutbox' | 'calendar' | 'intakeGate'>;
export type BotContext = Context & SessionFlavor<Session>;

/** Telegram caps messages at 4096; longer text arriving anyway is refused. */
export const MAX_TEXT = 4999;
const CALLBACK_PREFIX = 'c:';
/** A venue's name and address as the case's address (which holds 300 characters). */
const MAX_VENUE = 200;

export function createBot(deps: BotDeps): Bot<BotContext> {
  const token = deps.env.TELEGRAM_BOT_TOKEN;
  if (!token) throw new Error('createBot: TELEGRAM_BOT_TOKEN is not set');
  // A call with no answer fails after TELEGRAM_API_TIMEOUT_S; polling's getUpdates waits its long poll besides.
  const timeoutSeconds = deps.env.TELEGRAM_API_TIMEOUT_S + (deps.env.TELEGRAM_MODE === 'polling' ? LONG_POLL_S : 0);
  const bot = new Bot<BotContext>(token, { client: { apiRoot: apiRootOf(deps.env), timeoutSeconds } });
  // Throttled, and a 429 waited out briefly; a longer one fails the update so Telegram redelivers it.
  installDelivery(bot.api, deps.env, WEBHOOK_DELIVERY);
  bot.api.config.use(answersNeverFail(deps.logger));
  bot.api.config.use(unchangedEditsAreDone());
  const lookups = lookupCounter(deps.env.TRACK_LOOKUP_LIMIT);
  const conversation: ConversationContext = {
    placeIn: (text) => {
      const d = extractDetails(deps.district, text, { location: null, receivedAt: deps.clock.now() });
      return d.place ?? (d.jurisdiction ? d.jurisdiction.matched : null);
    },
    inDistrict: (lat, lng) => insideDistrict(deps.district, { lat, lng }),
    maxPhotos: MAX_PHOTOS,
  };

  // The chat's lease first, then the update's claim: a redelivery that comes while the first delivery is still being
  // handled (Telegram gave up waiting for it) waits for that handling — or fails as busy, to come again — rather than
  // find the claim and be dropped as done, which loses the update when that handling then fails.
  bot.use(oneAtATimePerChat(deps.db, deps.clock));
  bot.use(oncePerUpdate(deps.db, deps.clock));
  handleGroupButtons(bot as unknown as Bot<Context>, deps);
  const pm = bot.chatType('private');
  pm.use(
    session({
      initial: emptySession,
      storage: sessionStorage(deps.db, deps.clock),
      getSessionKey: (ctx) => (ctx.chat ? String(ctx.chat.id) : undefined),
    }),
  );

  const textsFor = (ctx: Context): Texts => TEXTS[langOf(ctx.from?.language_code)];

  pm.command('start', async (ctx) => {
    const t = textsFor(ctx);
    // A report in progress is not dropped by /start, and the next message still answers its question: say so.
    const waiting = pendingQuestion(ctx.session);
    if (waiting.length === 0) return void (await ctx.reply(t.start));
    await ctx.reply(t.reportInProgress);
    for (const prompt of waiting) await say(ctx, t, prompt);
  });
  pm.command('help', (ctx) => ctx.reply(textsFor(ctx).help));
  pm.command('cancel', (ctx) => run(ctx, { kind: 'cancel' }));
  pm.command('link', async (ctx) => {
    const t = textsFor(ctx).link;
    const token = ctx.match.trim();
    if (!token) return void (await ctx.reply(t.usage));
    const outcome = await redeemLinkToken(deps.db, token, String(ctx.from.id), deps.clock.now());
    if (!outcome.ok) return void (await ctx.reply(t[outcome.reason]));
    const unitCode = outcome.user.unitCode;
    deps.logger.info({ userId: outcome.user.id }, 'telegram: staff account linked');
    if (!unitCode) return void (await ctx.reply(t.linkedStaff(outcome.user.name)));
    await ctx.reply(t.linked(outcome.user.name, deps.district.units.get(unitCode)?.name[langOf(ctx.from.language_code)] ?? unitCode));
  });
  pm.command('unlink', async (ctx) => {
    const t = textsFor(ctx).link;
    const had = await linkedUser(deps.db, String(ctx.from.id));
    const removed = await unlink(deps.db, { telegramUserId: String(ctx.from.id) });
    await ctx.reply(removed || had ? t.unlinked : t.notLinked);
  });
  // A group upgraded to a supergroup: Telegram tells the bot in both chats; its posts and notices go to the new one.
  const groups = bot.chatType(['group', 'supergroup']);
  groups.on('message:migrate_to_chat_id', (ctx) =>
    recordChatMigration(deps.db, deps.logger, String(ctx.chat.id), String(ctx.msg.migrate_to_chat_id), deps.clock.now()),
  );
  groups.on('message:migrate_from_chat_id', (ctx) =>
    recordChatMigration(deps.db, deps.logger, String(ctx.msg.migrate_from_chat_id), String(ctx.chat.id), deps.clock.now()),
  );
  // A resident who added the bot to a group (or anyone there) sending its commands: reports and cases are for a private
  // chat, where no one else reads them, and the way there is said rather than nothing at all.
  groups.command(['start', 'help', 'status', 'cancel'], (ctx) =>
    ctx.reply(TEXTS[langOf(ctx.from?.language_code)].inGroup(`https://t.me/${ctx.me.username}`), { link_preview_options: { is_disabled: true } }),
  );
  // A code typed in a group is seen by everyone there: it links nobody and stops working.
  bot.chatType(['group', 'supergroup']).command('link', async (ctx) => {
    const code = ctx.match.trim();
    const t = TEXTS[langOf(ctx.from?.language_code)].link;
    // Without a code there is nothing to void: only where to send one.
    if (!code) return void (await ctx.reply(t.privateOnlyNoCode));
    await voidLinkToken(deps.db, code, deps.clock.now());
    await ctx.reply(t.privateOnly);
  });
  pm.command('status', async (ctx) => {
    const t = textsFor(ctx);
    const arg = ctx.match.trim();
    const lang = langOf(ctx.from?.language_code);
    await ctx.reply(arg ? await oneStatus(deps, lookups, String(ctx.chat.id), t, lang, arg) : await ownStatus(deps, t, lang, String(ctx.chat.id)));
  });
  // Any other command: say what the bot understands rather than take it as a description.
  pm.on('message:entities:bot_command', async (ctx, next) => {
    const first = ctx.msg.entities[0];
    if (first?.type === 'bot_command' && first.offset === 0) return void (await ctx.reply(textsFor(ctx).help));
    return next();
  });

  pm.callbackQuery(RATING_DATA, (ctx) => onRatingButton(ctx, deps, ctx.match as RegExpMatchArray));
  pm.on('callback_query:data', async (ctx) => {
    const data = ctx.callbackQuery.data;
    const choice = data.startsWith(CALLBACK_PREFIX) ? (data.slice(CALLBACK_PREFIX.length) as Choice) : null;
    if (!choice || !CHOICES.includes(choice)) {
      await ctx.answerCallbackQuery({ text: textsFor(ctx).staleButton });
      return;
    }
    await run(ctx, { kind: 'choice', choice });
  });

  pm.on('message:text', async (ctx) => {
    const t = textsFor(ctx);
    const text = ctx.msg.text.replaceAll('\u0000', '');
    if (saysNothing(text)) return void (await ctx.reply(t.unusable.empty));
    if (text.length > MAX_TEXT) return void (await ctx.reply(t.unusable.tooLong));
    // A staff member's link code sent without /link is no report: say how to send it (it links nothing as it is).
    if (!inProgress(ctx.session) && looksLikeLinkToken(text)) return void (await ctx.reply(t.link.withoutCommand));
    // A resident asking after a report by sending its tracking code alone (typed, or the bot's link or 查询码 line
    // pasted), or with only words asking after it (查询 K7M3QXT9AD, K7M3QXT9AD 进度), is answered as /status CODE, not
    // taken as the description of a new report.
    const asked = inProgress(ctx.session) ? null : onlyTrackingCode(text);
    if (asked) return void (await ctx.reply(await oneStatus(deps, lookups, String(ctx.chat.id), t, langOf(ctx.from.language_code), asked)));
    await run(ctx, { kind: 'text', text, messageId: ctx.msg.message_id });
  });
  pm.on(['message:photo', 'message:document'], async (ctx) => {
    const photo = photoOf(ctx.msg, textsFor(ctx));
    if (!photo || 'refusal' in photo) return void (await ctx.reply(photo?.refusal ?? textsFor(ctx).unusable.other));
    await run(ctx, { kind: 'photo', fileId: photo.fileId, caption: ctx.msg.caption ?? null, messageId: ctx.msg.message_id, album: ctx.msg.media_group_id ?? null });
  });
  pm.on('message:location', async (ctx) => {
    const { latitude: lat, longitude: lng } = ctx.msg.location;
    // Telegram's clients send a point on Earth; anything else is not a place the case can keep.
    if (!onEarth(lat, lng)) return notTaken(ctx, 'other');
    // A venue (a place picked in Telegram's search) comes with its name and address: the case keeps them as its address.
    const v = ctx.msg.venue;
    const venue = v ? [v.title, v.address].filter((x) => typeof x === 'string' && x.trim() !== '').join(' ').trim() : '';
    await run(ctx, { kind: 'location', lat, lng, venue: venue ? clip(venue, MAX_VENUE) : null });
  });
  pm.on('message:contact', async (ctx) => {
    const c = ctx.msg.contact;
    if (typeof c.phone_number !== 'string') return notTaken(ctx, 'other');
    // The share button sends the resident's own contact, with their user id; a card from the phone book
    // (no user id) or of another Telegram user is someone else's.
    if (c.user_id !== ctx.from?.id) {
      // Only while the contact is asked for does the chat show the button that shares one's own: said then, and only then.
      if (ctx.session.stage === 'ask_contact_details') return void (await ctx.reply(textsFor(ctx).unusable.notOwnContactAsked));
      return notTaken(ctx, 'notOwnContact');
    }
    const name = [c.first_name, c.last_name].filter((x) => typeof x === 'string' && x !== '').join(' ').trim();
    // Telegram gives 8613812345678 or +86 138…: keep the number people dial.
    const phone = findPhones(c.phone_number)[0] ?? c.phone_number.replace(/[^\d+]/g, '');
    if (phone.replace(/\D/g, '').length < 5) return notTaken(ctx, 'other');
    return run(ctx, { kind: 'contact', name: name || null, phone });
  });
  pm.on('message:sticker', (ctx) => notTaken(ctx, 'sticker'));
  pm.on(['message:voice', 'message:audio', 'message:video_note'], (ctx) => notTaken(ctx, 'voice'));
  pm.on('message', (ctx) => notTaken(ctx, 'other'));

  /** A message the bot cannot use: said so, and in the middle of a report, that its question still stands (not "describe the problem"). */
  async function notTaken(ctx: BotContext, kind: 'sticker' | 'voice' | 'notOwnContact' | 'other'): Promise<void> {
    const t = textsFor(ctx).unusable;
    await ctx.reply(inProgress(ctx.session) ? t.inReport[kind] : t[kind]);
  }

  /*
   * A message the resident edited. A live location sends one for every
   * movement: ignored without a word, it changes nothing. An edit of the
   * words a report in progress took (a description, a caption, the typed
   * place) corrects the draft, and a photo of the draft replaced in its
   * message replaces the draft's (checked as a new photo is); any other
   * edit, above all of a report already submitted, changes nothing and the
   * resident is told how to add to it, once per message (fixing a typo three
   * times is answered once).
   */
  pm.on('edited_message', async (ctx) => {
    const msg = ctx.editedMessage;
    if (msg.location) return;
    const t = textsFor(ctx);
    const photo = photoOf(msg, t);
    let text = (msg.text ?? msg.caption)?.replaceAll('\u0000', '') ?? null;
    // A caption that says nothing is no caption, as on a new photo.
    if (photo && text !== null && saysNothing(text)) text = null;
    if (text !== null && saysNothing(text)) return void (await ctx.reply(t.unusable.empty));
    if (text !== null && text.length > MAX_TEXT) return void (await ctx.reply(t.unusable.tooLong));
    // A replacement the report could not take as a photo changes nothing: the draft keeps the photo it had.
    if (photo && 'refusal' in photo && holdsPhotoOf(ctx.session, msg.message_id)) return void (await ctx.reply(photo.refusal));
    const fileId = photo && 'fileId' in photo ? photo.fileId : null;
    if (text !== null || fileId !== null) {
      const input = keepable({ kind: 'edit', messageId: msg.message_id, text, fileId });
      const result = converse(ctx.session, input, conversation);
      if (!result.editIgnored) {
        ctx.session = result.session;
        for (const prompt of result.prompts) await say(ctx, t, prompt);
        return;
      }
    }
    const chatId = String(ctx.chat.id);
    if (!(await claimEditNotice(deps, chatId, msg.message_id))) return;
    try {
      const submitted = await caseSubmittedAfter(deps, chatId, msg.message_id, msg.date);
      await ctx.reply(submitted ? t.editOnRecord(submitted) : t.editNotTaken);
    } catch (err) {
      // Not answered after all: Telegram's redelivery of the update answers it.
      await deps.db.deleteFrom('telegram_edit_notices').where('chat_id', '=', chatId).where('message_id', '=', msg.message_id).execute().catch(() => {});
      throw err;
    }
  });

  /** Feeds one input to the conversation, saves the new state and says what it says. */
  async function run(ctx: BotContext, given: Input): Promise<void> {
    const input = keepable(given);
    const lang = langOf(ctx.from?.language_code);
    const t = TEXTS[lang];
    // A button of a message sent before the report under way began (the summary or question of a report dropped with
    // /cancel, or of one submitted) showed another report: it neither submits nor cancels nor answers this one.
    const pressedOn = ctx.callbackQuery?.message?.message_id;
    const began = firstMessageOf(ctx.session.draft);
    const earlier = input.kind === 'choice' && pressedOn !== undefined && began !== null && pressedOn < began;
    const result: Step = earlier ? { session: ctx.session, prompts: [], submit: null, chose: null } : converse(ctx.session, input, conversation);
    if (ctx.callbackQuery && !result.chose) {
      // 确认提交 pressed again on a summary already submitted (a second tap): the report it made, not "no longer valid".
      const summary = ctx.callbackQuery.message;
      const submitted =
        input.kind === 'choice' && input.choice === 'confirm' && summary
          ? await caseSubmittedAfter(deps, String(ctx.chat!.id), summary.message_id, summary.date)
          : null;
      await ctx.answerCallbackQuery(submitted ? { text: t.alreadySubmitted(submitted), show_alert: true } : { text: t.staleButton });
      return;
    }
    // The case is made before the button shows as pressed: if making it fails, the resident can press again.
    let accepted: AcceptedReport | null = null;
    if (result.submit) {
      const draft = result.submit;
      const chatId = String(ctx.chat!.id);
      const admitted = await submit(deps, draft, chatId, ctx.update.update_id);
      if (!admitted.ok) {
        // Nothing submitted and the conversation left at its summary: 确认提交 works again once the window ends.
        const said = refusalWords(deps.intakeGate!.limit, admitted.retryAfterS, deps.clock.now(), lang, deps.district.file.district.timezone);
        deps.logger.info({ retryAfterS: admitted.retryAfterS }, 'report refused: its chat reached INTAKE_RATE_LIMIT');
        if (ctx.callbackQuery) await ctx.answerCallbackQuery();
        await ctx.reply(t.tooManyReports(said.reports, said.window, said.until));
        return;
      }
      accepted = admitted.made;
      const now = deps.clock.now();
      await deps.db.transaction().execute(async (trx) => {
        await trx
          .insertInto('telegram_reporters')
          .values({
            case_id: accepted!.id,
            chat_id: chatId,
            language: lang,
            created_at: now.toISOString(),
            last_message_id: lastBeforeSubmission(draft, ctx.callbackQuery?.message?.message_id),
            first_message_id: firstMessageOf(draft),
            code_sent_at: null,
          })
          .onConflict((oc) => oc.column('case_id').doNothing())
          .execute();
        // The photos are downloaded by a job: the webhook answers without waiting for Telegram's file servers.
        await queuePhotoFetch(trx, accepted!.id, draft.photos, now);
      });
    }
    if (ctx.callbackQuery && result.chose) {
      await ctx.answerCallbackQuery();
      const message = ctx.callbackQuery.message;
      if (message && 'text' in message && message.text) {
        await ctx.editMessageText(followedBy(message.text, t.chosen(choiceLabel(t, result.chose)))).catch((err: unknown) => {
          deps.logger.debug({ err: String(err) }, 'telegram: could not mark the chosen button');
        });
      }
    }
    if (accepted) {
      ctx.session = result.session;
      await ctx
        .reply(t.accepted(accepted.trackingCode, `${publicUrl(deps.env)}/track/${accepted.trackingCode}`), {
          reply_markup: { remove_keyboard: true },
        })
        .catch((err: unknown) => {
          // The resident blocked the bot meanwhile: the report is made all the same, and the conversation must move on
          // past it (a throw here would leave the submitted draft saved, and its 确认提交 pressed after an unblock
          // would make the report a second time).
          if (!chatGone(err)) throw err;
          deps.logger.warn({ err: err.description }, 'telegram: the tracking code could not be sent, the chat cannot be written to');
        });
      // The case's notices to the chat wait for this (the pipeline may have dispatched it while the answer waited
      // out a 429), so the first thing the resident hears of the case is its code.
      await deps.db
        .updateTable('telegram_reporters')
        .set({ code_sent_at: deps.clock.now().toISOString() })
        .where('case_id', '=', accepted.id)
        .where('code_sent_at', 'is', null)
        .execute();
      deps.kickOutbox();
      return;
    }
    ctx.session = result.session;
    for (const prompt of result.prompts) await say(ctx, t, prompt);
  }

  return bot;
}

function summaryButtons(t: Texts): InlineKeyboard {
  return new InlineKeyboard().text(t.confirm, `${CALLBACK_PREFIX}confirm`).text(t.cancel, `${CALLBACK_PREFIX}cancel`);
}

function choiceLabel(t: Texts, choice: Choice): string {
  return { anonymous: t.anonymous, contact: t.leaveContact, confirm: t.confirm, cancel: t.cancel }[choice];
}

async function say(ctx: BotContext, t: Texts, p: Prompt): Promise<void> {
  switch (p.say) {
    case 'ask_text':
      return void (await ctx.reply(t.askText));
    case 'greeting':
      return void (await ctx.reply(t.start));
    case 'you_are_welcome':
      return void (await ctx.reply(t.youAreWelcome));
    case 'rate_with_buttons':
      return void (await ctx.reply(t.rateWithButtons));
    case 'ask_place': {
      const asked = await ctx.reply(p.again ? t.askPlaceAgain : t.askPlace, { reply_markup: new Keyboard().requestLocation(t.shareLocation).resized().oneTime() });
      // A text sent before this question is not its answer (conversation.ts): the report remembers when it was asked.
      ctx.session.draft.placeAskedId = asked.message_id;
      return;
    }
    case 'ask_contact':
      return void (await ctx.reply(t.askContact, {
        reply_markup: new InlineKeyboard().text(t.anonymous, `${CALLBACK_PREFIX}anonymous`).row().text(t.leaveContact, `${CALLBACK_PREFIX}contact`),
      }));
    case 'ask_contact_details':
      return void (await ctx.reply(t.askContactDetails, { reply_markup: new Keyboard().requestContact(t.shareContact).resized().oneTime() }));
    case 'contact_invalid':
      return void (await ctx.reply(t.contactInvalid));
    case 'summary': {
      const sent = await ctx.reply(summaryText(t, p.draft), { reply_markup: summaryButtons(t) });
      ctx.session.draft.summaryId = sent.message_id;
      return;
    }
    case 'summary_updated': {
      const shown = ctx.session.draft.summaryId;
      const updated =
        shown != null &&
        (await ctx.api.editMessageText(ctx.chat!.id, shown, summaryText(t, p.draft), { reply_markup: summaryButtons(t) }).then(
          () => true,
          // Telegram's words when the text is already what it says (the photo over the limit changed nothing).
          (err: unknown) => /message is not modified/i.test(String(err)),
        ));
      if (updated) return;
      return void (await say(ctx, t, { say: 'summary', draft: p.draft }));
    }
    case 'photo_added':
      return void (await ctx.reply(t.photoAdded(p.count)));
    case 'too_many_photos':
      return void (await ctx.reply(t.tooManyPhotos(p.max, p.captionKept)));
    case 'description_full':
      return void (await ctx.reply(t.descriptionFull(p.max, p.atSummary)));
    case 'location_outside':
      return void (await ctx.reply(t.locationOutside));
    case 'location_added':
      return void (await ctx.reply(t.locationAdded));
    case 'anonymous_noted':
      return void (await ctx.reply(t.anonymousNoted));
    case 'contact_noted':
      return void (await ctx.reply(t.contactNoted));
    case 'cancelled':
      return void (await ctx.reply(t.cancelled, { reply_markup: { remove_keyboard: true } }));
    case 'nothing_to_cancel':
      return void (await ctx.reply(t.nothingToCancel));
    case 'stale_button':
      return void (await ctx.reply(t.staleButton));
    case 'correction_taken':
      return void (await ctx.reply(t.correctionTaken));
  }
}

export function summaryText(t: Texts, d: Draft): string {
  // The words as the case will keep them: an anonymous report's without the numbers and names in them.
  const kept = reporterOf(d);
  const what = kept.text;
  // The place as the case gets it (submit): the typed place or the shared venue as its address, else the shared point;
  // the place the description names only when the resident gave none.
  const shared = d.location ? t.sharedLocation(d.location.lat, d.location.lng) : null;
  const where = kept.address ?? shared ?? d.namedPlace;
  const contact = d.contact ? [d.contact.name, maskPhone(d.contact.phone)].filter(Boolean).join(' ') : null;
  return t.summary({ what: clip(what, 200), where, placeUnknown: d.placeUnknown === true, photos: d.photos.length, contact });
}

/**
 * Creates the case; the idempotency key of the confirming update makes a retry
 * return the same case. The chat is part of the key: Telegram numbers updates
 * afresh (at random) after a quiet week, and an old confirmation's number must
 * not stand for a new report.
 */
async function submit(deps: BotDeps, draft: Draft, chatId: string, updateId: number) {
  const input = reportInput(draft);
  const key = scopedKey('telegram', chatId, updateId);
  const make = () =>
    // No kick of the outbox on commit: the bot kicks it once the resident has the tracking code (the relay's own round finds it otherwise).
    acceptReport({ db: deps.db, writer: deps.writer, clock: deps.clock, photos: deps.photos }, input, key);
  // A chat is a sender of the public intake, as a network address is on the web.
  if (!deps.intakeGate) return { ok: true as const, made: await make() };
  return admitReport(deps.intakeGate, telegramSender(chatId), make, () => earlierReport(deps.db, input, key));
}

/** The report's words and reporter as the case keeps them: anonymous keeps no name or phone, in the words either, as on the web. */
function reporterOf(draft: Draft): ReturnType<typeof reporterFields> {
  return reporterFields({
    text: reportText(draft),
    address: draft.address ?? draft.venue ?? null,
    name: draft.contact?.name ?? null,
    phone: draft.contact?.phone ?? null,
    anonymous: draft.contact === null,
  });
}

function reportInput(draft: Draft): ReportInput {
  const reporter = reporterOf(draft);
  return {
    channel: 'telegram',
    text: reporter.text,
    address: reporter.address,
    location: draft.location,
    name: reporter.name,
    phone: reporter.phone,
    anonymous: reporter.anonymous,
    receivedData: draft.photos.length > 0 ? { photosToFetch: draft.photos.length } : {},
  };
}

/**
 * Whether the edit of this message is to be answered: only the first is
 * (claimed in telegram_edit_notices, forgotten once the message can no longer
 * be edited).
 */
async function claimEditNotice(deps: BotDeps, chatId: string, messageId: number): Promise<boolean> {
  try {
    await deps.db
      .insertInto('telegram_edit_notices')
      .values({ chat_id: chatId, message_id: messageId, noticed_at: deps.clock.now().toISOString() })
      .execute();
    return true;
  } catch (err) {
    if (isUniqueViolation(err)) return false;
    throw err;
  }
}

/**
 * The chat's last message before the report was submitted: the summary the
 * resident confirmed, or a part of the report sent after it (a photo added at
 * the summary, or a summary confirmed after a newer one came, then that newer one). A private chat
 * numbers its messages in order, the resident's and the bot's alike.
 */
function lastBeforeSubmission(draft: Draft, summaryId: number | undefined): number | null {
  // The newest summary the bot showed is part of it too, when an older one was confirmed: its 确认提交 then names this report.
  const ids = [summaryId ?? null, draft.summaryId ?? null, lastMessageOf(draft)].filter((id): id is number => id !== null);
  return ids.length > 0 ? Math.max(...ids) : null;
}

/**
 * The tracking code of the report a message of the chat was part of (a part
 * of it, its summary): the first submitted after the message, unless the
 * report began after it — the message then belonged to a report dropped with
 * /cancel, or to none. Matched by the message's id; a report submitted
 * before the ids were kept, by the send time (`date`, Telegram's Unix
 * seconds), which a message sent in the second of a submission would get
 * wrong. Null when the message is part of no submitted report.
 */
async function caseSubmittedAfter(deps: BotDeps, chatId: string, messageId: number, date: number): Promise<string | null> {
  const sentAt = new Date(date * 1000).toISOString();
  const row = await deps.db
    .selectFrom('telegram_reporters as r')
    .innerJoin('cases as c', 'c.id', 'r.case_id')
    .select(['c.tracking_code', 'r.first_message_id'])
    .where('r.chat_id', '=', chatId)
    .where((eb) =>
      eb.or([
        eb('r.last_message_id', '>=', messageId),
        eb.and([eb('r.last_message_id', 'is', null), eb('r.created_at', '>=', sentAt)]),
      ]),
    )
    .orderBy('r.created_at', 'asc')
    .limit(1)
    .executeTakeFirst();
  if (!row) return null;
  return row.first_message_id !== null && Number(row.first_message_id) > messageId ? null : row.tracking_code;
}

/** The chat's latest cases /status lists; the rest are counted, and looked up one by one. */
const STATUS_LIST_MAX = 20;

async function ownStatus(deps: BotDeps, t: Texts, lang: Lang, chatId: string): Promise<string> {
  const rows = await deps.db
    .selectFrom('telegram_reporters as r')
    .innerJoin('cases as c', 'c.id', 'r.case_id')
    .select(['c.tracking_code', 'c.status', 'c.received_at', 'c.merged_into'])
    .where('r.chat_id', '=', chatId)
    .orderBy('c.received_at', 'desc')
    .limit(STATUS_LIST_MAX)
    .execute();
  if (rows.length === 0) return t.statusNone;
  // A full list may leave earlier cases out: the resident is told how many, and how to look one up.
  const more = rows.length < STATUS_LIST_MAX ? 0 : (await countChatCases(deps.db, chatId)) - rows.length;
  const day = new Intl.DateTimeFormat('sv-SE', { timeZone: deps.district.file.district.timezone, dateStyle: 'short' });
  // A merged report: how the case it is handled in goes, as /status CODE says it.
  const handled = await casesHandledIn(deps.db, rows.flatMap((r) => (r.status === 'merged' && r.merged_into ? [r.merged_into] : [])));
  const lines = rows.map((r) => {
    const handledIn = r.status === 'merged' && r.merged_into ? handled.get(r.merged_into) : undefined;
    const status = handledIn ? t.statusMerged(statusLabel(lang, r.status), statusLabel(lang, handledIn.status)) : statusLabel(lang, r.status);
    return t.statusLine(r.tracking_code, status, day.format(new Date(r.received_at)));
  });
  return more > 0 ? t.statusListPart(lines, more, `${publicUrl(deps.env)}/track`) : t.statusList(lines);
}

async function countChatCases(db: Kysely<Database>, chatId: string): Promise<number> {
  const row = await db
    .selectFrom('telegram_reporters as r')
    .innerJoin('cases as c', 'c.id', 'r.case_id')
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .where('r.chat_id', '=', chatId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

async function oneStatus(deps: BotDeps, lookups: LookupCounter, chatId: string, t: Texts, lang: Lang, arg: string): Promise<string> {
  // A chat that tried too many unknown codes waits, as an address does on the tracking page (TRACK_LOOKUP_LIMIT).
  const sender = telegramSender(chatId);
  const heldBack = await lookups.heldBack(sender);
  if (heldBack !== null) return t.statusHeldBack(Math.ceil(heldBack / 60));
  // The code as typed, or the tracking link or 查询码 line of the bot's own message, pasted.
  const code = trackingCodeIn(arg);
  const found = code ? await findCaseByTrackingCode(deps.db, code) : null;
  if (!found) {
    await lookups.missed(sender);
    return t.statusNotFound;
  }
  // A merged report is told how the case it is handled in goes, without that case's code (its reporter's key).
  const handledIn = (await caseHandledIn(deps.db, found)) ?? found;
  const lead = currentLead(await listAssignments(deps.db, handledIn.id));
  const leadName = lead ? unitName(deps.district, lead.unitCode, lang) : null;
  const status = handledIn === found ? statusLabel(lang, found.status) : t.statusMerged(statusLabel(lang, found.status), statusLabel(lang, handledIn.status));
  return t.statusOne(found.trackingCode, status, leadName, `${publicUrl(deps.env)}/track/${found.trackingCode}`);
}

/**
 * Telegram redelivers an update it got no 200 for: the first delivery claims
 * the update id, a repeat is dropped. A failed handling releases the claim so
 * Telegram's retry is handled.
 */
function oncePerUpdate(db: Kysely<Database>, clock: Deps['clock']) {
  // Old update ids are forgotten by the periodic sweeps (pruneTelegramState), not here: an update never waits on them.
  return async (ctx: Context, next: () => Promise<void>) => {
    const id = ctx.update.update_id;
    try {
      await db.insertInto('telegram_updates').values({ update_id: id, received_at: clock.now().toISOString() }).execute();
    } catch (err) {
      if (isUniqueViolation(err)) return;
      throw err;
    }
    try {
      await next();
    } catch (err) {
      await db.deleteFrom('telegram_updates').where('update_id', '=', id).execute().catch(() => {});
      throw err;
    }
  };
}

/** grammY session storage over the telegram_sessions table; a finished or empty report leaves no row. */
export function sessionStorage(db: Kysely<Database>, clock: Deps['clock']): StorageAdapter<Session> {
  return {
    async read(key) {
      const row = await db.selectFrom('telegram_sessions').select('state').where('chat_id', '=', key).executeTakeFirst();
      if (!row) return undefined;
      try {
        return reviveSession(JSON.parse(row.state));
      } catch {
        return undefined;
      }
    },
    async write(key, value) {
      if (!inProgress(value)) {
        await db.deleteFrom('telegram_sessions').where('chat_id', '=', key).execute();
        return;
      }
      const state = JSON.stringify(value);
      const updated_at = clock.now().toISOString();
      await db
        .insertInto('telegram_sessions')
        .values({ chat_id: key, state, updated_at })
        .onConflict((oc) => oc.column('chat_id').doUpdateSet({ state, updated_at }))
        .execute();
    },
    async delete(key) {
      await db.deleteFrom('telegram_sessions').where('chat_id', '=', key).execute();
    },
  };
}

/**
 * The photo a message carries (its largest size, or an image sent "as a
 * file", which keeps its quality), or why a report cannot take it; null for
 * a message without one.
 */
function photoOf(msg: Message, t: Texts): { fileId: string } | { refusal: string } | null {
  const tooLargeRefusal = { refusal: t.unusable.photoTooLarge(MAX_PHOTO_BYTES / 1024 / 1024) };
  if (msg.photo) {
    const largest = msg.photo[msg.photo.length - 1];
    if (!largest) return { refusal: t.unusable.other };
    return tooLarge(largest.file_size) ? tooLargeRefusal : { fileId: largest.file_id };
  }
  const doc = msg.document;
  if (!doc) return null;
  // Any other file is not evidence the bot can use.
  if (!doc.mime_type || !IMAGE_TYPES.has(doc.mime_type)) return { refusal: t.unusable.document };
  // The photo job would leave it out after the resident was told it was received: refused now, with the reason.
  return tooLarge(doc.file_size) ? tooLargeRefusal : { fileId: doc.file_id };
}

/** A file Telegram says is larger than a report's photo may be (a file whose size it does not give is checked on download). */
function tooLarge(fileSize: number | undefined): boolean {
  return typeof fileSize === 'number' && fileSize > MAX_PHOTO_BYTES;
}

function onEarth(lat: unknown, lng: unknown): boolean {
  return typeof lat === 'number' && typeof lng === 'number' && Math.abs(lat) <= 90 && Math.abs(lng) <= 180;
}

/**
 * What the service does not keep (a NUL character, a lone surrogate, U+FFFD;
 * no Telegram client types the first two) is dropped from whatever text an
 * input carries: a chat cannot be answered with a 400, and a draft never holds it.
 */
function keepable(input: Input): Input {
  const entries = Object.entries(input).map(([k, v]) => [k, typeof v === 'string' ? keepableText(v) : v]);
  return Object.fromEntries(entries) as Input;
}
