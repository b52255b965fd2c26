import { timingSafeEqual } from 'node:crypto';
import { z } from '@hono/zod-openapi';
import { Hono } from 'hono';
import { BotError, GrammyError, HttpError, webhookCallback } from 'grammy';
import type { Deps } from '../src/deps.js';
import { INSTANT_RULE, LAST_UNIX_SECOND } from '../src/domain/service-years.js';
import { AppError, errorBody, fieldsOf } from '../src/errors.js';
import { createBot } from '../src/telegram/bot.js';
import { ChatBusy } from '../src/telegram/chat-lock.js';
import type { AppEnv } from './app-env.js';
import { limitBody } from './uploads.js';

/**
 * How long an update may take before the webhook answers 503 (Telegram then delivers it again).
 * The handling goes on meanwhile, and whatever it ends in is logged: it is no unhandled rejection
 * (grammY's own webhook timeout leaves one, which stops the process when the handling later fails).
 */
export const WEBHOOK_ANSWER_MS = 10_000;

/** Far more than any update Telegram sends (a message is at most 4,096 characters and its entities). */
const MAX_UPDATE_BYTES = 1024 * 1024;

const wholeNumber = z.number({ error: 'must be a whole number' }).int('must be a whole number').safe('must be a whole number');
const optionalText = z.string({ error: 'must be a string' }).optional();
// The language picks the bot's words (Chinese, or English for an English-language user).
const sender = z.looseObject({ id: wholeNumber, language_code: optionalText }, { error: 'must be a user object' });
// A message's send time, in Unix seconds, is read as a date: one the service's years hold.
const sentAt = wholeNumber.nonnegative('must be a whole number').max(LAST_UNIX_SECOND, INSTANT_RULE);

// A photo is fetched from Telegram later by its file id; a declared size over the limit is refused at once.
const file = z.looseObject({ file_id: z.string({ error: 'must be a string' }), file_size: wholeNumber.optional() }, { error: 'must be a file object' });

// Commands are told by their entities (grammY reads them as a list of typed spans).
const entities = z
  .array(z.looseObject({ type: z.string({ error: 'must be a string' }), offset: wholeNumber, length: wholeNumber }, { error: 'must be an entity object' }), {
    error: 'must be a list of entities',
  })
  .optional();

/** The parts of an update the bot relies on, as the Bot API defines them; the rest passes as sent. */
const messageFields = {
  entities,
  caption_entities: entities,
  chat: z.looseObject({ id: wholeNumber, type: z.string({ error: 'must be a string' }) }, { error: 'must be a chat object' }),
  from: sender.optional(),
  text: optionalText,
  caption: optionalText,
  contact: z.looseObject({ phone_number: z.string({ error: 'must be a string' }) }).optional(),
  photo: z.array(file, { error: 'must be a list of photo sizes' }).optional(),
  document: file.optional(),
};
// A private chat's messages always come from someone.
const fromInPrivate = { message: 'required in a private chat', path: ['from'] };
const updateSchema = z.looseObject({
  update_id: wholeNumber.nonnegative('must be a whole number'),
  message: z
    .looseObject(messageFields)
    .refine((m) => m.chat.type !== 'private' || m.from !== undefined, fromInPrivate)
    .optional(),
  // An edit is known by the message's id, which also tells which report it may belong to (the send time, for an older report).
  edited_message: z
    .looseObject({ ...messageFields, message_id: wholeNumber, date: sentAt })
    .refine((m) => m.chat.type !== 'private' || m.from !== undefined, fromInPrivate)
    .optional(),
  // The message whose button was pressed: its text is repeated with the choice marked.
  callback_query: z
    .looseObject({
      from: sender,
      data: optionalText,
      // Its send time tells a press on an old summary from one on the report under way (0 for a message too old to read).
      message: z.looseObject({ message_id: wholeNumber, date: sentAt, text: optionalText }, { error: 'must be a message object' }).optional(),
    })
    .optional(),
});

/**
 * POST /telegram/webhook: Telegram delivers the bot's updates here (webhook
 * mode). The X-Telegram-Bot-Api-Secret-Token header is checked first, and a
 * request without the right one is answered 401 without touching anything
 * (nor calling Telegram, which grammY does to learn about the bot before its
 * first update). When Telegram cannot be reached while an update is handled,
 * the answer is 503, so Telegram delivers the update again later. Null when
 * the bot is off or polls for its updates instead.
 */
