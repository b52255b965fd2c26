import { readFileSync } from 'node:fs';
import { DEFAULT_DISTRICT_PATH } from '../src/district/district-file.js';
import { buildDistrict, type District } from '../src/district/district.schema.js';
import type { Env } from '../src/env.js';
import { postJson, testEnv } from './harness.js';
import type { ApiCall, TelegramEmulator } from './telegram-emulator.js';

/** Shared by the Telegram test files: the bot's environment, update delivery, reading what the bot sent. */

export const TOKEN = '123456:TEST-token_x';
export const SECRET = 'tg-secret_123';

export function telegramEnv(emu: TelegramEmulator, name: string, extra: Record<string, string> = {}): Env {
  return testEnv(name, { TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_API_ROOT: emu.url, TELEGRAM_WEBHOOK_SECRET: SECRET, ...extra });
}

type GroupEntry = { code: string; telegramChatId?: number; telegramLanguage?: 'zh' | 'en' };

/** The default district with Telegram groups for some bureaus or local offices: a chat id, or a chat id and the group's language. */
export function districtWithGroups(groups: Record<string, number | { chatId: number; language: 'zh' | 'en' }>): District {
  const raw = JSON.parse(readFileSync(DEFAULT_DISTRICT_PATH, 'utf8')) as { bureaus: GroupEntry[]; jurisdictions: GroupEntry[] };
  for (const unit of [...raw.bureaus, ...raw.jurisdictions]) {
    const group = groups[unit.code];
    if (typeof group === 'number') unit.telegramChatId = group;
    else if (group) Object.assign(unit, { telegramChatId: group.chatId, telegramLanguage: group.language });
  }
  return buildDistrict(raw, 'test district');
}

let nextUpdateId = Math.floor(Math.random() * 1_000_000) + 100_000;
export const newUpdateId = () => nextUpdateId++;

/** Delivers one update to the webhook the way Telegram does; returns the status and the API calls made meanwhile. */
export async function deliver(
  emu: TelegramEmulator,
  url: string,
  update: Record<string, unknown>,
  opts: { updateId?: number } = {},
): Promise<{ status: number; calls: ApiCall[]; updateId: number }> {
  const updateId = opts.updateId ?? newUpdateId();
  const before = emu.calls.length;
  const res = await postJson(`${url}/telegram/webhook`, { update_id: updateId, ...update }, { 'X-Telegram-Bot-Api-Secret-Token': SECRET });
  await res.text();
  return { status: res.status, calls: emu.calls.slice(before), updateId };
}

export const sentTexts = (calls: ApiCall[], chatId?: number) =>
  calls.filter((c) => c.method === 'sendMessage' && (chatId === undefined || Number(c.body.chat_id) === chatId)).map((c) => String(c.body.text));

export const buttonsOf = (call: ApiCall | undefined): string[] => {
  const markup = call?.body.reply_markup as { inline_keyboard?: Array<Array<{ callback_data: string }>> } | undefined;
  return (markup?.inline_keyboard ?? []).flat().map((b) => b.callback_data);
};

/** The alert answered to a button press, if any. */
export const alertOf = (calls: ApiCall[]) => calls.find((c) => c.method === 'answerCallbackQuery')?.body as { text?: string; show_alert?: boolean } | undefined;
