import { autoRetry } from '@grammyjs/auto-retry';
import { apiThrottler } from '@grammyjs/transformer-throttler';
import { Api, type Transformer } from 'grammy';
import { clip } from '../domain/text.js';
import type { Env } from '../env.js';

/**
 * Every Bot API client the service creates goes through here: outgoing calls
 * are throttled to Telegram's limits and a 429 is retried after the
 * `retry_after` Telegram gives.
 *
 * - Throttling (one throttler per service, shared by the bot and the push
 *   client): at most 30 calls a second in all; in a group, 20 messages a
 *   minute; in a private chat one at a time, one a second with bursts of up
 *   to ten (a reply of two messages goes out at once).
 * - Retrying: the auto-retry plugin waits out a 429 up to `maxDelaySeconds`
 *   (and, for jobs, retries a 5xx a few times); a longer wait is the
 *   caller's problem (a webhook fails so Telegram redelivers; a job goes
 *   back to the queue and its backoff). A network failure (Telegram
 *   unreachable) is thrown at once: retried in place, it would hold the
 *   webhook or the job's worker slot for as long as the outage lasts.
 */

/** Telegram's limit on a message's text, in UTF-16 code units after entities are parsed. */
export const MAX_MESSAGE_TEXT = 4096;

/** A message with a paragraph added, its earlier text shortened when both would not fit in one message. */
export function followedBy(text: string, paragraph: string): string {
  return `${clip(text, MAX_MESSAGE_TEXT - paragraph.length - 2)}\n\n${paragraph}`;
}

/**
 * The update kinds the bot handles; others are never sent. A webhook keeps
 * the list it was registered with: after a change, `set-webhook` again.
 */
export const ALLOWED_UPDATES = ['message', 'edited_message', 'callback_query'] as const;

export interface DeliveryOptions {
  /** The longest retry_after to wait out in place. */
  maxDelaySeconds: number;
  maxRetryAttempts: number;
  /** Retry a 5xx in place (3 s, 6 s, 12 s …) instead of throwing it. */
  retryServerErrors: boolean;
}

/** How long polling's getUpdates waits for an update (Telegram's long poll). */
export const LONG_POLL_S = 30;

/** The webhook must answer within Telegram's patience (and grammY's 10 s timeout). */
export const WEBHOOK_DELIVERY: DeliveryOptions = { maxDelaySeconds: 5, maxRetryAttempts: 2, retryServerErrors: false };
/** Jobs can wait longer; beyond this the queue's backoff takes over. */
export const JOB_DELIVERY: DeliveryOptions = { maxDelaySeconds: 10, maxRetryAttempts: 3, retryServerErrors: true };

/** Token buckets (Bottleneck reservoirs refilled one token at a time): bursts up to the bucket, then the steady rate. */
export const THROTTLE = {
  global: { reservoir: 30, reservoirRefreshAmount: 30, reservoirRefreshInterval: 1000 },
  group: { maxConcurrent: 1, reservoir: 20, reservoirIncreaseAmount: 1, reservoirIncreaseInterval: 3000, reservoirIncreaseMaximum: 20 },
  out: { maxConcurrent: 1, reservoir: 10, reservoirIncreaseAmount: 1, reservoirIncreaseInterval: 1000, reservoirIncreaseMaximum: 10 },
};

// One throttler per service configuration: the bot and the push client of one
// process share Telegram's limits. Keyed weakly by the env object, so tests
// with their own services get their own and nothing outlives a service.
const throttlers = new WeakMap<Env, Transformer>();

function throttlerFor(env: Env): Transformer {
  let t = throttlers.get(env);
  if (!t) {
    t = apiThrottler(THROTTLE) as unknown as Transformer;
    throttlers.set(env, t);
  }
  return t;
}

export function apiRootOf(env: Env): string {
  return env.TELEGRAM_API_ROOT.replace(/\/+$/, '');
}

/** Installs throttling, then retrying (installed last, so it wraps the throttler: a retry waits its turn too). */
export function installDelivery(api: Api, env: Env, opts: DeliveryOptions): void {
  api.config.use(throttlerFor(env));
  api.config.use(
    autoRetry({
      maxDelaySeconds: opts.maxDelaySeconds,
      maxRetryAttempts: opts.maxRetryAttempts,
      rethrowInternalServerErrors: !opts.retryServerErrors,
      rethrowHttpErrors: true,
    }),
  );
}

/** A Bot API client for the service's bot token, with delivery installed. */
export function createTelegramApi(env: Env, opts: DeliveryOptions = JOB_DELIVERY): Api {
  if (!env.TELEGRAM_BOT_TOKEN) throw new Error('createTelegramApi: TELEGRAM_BOT_TOKEN is not set');
  const api = new Api(env.TELEGRAM_BOT_TOKEN, { apiRoot: apiRootOf(env), timeoutSeconds: env.TELEGRAM_API_TIMEOUT_S });
  installDelivery(api, env, opts);
  return api;
}

/**
 * Answering a button press only stops its spinner: Telegram takes one answer
 * per press and refuses a late one (a redelivered update, a 429 waited out).
 * A failed answer must not fail the update — the work behind the button and
 * the message edits still have to happen — so it is logged and taken as done.
 */
export function answersNeverFail(logger: { warn(obj: object, msg: string): void }): Transformer {
  return async (prev, method, payload, signal) => {
    if (method !== 'answerCallbackQuery') return prev(method, payload, signal);
    const done = { ok: true, result: true } as Awaited<ReturnType<typeof prev>>;
    try {
      const res = await prev(method, payload, signal);
      if (res.ok) return res;
      // Telegram said no (a 429 longer than the client waits, a press too old to answer).
      logger.warn({ code: res.error_code, err: res.description }, 'telegram: a button press could not be answered');
      return done;
    } catch (err) {
      // Telegram could not be reached.
      logger.warn({ err: String(err) }, 'telegram: a button press could not be answered');
      return done;
    }
  };
}

/**
 * An edit that would change nothing (a button tapped twice before its
 * message was edited: the second press edits it to what it already shows) is
 * refused by Telegram with a 400 "message is not modified". The message
 * already says what it should, so the edit is taken as done rather than
 * failing the update (which Telegram, or the polling loop, would try again
 * and again).
 */
export function unchangedEditsAreDone(): Transformer {
  return async (prev, method, payload, signal) => {
    const res = await prev(method, payload, signal);
    if (res.ok || !method.startsWith('editMessage') || res.error_code !== 400 || !/message is not modified/i.test(res.description)) return res;
    return { ok: true, result: true } as Awaited<ReturnType<typeof prev>>;
  };
}