export function telegramWebhookRoutes(deps: Deps) {
  const { TELEGRAM_BOT_TOKEN, TELEGRAM_MODE, TELEGRAM_WEBHOOK_SECRET } = deps.env;
  if (!TELEGRAM_BOT_TOKEN || TELEGRAM_MODE !== 'webhook' || !TELEGRAM_WEBHOOK_SECRET) return null;
  const bot = createBot(deps);
  // grammY's Hono adapter reads the update, checks the secret token and hands the update to the bot. Its own timeout
  // is off: the race below answers a slow update with 503 and logs how it ends (see WEBHOOK_ANSWER_MS).
  const handleUpdate = webhookCallback(bot, 'hono', { secretToken: TELEGRAM_WEBHOOK_SECRET, timeoutMilliseconds: Infinity });
  const secret = Buffer.from(TELEGRAM_WEBHOOK_SECRET);
  const app = new Hono<AppEnv>();
  const limit = limitBody(() => MAX_UPDATE_BYTES, (max) => `an update is at most ${max / 1024 / 1024} MB`);
  app.post('/telegram/webhook', async (c, next) => {
    const given = Buffer.from(c.req.header('X-Telegram-Bot-Api-Secret-Token') ?? '');
    if (given.length !== secret.length || !timingSafeEqual(given, secret)) {
      const err = new AppError('unauthorized', 'missing or wrong secret token', { 'X-Telegram-Bot-Api-Secret-Token': 'missing or wrong' });
      return c.json(errorBody(err, c.get('requestId')), 401);
    }
    return limit(c, next);
  });
  app.post('/telegram/webhook', async (c) => {
    // What Telegram sends is an object with a whole update_id; anything else is refused before the bot sees it.
    const update: unknown = await c.req.json().catch(() => null);
    if (update === null || typeof update !== 'object' || Array.isArray(update)) {
      throw new AppError('malformed_body', 'an update is a JSON object', { body: 'must be a JSON object (a Telegram update)' });
    }
    const checked = updateSchema.safeParse(update);
    if (!checked.success) throw new AppError('validation_failed', 'not a Telegram update', fieldsOf(checked.error));
    try {
      // grammY would learn about the bot with getMe retried for as long as Telegram is down; asked
      // here once, a failure is answered at once and the next delivery asks again.
      if (!bot.isInited()) bot.botInfo = await bot.api.getMe();
      // The adapter reads the update this handler has checked (Hono keeps the parsed body).
      const handling = handleUpdate(c);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<'late'>((resolve) => {
        timer = setTimeout(() => resolve('late'), WEBHOOK_ANSWER_MS);
      });
      try {
        const answer = await Promise.race([handling, late]);
        if (answer === 'late') {
          // Still being handled: answered 503, so Telegram delivers it again; how this handling ends is logged.
          handling.then(
            () => deps.logger.info('telegram update handled after the webhook had answered'),
            (err: unknown) => deps.logger.warn({ err: String(err instanceof BotError ? err.error : err) }, 'telegram update failed after the webhook had answered; Telegram delivers it again'),
          );
          return c.json(errorBody(new AppError('not_ready', 'the update is taking long; deliver it again later'), c.get('requestId')), 503);
        }
        return answer;
      } finally {
        clearTimeout(timer);
      }
    } catch (err) {
      const cause: unknown = err instanceof BotError ? err.error : err;
      if (cause instanceof ChatBusy) {
        // Another update of the chat still holds it (a burst, or Telegram's per-chat pace): later, in order.
        deps.logger.warn({ err: cause.message }, 'telegram chat busy; Telegram will deliver the update again');
        return c.json(errorBody(new AppError('not_ready', 'the chat is busy with an earlier update; deliver this one again later'), c.get('requestId')), 503);
      }
      if (cause instanceof GrammyError && cause.error_code === 403) {
        // The chat cannot be written to (the resident blocked the bot, the bot left the group): whatever the update
        // did is done, and a redelivery could say no more. Answered, so Telegram does not send it again.
        deps.logger.warn({ err: cause.description }, 'telegram refused the answer to an update: the chat cannot be written to');
        return c.body(null, 200);
      }
      if (!(cause instanceof HttpError)) throw err;
      deps.logger.warn({ err: cause.message }, 'telegram unreachable while handling an update; Telegram will deliver it again');
      return c.json(errorBody(new AppError('not_ready', 'Telegram cannot be reached; deliver the update again later'), c.get('requestId')), 503);
    }
  });
  return app;
}
