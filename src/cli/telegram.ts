/**
 * npm run telegram -- set-webhook      register PUBLIC_URL/telegram/webhook with Telegram, with the secret token
 * npm run telegram -- delete-webhook   stop webhook delivery (before switching to TELEGRAM_MODE=polling)
 * npm run telegram -- webhook-info     what Telegram has registered, and the last delivery error
 *
 * Uses the service's TELEGRAM_BOT_TOKEN, TELEGRAM_API_ROOT, TELEGRAM_WEBHOOK_SECRET and PUBLIC_URL.
 */
import { pathToFileURL } from 'node:url';
import { HttpError } from 'grammy';
import { parseEnv, type Env } from '../env.js';
import { ALLOWED_UPDATES, apiRootOf, createTelegramApi } from '../telegram/api.js';

export const WEBHOOK_PATH = '/telegram/webhook';

const COMMANDS = ['set-webhook', 'delete-webhook', 'webhook-info'];

export const USAGE = `usage: npm run telegram -- <command>

  set-webhook      register PUBLIC_URL${WEBHOOK_PATH} with Telegram, with
                   TELEGRAM_WEBHOOK_SECRET and the update kinds the bot takes; run it
                   again after an upgrade that takes new kinds (edited messages)
  delete-webhook   stop webhook delivery (before switching to TELEGRAM_MODE=polling)
  webhook-info     what Telegram has registered, and the last delivery error

Reads TELEGRAM_BOT_TOKEN, TELEGRAM_API_ROOT, TELEGRAM_WEBHOOK_SECRET and PUBLIC_URL like the service.`;

/**
 * The command of the command line, or what is wrong with it (named, then the
 * usage): checked before the environment, so --help works without it.
 */
export function telegramCommand(argv: string[]): { command: string } | { help: true } | { problem: string } {
  // Also after a command (set-webhook --help), as the other tools take it: the usage, and nothing sent to Telegram.
  if (argv.some((a) => a === '--help' || a === '-h')) return { help: true };
  const [command, ...extra] = argv;
  if (!command) return { problem: 'no command given' };
  if (command.startsWith('-')) return { problem: `unknown option ${command}` };
  if (!COMMANDS.includes(command)) return { problem: `unknown command "${command}"` };
  if (extra.length > 0) return { problem: `unexpected ${extra.join(' ')}` };
  return { command };
}

/** Runs one command; messages about a problem go to `err`, with exit status 2 for a usage mistake. */
export async function runTelegramCli(
  argv: string[],
  env: Env,
  out: (line: string) => void = console.log,
  err: (line: string) => void = console.error,
): Promise<number> {
  const parsed = telegramCommand(argv);
  if ('help' in parsed) {
    out(USAGE);
    return 0;
  }
  if ('problem' in parsed) {
    err(`telegram: ${parsed.problem}\n\n${USAGE}`);
    return 2;
  }
  const { command } = parsed;
  // A command that cannot be done as the service is configured (not a mistake in the command line): 1.
  if (!env.TELEGRAM_BOT_TOKEN) {
    err('telegram: TELEGRAM_BOT_TOKEN is not set: the bot is off');
    return 1;
  }
  // Throttled and retrying on 429, like every Bot API client of the service.
  const api = createTelegramApi(env);
  if (command === 'set-webhook') {
    if (!env.PUBLIC_URL) {
      err('telegram: PUBLIC_URL is not set: Telegram needs the public https address of this service');
      return 1;
    }
    if (!env.TELEGRAM_WEBHOOK_SECRET) {
      err('telegram: TELEGRAM_WEBHOOK_SECRET is not set: the webhook would accept anyone');
      return 1;
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

/**
 * Why Telegram could not be reached (ECONNREFUSED, ENOTFOUND…) and where it was
 * looked for (without any credentials of the address). Only the error's code:
 * its message holds the request's URL, and with it the bot token.
 */
function unreachable(err: unknown, env: Env | null): string {
  if (!(err instanceof HttpError) || !env) return '';
  const code = (err.error as { code?: unknown } | undefined)?.code;
  const root = new URL(apiRootOf(env));
  root.username = '';
  root.password = '';
  return ` (${typeof code === 'string' ? `${code}, ` : ''}TELEGRAM_API_ROOT=${root.href.replace(/\/+$/, '')})`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  (async () => {
    const argv = process.argv.slice(2);
    let env: Env | null = null;
    try {
      // --help and a mistyped command are answered without the environment (runTelegramCli reads none for them).
      const parsed = telegramCommand(argv);
      // Only set-webhook uses the webhook secret: the other commands read the environment as polling mode does, which needs none.
      if ('command' in parsed) env = parseEnv(parsed.command === 'set-webhook' ? process.env : { ...process.env, TELEGRAM_MODE: 'polling' });
      process.exitCode = await runTelegramCli(argv, env ?? ({} as Env));
    } catch (err) {
      console.error(`telegram: ${(err as Error).message}${unreachable(err, env)}`);
      process.exitCode = 1;
    }
  })().catch(() => {
    process.exitCode = 1;
  });
}
