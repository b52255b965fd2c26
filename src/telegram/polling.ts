import { setTimeout as sleep } from 'node:timers/promises';
import type { Bot, Context } from 'grammy';
import type { Logger } from '../logger.js';
import { ALLOWED_UPDATES, LONG_POLL_S } from './api.js';

/**
 * Long polling (TELEGRAM_MODE=polling) that does what Telegram does for a
 * webhook: an update whose handling failed — Telegram unreachable for the
 * answer, the database busy — is tried again, with backoff, before the next
 * one, instead of being confirmed and lost as grammY's `bot.start()` does.
 * An update that keeps failing is given up after `maxAttempts`, so one bad
 * update cannot stop the bot; the bot's once-per-update claim makes a retry
 * of an update that was in fact handled a no-op.
 */

export interface PollingOptions {
  logger: Logger;
  /** Tries per update before it is given up (logged). */
  maxAttempts?: number;
  /** First wait after a failure, doubled each time. */
  backoffMs?: number;
  /** Long-poll timeout of getUpdates, in seconds. */
  timeoutS?: number;
  onStart?: (username: string) => void;
}

export interface Poller {
  /** Stops after the update in hand; resolves when the loop has ended. */
  stop(): Promise<void>;
}

export function startPolling<C extends Context>(bot: Bot<C>, opts: PollingOptions): Poller {
  const maxAttempts = opts.maxAttempts ?? 8;
  const backoffMs = opts.backoffMs ?? 1000;
  const abort = new AbortController();
  // grammY types its signals with the abort-controller shim; Node's own is the same thing at run time.
  const signal = abort.signal as Parameters<Bot<C>['init']>[0];
  let stopped = false;

  const pause = (ms: number) => sleep(ms, undefined, { signal: abort.signal }).catch(() => undefined);
  const backoff = (attempt: number) => Math.min(backoffMs * 2 ** (attempt - 1), 60_000);

  async function start(): Promise<void> {
    // Telegram and the bot's own identity first; a Telegram that cannot be reached yet is waited for.
    for (let attempt = 1; !stopped; attempt++) {
      try {
        await bot.init(signal);
        // Updates go either to a webhook or to getUpdates: take them here (pending ones are kept).
        await bot.api.deleteWebhook({}, signal);
        opts.onStart?.(bot.botInfo.username);
        return;
      } catch (err) {
        if (stopped) return;
        opts.logger.warn({ err: String(err), attempt }, 'telegram polling cannot start yet');
        await pause(backoff(attempt));
      }
    }
  }

  async function handle(update: Parameters<Bot<C>['handleUpdate']>[0]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await bot.handleUpdate(update);
        return;
      } catch (err) {
        const cause = (err as { error?: unknown }).error ?? err;
        if (attempt >= maxAttempts) {
          opts.logger.error({ updateId: update.update_id, attempts: attempt, err: String(cause) }, 'telegram update given up');
          return;
        }
        opts.logger.warn({ updateId: update.update_id, attempt, err: String(cause) }, 'telegram update failed; trying again');
        await pause(backoff(attempt));
        if (stopped) throw new Error('stopped');
      }
    }
  }

  async function loop(): Promise<void> {
    await start();
    let offset = 0;
    let failures = 0;
    while (!stopped) {
      let updates;
      try {
        updates = await bot.api.getUpdates({ offset, timeout: opts.timeoutS ?? LONG_POLL_S, allowed_updates: [...ALLOWED_UPDATES] }, signal);
        failures = 0;
      } catch (err) {
        if (stopped) break;
        failures += 1;
        opts.logger.warn({ err: String(err), attempt: failures }, 'telegram getUpdates failed');
        await pause(backoff(failures));
        continue;
      }
      for (const update of updates) {
        try {
          await handle(update);
        } catch {
          // Stopped while waiting to retry: the update is not confirmed, so the next start fetches it again.
          return;
        }
        offset = update.update_id + 1;
      }
    }
    // Confirm what was handled, so the next start does not fetch it again (the once-per-update claim would drop it anyway).
    if (offset > 0) await bot.api.getUpdates({ offset, timeout: 0, limit: 1 }).catch(() => undefined);
  }

  const done = loop().catch((err: unknown) => opts.logger.error({ err: String(err) }, 'telegram polling stopped'));
  return {
    async stop() {
      stopped = true;
      abort.abort();
      await done;
    },
  };
}
