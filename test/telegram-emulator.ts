import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { onCleanup } from './harness.js';

/**
 * A tiny Telegram Bot API server on 127.0.0.1: records every
 * /bot<token>/<method> call and answers plausibly, and serves photo files.
 * Tests point TELEGRAM_API_ROOT at it, so nothing leaves the machine.
 */

export interface ApiCall {
  method: string;
  body: Record<string, unknown>;
  /** Date.now() when the call arrived. */
  at: number;
  /** Files uploaded with the call (multipart), by field name. */
  files?: string[];
  /** The id of the message a sendMessage made. */
  messageId?: number;
}

/** A tiny JPEG (file-type recognises it by its SOI/APP0 header). */
export const JPEG_BYTES = Buffer.concat([
  Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00]),
  Buffer.alloc(64),
  Buffer.from([0xff, 0xd9]),
]);

/**
 * Message ids in the order messages are sent, the residents' and the bot's
 * alike, as Telegram numbers a private chat's: a resident's message written
 * before the bot's answer came has the lower id.
 */
let lastMessageId = 500;
const nextMessageId = () => ++lastMessageId;

export interface TelegramEmulator {
  url: string;
  calls: ApiCall[];
  /** Calls that sent something to one chat. */
  toChat(chatId: number): ApiCall[];
  /** The next N calls of this method (to this chat, and with a text holding `textIncludes`, when given) answer 429 with retry_after. */
  rateLimitNext(method: string, times: number, retryAfterS: number, chatId?: number, textIncludes?: string): void;
  /** The next N calls of this method are taken and never answered (a stalled Telegram), recorded as `method:stalled`. */
  stallNext(method: string, times: number): void;
  /**
   * The next call of this method (to this chat, when given) is taken and answered only once `release` is called:
   * `reached` settles when it has come. What happens meanwhile happens while the bot waits for Telegram's answer.
   */
  holdNext(method: string, chatId?: number): { reached: Promise<void>; release: () => void };
  /** Queues updates for getUpdates (polling mode); update ids are given by the caller. */
  queueUpdates(...updates: Array<Record<string, unknown>>): void;
  /**
   * The group was upgraded to a supergroup: whatever is sent to the old chat id is refused with 400 and
   * `parameters.migrate_to_chat_id`, as the Bot API does; the bot's messages already there can still be
   * edited and deleted, as they stay in the old group.
   */
  migrateChat(fromChatId: number, toChatId: number): void;
  /** The bot can no longer write to the chat (kicked from the group, blocked by the user): 403 with this description. */
  forbidChat(chatId: number, description: string): void;
  /** The chat can be written to again (the resident unblocked the bot). */
  allowChat(chatId: number): void;
}

async function readBody(req: IncomingMessage): Promise<{ body: Record<string, unknown>; files: string[] }> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const bytes = Buffer.concat(chunks);
  if (bytes.length === 0) return { body: {}, files: [] };
  const type = req.headers['content-type'] ?? '';
  if (type.includes('multipart/form-data')) {
    // grammY uploads files as multipart: fields hold JSON-encoded values, files are parts with a filename.
    const boundary = /boundary=(?:"([^"]+)"|([^;]+))/.exec(type);
    const body: Record<string, unknown> = {};
    const files: string[] = [];
    const raw = bytes.toString('latin1');
    for (const part of raw.split(`--${boundary?.[1] ?? boundary?.[2] ?? ''}`)) {
      const split = part.indexOf('\r\n\r\n');
      if (split < 0) continue;
      const headers = part.slice(0, split);
      const name = /name="([^"]*)"/.exec(headers)?.[1];
      if (!name) continue;
      if (/filename=/.test(headers)) {
        files.push(name);
        continue;
      }
      const value = Buffer.from(part.slice(split + 4).replace(/\r\n$/, ''), 'latin1').toString('utf8');
      try {
        body[name] = JSON.parse(value);
      } catch {
        body[name] = value;
      }
    }
    return { body, files };
  }
  const raw = bytes.toString('utf8');
  if (type.includes('application/json')) return { body: JSON.parse(raw) as Record<string, unknown>, files: [] };
  return { body: Object.fromEntries(new URLSearchParams(raw)), files: [] };
}

