/**
 * npm run telegram -- set-webhook      register PUBLIC_URL/telegram/webhook with Telegram, with the secret token
 * npm run telegram -- delete-webhook   stop webhook delivery (before switching to TELEGRAM_MODE=polling)
 * npm run telegram -- webhook-info     what Telegram has registered, and the last delivery error
 *
 * Uses the service's TELEGRAM_BOT_TOKEN, TELEGRAM_API_ROOT, TELEGRAM_WEBHOOK_SECRET and PUBLIC_URL.
 */
import { pathToFileURL } from 'node:url';
import { EnvError, parseEnv, type Env } from '../env.js';
import { ALLOWED_UPDATES, createTelegramApi } from '../telegram/api.js';

export const WEBHOOK_PATH = '/telegram/webhook';

export async function runTelegramCli(argv: string[], env: Env, out: (line: string) => void = console.log): Promise<number> {
  const command = argv[0];
  if (!command || !['set-webhook', 'delete-webhook', 'webhook-info'].includes(command)) {
    out('usage: npm run telegram -- set-webhook | delete-webhook | webhook-info');
    return 2;
  }
  if (!env.TELEGRAM_BOT_TOKEN) {
    out('TELEGRAM_BOT_TOKEN is not set: the bot is off');
    return 2;
  }
  // Throttled and retrying on 429, like every Bot API client of the service.
  const api = createTelegramApi(env);
  if (command === 'set-webhook') {
    if (!env.PUBLIC_URL) {
      out('PUBLIC_URL is not set: Telegram needs the public https address of this service');
      return 2;
    }
    if (!env.TELEGRAM_WEBHOOK_SECRET) {
      out('TELEGRAM_WEBHOOK_SECRET is not set: the webhook would accept anyone');
      return 2;
    }
    const url = env.PUBLIC_URL.replace(/\/+$/, '') + WEBHOOK_PATH;
    await api.setWebhook(url, { secret_token: env.TELEGRAM_WEBHOOK_SECRET, allowed_updates: [...ALLOWED_UPDATES] });
    out(`webhook set: ${url}`);
    return 0;
  }
  if (command === 'delete-webhook') {
    await api.deleteWebhook();
    out('webhook deleted');
    return 0;
  }
  const info = await api.getWebhookInfo();
  out(JSON.stringify(info, null, 2));
  return 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  (async () => {
    try {
      process.exitCode = await runTelegramCli(process.argv.slice(2), parseEnv(process.env));
    } catch (err) {
      console.error(err instanceof EnvError ? err.message : `telegram: ${(err as Error).message}`);
      process.exitCode = 1;
    }
  })().catch(() => {
    process.exitCode = 1;
  });
}
