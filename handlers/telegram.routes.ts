import { Hono } from 'hono';
import { webhookCallback } from 'grammy';
import type { Deps } from '../src/deps.js';
import { createBot } from '../src/telegram/bot.js';
import type { AppEnv } from './app-env.js';

/**
 * POST /telegram/webhook: Telegram delivers the bot's updates here (webhook
 * mode). grammY checks X-Telegram-Bot-Api-Secret-Token and answers 401
 * without touching anything when it is missing or wrong. Null when the bot
 * is off or polls for its updates instead.
 */
export function telegramWebhookRoutes(deps: Deps) {
  const { TELEGRAM_BOT_TOKEN, TELEGRAM_MODE, TELEGRAM_WEBHOOK_SECRET } = deps.env;
  if (!TELEGRAM_BOT_TOKEN || TELEGRAM_MODE !== 'webhook') return null;
  const bot = createBot(deps);
  const handle = webhookCallback(bot, 'hono', { secretToken: TELEGRAM_WEBHOOK_SECRET });
  const app = new Hono<AppEnv>();
  app.post('/telegram/webhook', (c) => handle(c));
  return app;
}
