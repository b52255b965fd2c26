import { beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliRun } from './harness.js';
import { startTelegramEmulator, type TelegramEmulator } from './telegram-emulator.js';
import { SECRET, TOKEN } from './telegram-helpers.js';

/** `npm run telegram -- …` as its own process, against the Telegram emulator. */
describe('npm run telegram', { timeout: 60_000 }, () => {
  let emu: TelegramEmulator;
  const telegram = (args: string[], env: Record<string, string> = {}): Promise<CliRun> =>
    runCli('telegram', args, {
      env: { TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_API_ROOT: emu.url, TELEGRAM_WEBHOOK_SECRET: SECRET, PUBLIC_URL: 'http://intake.test', ...env },
    });

  beforeAll(async () => {
    emu = await startTelegramEmulator(TOKEN);
  });

  it('prints its usage for --help, with exit status 0, whatever the environment', async () => {
    // Webhook mode without its secret is no valid configuration: --help still answers.
    const run = await telegram(['--help'], { TELEGRAM_WEBHOOK_SECRET: '' });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('usage: npm run telegram -- <command>');
    for (const command of ['set-webhook', 'delete-webhook', 'webhook-info']) expect(run.stdout).toContain(command);
  });

  it('prints its usage for a command with --help, and calls no Telegram method', async () => {
    const before = emu.calls.length;
    const run = await telegram(['set-webhook', '--help']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('usage: npm run telegram -- <command>');
    expect(run.stderr).toBe('');
    expect(emu.calls.slice(before).filter((c) => /webhook/i.test(c.method))).toEqual([]);
  });

  it.concurrent.each([
    ['no command', [], 'telegram: no command given'],
    ['an unknown command', ['set-hook'], 'telegram: unknown command "set-hook"'],
    ['an unknown option', ['--verbose'], 'telegram: unknown option --verbose'],
    ['an extra argument', ['set-webhook', 'https://elsewhere.example'], 'telegram: unexpected https://elsewhere.example'],
  ])('refuses %s with exit status 2 on stderr, naming it, and calls no Telegram method', async (_what, args, problem) => {
    const before = emu.calls.length;
    const run = await telegram(args);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(problem);
    expect(run.stderr).toContain('usage: npm run telegram');
    expect(run.stdout).toBe('');
    expect(emu.calls.slice(before).filter((c) => /webhook/i.test(c.method))).toEqual([]);
  });

  it('says on stderr in one line that the bot token is not set, with exit status 1 (a command that cannot be done), without the usage', async () => {
    const run = await telegram(['webhook-info'], { TELEGRAM_BOT_TOKEN: '' });
    expect(run.code).toBe(1);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toContain('telegram: TELEGRAM_BOT_TOKEN is not set');
    expect(run.stdout).toBe('');
  });

  it('deletes the webhook and shows what is registered without the webhook secret, which only set-webhook needs', async () => {
    const before = emu.calls.length;
    const deleted = await telegram(['delete-webhook'], { TELEGRAM_WEBHOOK_SECRET: '' });
    expect(deleted.code, deleted.stderr).toBe(0);
    expect(deleted.stdout).toBe('webhook deleted\n');
    const info = await telegram(['webhook-info'], { TELEGRAM_WEBHOOK_SECRET: '' });
    expect(info.code, info.stderr).toBe(0);
    expect(emu.calls.slice(before).map((c) => c.method).filter((m) => /webhook/i.test(m))).toEqual(['deleteWebhook', 'getWebhookInfo']);
    // Setting it still needs the secret: Telegram would deliver updates nobody can tell from forgeries.
    const set = await telegram(['set-webhook'], { TELEGRAM_WEBHOOK_SECRET: '' });
    expect(set.code).toBe(1);
    expect(set.stderr).toContain('TELEGRAM_WEBHOOK_SECRET');
    expect(emu.calls.slice(before).some((c) => c.method === 'setWebhook')).toBe(false);
  });

  it('says why Telegram could not be reached and where it looked, without the bot token', async () => {
    const run = await telegram(['webhook-info'], { TELEGRAM_API_ROOT: 'http://bot:pw-not-shown@127.0.0.1:9/' });
    expect(run.code).toBe(1);
    expect(run.stderr).toBe("telegram: Network request for 'getWebhookInfo' failed! (ECONNREFUSED, TELEGRAM_API_ROOT=http://127.0.0.1:9)\n");
    expect(run.stdout).toBe('');
  });
});