export async function startTelegramEmulator(token: string): Promise<TelegramEmulator> {
  const calls: ApiCall[] = [];
  const limits = new Map<string, { times: number; retryAfterS: number; chatId?: number; textIncludes?: string }>();
  const stalls = new Map<string, number>();
  const holds: Array<{ method: string; chatId?: number; reached: () => void; released: Promise<void> }> = [];
  const pending: Array<Record<string, unknown>> = [];
  // What each message shows (its text and inline buttons): Telegram refuses an edit that changes neither.
  const shown = new Map<string, { text: unknown; buttons: string }>();
  const buttonsJson = (markup: unknown) => {
    const rows = (markup as { inline_keyboard?: unknown[] } | undefined)?.inline_keyboard;
    return Array.isArray(rows) && rows.length > 0 ? JSON.stringify(rows) : '';
  };
  const waiters: Array<() => void> = [];
  const migrated = new Map<number, number>();
  const forbidden = new Map<number, string>();
  const server: Server = createServer((req, res) => {
    void (async () => {
      try {
        await handle(req, res);
      } catch (err) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ ok: false, error_code: 500, description: String(err) }));
      }
    })();
  });
  async function handle(req: IncomingMessage, res: import('node:http').ServerResponse): Promise<void> {
    {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const send = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (path.startsWith(`/file/bot${token}/`)) {
        // A file id with "unfetchable" in it is never served (the file server keeps failing).
        if (path.includes('unfetchable')) return send(502, { ok: false, error_code: 502, description: 'Bad Gateway' });
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        // A file id with "oversize" in it is a JPEG of 11 MB, larger than a photo may be.
        res.end(path.includes('oversize') ? Buffer.concat([JPEG_BYTES, Buffer.alloc(11 * 1024 * 1024)]) : JPEG_BYTES);
        return;
      }
      const m = /^\/bot([^/]+)\/(\w+)$/.exec(path);
      if (!m || m[1] !== token) return send(404, { ok: false, error_code: 404, description: 'Not Found' });
      const method = m[2]!;
      const { body, files } = await readBody(req);
      const at = Date.now();
      const hold = holds.findIndex((h) => h.method === method && (h.chatId === undefined || Number(body.chat_id) === h.chatId));
      if (hold >= 0) {
        const [held] = holds.splice(hold, 1);
        held!.reached();
        await held!.released;
      }
      const stall = stalls.get(method) ?? 0;
      if (stall > 0) {
        stalls.set(method, stall - 1);
        calls.push({ method: `${method}:stalled`, body, at });
        return;
      }
      const limit = limits.get(method);
      const limited =
        limit &&
        limit.times > 0 &&
        (limit.chatId === undefined || Number(body.chat_id) === limit.chatId) &&
        (limit.textIncludes === undefined || String(body.text ?? '').includes(limit.textIncludes));
      if (limit && limited) {
        limit.times--;
        calls.push({ method: `${method}:429`, body, at });
        return send(429, { ok: false, error_code: 429, description: `Too Many Requests: retry after ${limit.retryAfterS}`, parameters: { retry_after: limit.retryAfterS } });
      }
      const target = Number(body.chat_id);
      // A group upgraded to a supergroup takes no new message; the bot can still edit and delete the ones it has.
      if (body.chat_id !== undefined && migrated.has(target) && !/^(editMessage|deleteMessage)/.test(method)) {
        calls.push({ method: `${method}:400`, body, at });
        return send(400, { ok: false, error_code: 400, description: 'Bad Request: group chat was upgraded to a supergroup chat', parameters: { migrate_to_chat_id: migrated.get(target) } });
      }
      if (body.chat_id !== undefined && forbidden.has(target)) {
        calls.push({ method: `${method}:403`, body, at });
        return send(403, { ok: false, error_code: 403, description: forbidden.get(target) });
      }
      // Telegram refuses a text that is no UTF-8 (half an emoji) or longer than a message may be.
      const text = method === 'sendMessage' || method === 'editMessageText' ? body.text : undefined;
      if (typeof text === 'string') {
        const refused = !text.isWellFormed()
          ? 'Bad Request: text must be encoded in UTF-8'
          : text.length > 4096
            ? 'Bad Request: message is too long'
            : text.trim() === ''
              ? 'Bad Request: message text is empty'
              : null;
        if (refused) {
          calls.push({ method: `${method}:400`, body, at });
          return send(400, { ok: false, error_code: 400, description: refused });
        }
      }
      if (method === 'editMessageText' || method === 'editMessageReplyMarkup') {
        const key = `${Number(body.chat_id)}:${Number(body.message_id)}`;
        const before = shown.get(key);
        const after = { text: method === 'editMessageText' ? body.text : before?.text, buttons: buttonsJson(body.reply_markup) };
        if (before && before.text === after.text && before.buttons === after.buttons) {
          calls.push({ method: `${method}:400`, body, at });
          const refused = 'Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message';
          return send(400, { ok: false, error_code: 400, description: refused });
        }
        shown.set(key, after);
      }
      if (method === 'getUpdates') {
        // Long polling: answer with what is queued past the offset, or wait a little for it.
        const offset = Number(body.offset ?? 0);
        const ready = () => pending.filter((u) => Number(u.update_id) >= offset);
        if (ready().length === 0 && Number(body.timeout ?? 0) > 0) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, 300);
            waiters.push(() => {
              clearTimeout(timer);
              resolve();
            });
          });
        }
        // Confirmed updates (below the offset) are forgotten, as Telegram does.
        for (let i = pending.length - 1; i >= 0; i--) if (Number(pending[i]!.update_id) < offset) pending.splice(i, 1);
        const result = ready();
        if (result.length > 0) calls.push({ method, body, at });
        return send(200, { ok: true, result });
      }
      calls.push({ method, body, at, ...(files.length > 0 ? { files } : {}) });
      const date = Math.floor(Date.now() / 1000);
      const chatId = Number(body.chat_id ?? 0);
      const chat = { id: chatId, type: chatId < 0 ? 'supergroup' : 'private' };
      switch (method) {
        case 'getMe':
          return send(200, { ok: true, result: { id: 1, is_bot: true, first_name: 'Intake', username: 'intake_test_bot' } });
        case 'sendMessage': {
          const id = nextMessageId();
          // Recorded just above, in this same turn of the event loop.
          calls.at(-1)!.messageId = id;
          shown.set(`${chatId}:${id}`, { text: body.text, buttons: buttonsJson(body.reply_markup) });
          return send(200, { ok: true, result: { message_id: id, date, chat, text: body.text } });
        }
        case 'editMessageText':
          return send(200, { ok: true, result: { message_id: Number(body.message_id ?? 1), date, chat, text: body.text } });
        case 'editMessageReplyMarkup':
          return send(200, { ok: true, result: { message_id: Number(body.message_id ?? 1), date, chat, text: '…' } });
        case 'sendPhoto': {
          const id = nextMessageId();
          return send(200, { ok: true, result: { message_id: id, date, chat, photo: [{ file_id: `sent-${id}`, file_unique_id: `s${id}`, width: 1, height: 1 }] } });
        }
        case 'sendMediaGroup': {
          const media = Array.isArray(body.media) ? body.media : [];
          return send(200, {
            ok: true,
            result: media.map(() => {
              const id = nextMessageId();
              return { message_id: id, date, chat, photo: [{ file_id: `sent-${id}`, file_unique_id: `s${id}`, width: 1, height: 1 }] };
            }),
          });
        }
        case 'getFile':
          return send(200, {
            ok: true,
            result: {
              file_id: body.file_id,
              file_unique_id: `u-${String(body.file_id)}`,
              // "oversize-declared" says its size; any other oversize file claims to be small (a server may not know).
              file_size: String(body.file_id).includes('oversize-declared') ? JPEG_BYTES.length + 11 * 1024 * 1024 : JPEG_BYTES.length,
              file_path: `photos/${String(body.file_id)}.jpg`,
            },
          });
        case 'answerCallbackQuery':
        case 'setWebhook':
        case 'deleteWebhook':
          return send(200, { ok: true, result: true });
        default:
          return send(200, { ok: true, result: true });
      }
    }
  }
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onCleanup(() => {
    // Stalled calls hold their connections open.
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    toChat: (chatId) => calls.filter((c) => Number(c.body.chat_id) === chatId),
    rateLimitNext(method, times, retryAfterS, chatId, textIncludes) {
      limits.set(method, { times, retryAfterS, ...(chatId === undefined ? {} : { chatId }), ...(textIncludes === undefined ? {} : { textIncludes }) });
    },
    holdNext(method, chatId) {
      let reached!: () => void;
      let release!: () => void;
      const reachedP = new Promise<void>((resolve) => (reached = resolve));
      const released = new Promise<void>((resolve) => (release = resolve));
      holds.push({ method, ...(chatId === undefined ? {} : { chatId }), reached, released });
      return { reached: reachedP, release };
    },
    stallNext(method, times) {
      stalls.set(method, times);
    },
    migrateChat(fromChatId, toChatId) {
      migrated.set(fromChatId, toChatId);
    },
    forbidChat(chatId, description) {
      forbidden.set(chatId, description);
    },
    allowChat(chatId) {
      forbidden.delete(chatId);
    },
    queueUpdates(...updates) {
      pending.push(...updates);
      for (const wake of waiters.splice(0)) wake();
    },
  };
}

