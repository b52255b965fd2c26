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
}

/** A tiny JPEG (file-type recognises it by its SOI/APP0 header). */
export const JPEG_BYTES = Buffer.concat([
  Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00]),
  Buffer.alloc(64),
  Buffer.from([0xff, 0xd9]),
]);

export interface TelegramEmulator {
  url: string;
  calls: ApiCall[];
  /** Calls that sent something to one chat. */
  toChat(chatId: number): ApiCall[];
  /** The next N calls of this method answer 429 with retry_after. */
  rateLimitNext(method: string, times: number, retryAfterS: number): void;
}

async function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks).toString('utf8');
  if (!raw) return {};
  const type = req.headers['content-type'] ?? '';
  if (type.includes('application/json')) return JSON.parse(raw) as Record<string, unknown>;
  return Object.fromEntries(new URLSearchParams(raw));
}

export async function startTelegramEmulator(token: string): Promise<TelegramEmulator> {
  const calls: ApiCall[] = [];
  const limits = new Map<string, { times: number; retryAfterS: number }>();
  let messageId = 500;
  const server: Server = createServer((req, res) => {
    void (async () => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const send = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (path.startsWith(`/file/bot${token}/`)) {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        res.end(JPEG_BYTES);
        return;
      }
      const m = /^\/bot([^/]+)\/(\w+)$/.exec(path);
      if (!m || m[1] !== token) return send(404, { ok: false, error_code: 404, description: 'Not Found' });
      const method = m[2]!;
      const body = await readBody(req);
      const limit = limits.get(method);
      if (limit && limit.times > 0) {
        limit.times--;
        calls.push({ method: `${method}:429`, body });
        return send(429, { ok: false, error_code: 429, description: 'Too Many Requests', parameters: { retry_after: limit.retryAfterS } });
      }
      calls.push({ method, body });
      const date = Math.floor(Date.now() / 1000);
      const chat = { id: Number(body.chat_id ?? 0), type: 'private' };
      switch (method) {
        case 'getMe':
          return send(200, { ok: true, result: { id: 1, is_bot: true, first_name: 'Intake', username: 'intake_test_bot' } });
        case 'sendMessage':
          return send(200, { ok: true, result: { message_id: ++messageId, date, chat, text: body.text } });
        case 'editMessageText':
          return send(200, { ok: true, result: { message_id: Number(body.message_id ?? 1), date, chat, text: body.text } });
        case 'getFile':
          return send(200, {
            ok: true,
            result: { file_id: body.file_id, file_unique_id: `u-${String(body.file_id)}`, file_size: JPEG_BYTES.length, file_path: `photos/${String(body.file_id)}.jpg` },
          });
        case 'answerCallbackQuery':
        case 'setWebhook':
        case 'deleteWebhook':
          return send(200, { ok: true, result: true });
        default:
          return send(200, { ok: true, result: true });
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onCleanup(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    toChat: (chatId) => calls.filter((c) => Number(c.body.chat_id) === chatId),
    rateLimitNext(method, times, retryAfterS) {
      limits.set(method, { times, retryAfterS });
    },
  };
}

/** Builds Telegram updates for one resident's private chat. */
export function residentChat(chatId: number, languageCode = 'zh-hans') {
  let messageId = 1;
  const from = { id: chatId, is_bot: false, first_name: 'Li', language_code: languageCode };
  const chat = { id: chatId, type: 'private' as const, first_name: 'Li' };
  const message = (fields: Record<string, unknown>) => ({
    message_id: messageId++,
    date: Math.floor(Date.now() / 1000),
    chat,
    from,
    ...fields,
  });
  return {
    chatId,
    message,
    text: (text: string) => ({ message: message({ text }) }),
    command: (text: string) => ({
      message: message({ text, entities: [{ type: 'bot_command', offset: 0, length: text.split(' ')[0]!.length }] }),
    }),
    location: (latitude: number, longitude: number) => ({ message: message({ location: { latitude, longitude } }) }),
    photo: (fileId: string, caption?: string) => ({
      message: message({
        photo: [
          { file_id: `${fileId}-small`, file_unique_id: `${fileId}-s`, width: 90, height: 90 },
          { file_id: fileId, file_unique_id: fileId, width: 1280, height: 960 },
        ],
        ...(caption ? { caption } : {}),
      }),
    }),
    contact: (phone: string) => ({ message: message({ contact: { phone_number: phone, first_name: 'Li', last_name: 'Ming', user_id: chatId } }) }),
    button: (data: string, text = '…') => ({
      callback_query: { id: `cb-${messageId++}`, from, chat_instance: `ci-${chatId}`, data, message: message({ text }) },
    }),
  };
}
