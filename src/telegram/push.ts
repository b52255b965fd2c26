import { GrammyError, type Api, type InlineKeyboard } from 'grammy';
import { type District, unitName } from '../district/district.schema.js';
import type { Env } from '../env.js';
import type { PhotoInput } from '../intake/accept-report.js';
import { maskIdentityInText, maskPhonesInText } from '../pipeline/extract.js';
import { clip } from '../domain/text.js';
import { apiRootOf, createTelegramApi, JOB_DELIVERY } from './api.js';
import { downloadPhoto } from './photos.js';
import { TEXTS, type Lang } from './texts.js';

/**
 * Messages the service pushes to a resident's chat (from the notify job),
 * and the wording of each reporter notification.
 */

export interface TelegramPush {
  /** Resolves when Telegram took the message; rejects with TelegramRateLimited on a 429 the client did not wait out. */
  send(chatId: string, text: string, opts?: { buttons?: InlineKeyboard; replyTo?: number }): Promise<void>;
  /** The Bot API client (throttled, retrying) for the other jobs: bureau group posts. */
  api?: Api;
  /** Downloads a photo a resident sent (null when the file is not a photo). */
  download?(fileId: string): Promise<PhotoInput | null>;
}

/** Telegram said 429: try again after `retryAfterS` seconds. */
export class TelegramRateLimited extends Error {
  constructor(readonly retryAfterS: number) {
    super(`telegram rate limit: retry after ${retryAfterS} s`);
    this.name = 'TelegramRateLimited';
  }
}

/** The chat is gone for the bot (blocked, deleted, never started): no retry helps. */
export class TelegramChatUnreachable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TelegramChatUnreachable';
  }
}

/** Telegram's answer that a chat is gone for the bot (blocked, removed from the group, deleted): 403, or 400 chat not found. */
export function chatGone(err: unknown): err is GrammyError {
  return err instanceof GrammyError && (err.error_code === 403 || (err.error_code === 400 && /chat not found/i.test(err.description)));
}

export function createTelegramPush(env: Env): TelegramPush | null {
  if (!env.TELEGRAM_BOT_TOKEN) return null;
  const token = env.TELEGRAM_BOT_TOKEN;
  const api = createTelegramApi(env, JOB_DELIVERY);
  return {
    api,
    download: (fileId) => downloadPhoto(api, apiRootOf(env), token, fileId),
    async send(chatId, text, opts = {}) {
      try {
        await api.sendMessage(chatId, text, {
          link_preview_options: { is_disabled: true },
          ...(opts.buttons ? { reply_markup: opts.buttons } : {}),
          ...(opts.replyTo ? { reply_parameters: { message_id: opts.replyTo, allow_sending_without_reply: true } } : {}),
        });
      } catch (err) {
        if (err instanceof GrammyError) {
          if (err.error_code === 429) throw new TelegramRateLimited(err.parameters.retry_after ?? 5);
          if (chatGone(err)) throw new TelegramChatUnreachable(err.description);
        }
        throw err;
      }
    },
  };
}

export interface NoticeInput {
  kind: string;
  data: Record<string, unknown>;
  trackingCode: string;
  lang: Lang;
  district: District;
  trackUrl: string;
  timeZone: string;
  /**
   * For a reader who is not the case's reporter (the reporter of a duplicate
   * merged into it, told under the duplicate's own `trackingCode`): the
   * reporter's names, masked in the reply with any phone.
   */
  hiddenNames?: ReadonlyArray<string>;
}

/**
 * How much of a bureau's reply the chat shows: with the notice around it and
 * the rating question added when a button is pressed, well within a message.
 */
export const MAX_REPLY_IN_CHAT = 3000;

/** The message for one reporter notification, or null for a kind residents are not told about. */
export function noticeText(n: NoticeInput): string | null {
  const t = TEXTS[n.lang].notify;
  const str = (key: string) => (typeof n.data[key] === 'string' ? (n.data[key] as string) : null);
  const unit = (key: string) => {
    const code = str(key);
    if (!code) return t.someBureau;
    return unitName(n.district, code, n.lang);
  };
  const code = n.trackingCode;
  switch (n.kind) {
    case 'dispatched':
      return t.dispatched(code, unit('lead'));
    case 'accepted':
      return t.accepted(code, unit('unit'));
    case 'replied': {
      const text = n.hiddenNames ? maskIdentityInText(str('text') ?? '', n.hiddenNames, { officials: true }) : maskPhonesInText(str('text') ?? '');
      // A reply may run to 10,000 characters: the chat gets the start, the tracking page (linked) the whole of it.
      return t.replied(code, unit('lead'), clip(text, MAX_REPLY_IN_CHAT), n.trackUrl);
    }
    case 'extended': {
      const replyBy = str('replyBy');
      // The district's calendar day, said as the tracking page says dates (2027年1月5日, 5 Jan 2027).
      const day = replyBy
        ? new Intl.DateTimeFormat(n.lang === 'zh' ? 'zh-CN' : 'en-GB', { timeZone: n.timeZone, dateStyle: 'medium' }).format(new Date(replyBy))
        : '—';
      return t.extended(code, day);
    }
    case 'merged':
      return t.merged(code);
    case 'unmerged':
      return t.unmerged(code);
    case 'closed':
      return t.closed(code);
    case 'transferred':
      return t.transferred(code, unit('lead'));
    case 'untransferred':
      return t.untransferred(code);
    case 'reopened':
      return t.reopened(code);
    case 'photos_not_saved': {
      const photos = typeof n.data.photos === 'number' ? n.data.photos : 0;
      return photos > 0 ? t.photosNotSaved(code, photos) : null;
    }
    default:
      return null;
  }
}