/** The sizes Telegram gives of a photo, the largest (`fileId`) last. */
export function photoSizes(fileId: string) {
  return [
    { file_id: `${fileId}-small`, file_unique_id: `${fileId}-s`, width: 90, height: 90 },
    { file_id: fileId, file_unique_id: fileId, width: 1280, height: 960 },
  ];
}

/** Builds Telegram updates for one resident's private chat. */
export function residentChat(chatId: number, languageCode = 'zh-hans') {
  const from = { id: chatId, is_bot: false, first_name: 'Li', language_code: languageCode };
  const chat = { id: chatId, type: 'private' as const, first_name: 'Li' };
  const message = (fields: Record<string, unknown>) => ({
    message_id: nextMessageId(),
    date: Math.floor(Date.now() / 1000),
    chat,
    from,
    ...fields,
  });
  return {
    chatId,
    message,
    text: (text: string) => ({ message: message({ text }) }),
    /** The resident edits a message they sent (its text, caption or live location): Telegram sends the whole message again. */
    edited: (sent: { message: { message_id: number; date: number } }, fields: Record<string, unknown>) => ({
      edited_message: { ...sent.message, text: undefined, caption: undefined, ...fields, edit_date: Math.floor(Date.now() / 1000) },
    }),
    command: (text: string) => ({
      message: message({ text, entities: [{ type: 'bot_command', offset: 0, length: text.split(' ')[0]!.length }] }),
    }),
    location: (latitude: number, longitude: number) => ({ message: message({ location: { latitude, longitude } }) }),
    /** A photo; `album`: the media group of an album sent at once (Telegram sends one update per photo, the caption on the first). */
    photo: (fileId: string, caption?: string, album?: string) => ({
      message: message({ photo: photoSizes(fileId), ...(caption ? { caption } : {}), ...(album ? { media_group_id: album } : {}) }),
    }),
    contact: (phone: string) => ({ message: message({ contact: { phone_number: phone, first_name: 'Li', last_name: 'Ming', user_id: chatId } }) }),
    button: (data: string, text = '…') => ({
      callback_query: { id: `cb-${nextMessageId()}`, from, chat_instance: `ci-${chatId}`, data, message: message({ text }) },
    }),
  };
}

/** Builds callback queries pressed by one Telegram user in a bureau group. */
export function groupMember(groupChatId: number, userId: number, firstName = 'Zhang', languageCode = 'zh-hans') {
  const from = { id: userId, is_bot: false, first_name: firstName, language_code: languageCode };
  const chat = { id: groupChatId, type: 'supergroup' as const, title: 'Bureau group' };
  let n = 1;
  return {
    userId,
    press: (data: string, messageId: number, text = '…') => ({
      callback_query: {
        id: `gcb-${userId}-${n++}-${Math.random().toString(36).slice(2, 6)}`,
        from,
        chat_instance: `gi-${groupChatId}`,
        data,
        message: { message_id: messageId, date: Math.floor(Date.now() / 1000), chat, from: { id: 1, is_bot: true, first_name: 'Intake' }, text },
      },
    }),
    command: (text: string) => ({
      message: {
        message_id: 9000 + n++,
        date: Math.floor(Date.now() / 1000),
        chat,
        from,
        text,
        entities: [{ type: 'bot_command', offset: 0, length: text.split(' ')[0]!.length }],
      },
    }),
  };
}
