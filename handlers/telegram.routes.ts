import { timingSafeEqual } from 'node:crypto';
import { Hono } from 'hono';
import { BotError, HttpError, webhookCallback } from 'grammy';
import type { Deps } from '../src/deps.js';
import { AppError, errorBody } from '../src/errors.js';
import { createBot } from '../src/telegram/bot.js';
import type { AppEnv } from './app-env.js';

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
  const handle = webhookCallback(bot, 'hono', { secretToken: TELEGRAM_WEBHOOK_SECRET });
  const secret = Buffer.from(TELEGRAM_WEBHOOK_SECRET);
  const app = new Hono<AppEnv>();
  app.post('/telegram/webhook', async (c) => {
    const given = Buffer.from(c.req.header('X-Telegram-Bot-Api-Secret-Token') ?? '');
    if (given.length !== secret.length || !timingSafeEqual(given, secret)) {
      const err = new AppError('unauthorized', 'missing or wrong secret token', { 'X-Telegram-Bot-Api-Secret-Token': 'missing or wrong' });
      return c.json(errorBody(err, c.get('requestId')), 401);
    }
    try {
      // grammY would learn about the bot with getMe retried for as long as Telegram is down; asked
      // here once, a failure is answered at once and the next delivery asks again.
      if (!bot.isInited()) bot.botInfo = await bot.api.getMe();
      return await handle(c);
    } catch (err) {
      const cause: unknown = err instanceof BotError ? err.error : err;
      if (!(cause instanceof HttpError)) throw err;
      deps.logger.warn({ err: cause.message }, 'telegram unreachable while handling an update; Telegram will deliver it again');
      return c.json(errorBody(new AppError('not_ready', 'Telegram cannot be reached; deliver the update again later'), c.get('requestId')), 503);
    }
  });
  return app;
}
