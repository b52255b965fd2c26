import { createHash } from 'node:crypto';
import type { IntakeLimit } from '../env.js';
import { formatTime, type Lang } from '../web/i18n.js';

/**
 * How many reports one sender may make in a window (INTAKE_RATE_LIMIT): a
 * script sending thousands of reports through the public form, the API or
 * the bot would otherwise bury the dispatchers' queue. A sender is a network
 * address, or a chat of the bot; counts last only for their window (in
 * Redis, as a digest of the sender, never the address).
 */
export interface IntakeGate {
  readonly limit: IntakeLimit;
  /** Counts one report of the sender, or refuses it saying when the sender may send again. */
  take(sender: string): Promise<GateAnswer>;
  /** Takes back what `take` counted: the report was not made after all (refused, or the replay of one made before). */
  giveBack(sender: string): Promise<void>;
  close(): Promise<void>;
}

export type GateAnswer = { ok: true } | { ok: false; retryAfterS: number };

/** What is kept of a sender while its window lasts (in Redis, in the database): a digest, never the address or chat itself. */
export function senderDigest(sender: string): string {
  return createHash('sha256').update(`intake-limit\0${sender}`).digest('base64url').slice(0, 22);
}

/**
 * The sender an address stands for. An IPv6 host usually holds a whole /64
 * (it picks new addresses in it at will), so the /64 is the sender; an
 * IPv4 address written as IPv6 (`::ffff:203.0.113.7`) is that IPv4 address.
 */
export function senderOfAddress(address: string): string {
  const a = address.trim().toLowerCase().replace(/%.*$/, '');
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(a);
  if (mapped) return mapped[1]!;
  if (!a.includes(':')) return a;
  const groups = ipv6Groups(a);
  return groups ? `${groups.slice(0, 4).join(':')}::/64` : a;
}

/** The eight groups of an IPv6 address without leading zeros, or null when it is not one. */
function ipv6Groups(a: string): string[] | null {
  const halves = a.split('::');
  if (halves.length > 2) return null;
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const all = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  if (!all.every((g) => /^[0-9a-f]{1,4}$/.test(g))) return null;
  return all.map((g) => parseInt(g, 16).toString(16));
}

/** The window as people say it: `1 h`, `15 min`, `90 s` (English) or `1 小时`, `15 分钟`, `90 秒`. */
export function windowWords(windowS: number, lang: Lang): string {
  if (windowS % 3600 === 0) return lang === 'zh' ? `${windowS / 3600} 小时` : `${windowS / 3600} h`;
  if (windowS % 60 === 0) return lang === 'zh' ? `${windowS / 60} 分钟` : `${windowS / 60} min`;
  return lang === 'zh' ? `${windowS} 秒` : `${windowS} s`;
}

/** What a refusal tells the sender, in its language: the count, the window, and until when (the district's time). */
export function refusalWords(limit: IntakeLimit, retryAfterS: number, now: Date, lang: Lang, timeZone: string): { reports: number; window: string; until: string } {
  return {
    reports: limit.reports,
    window: windowWords(limit.windowS, lang),
    until: formatTime(new Date(now.getTime() + retryAfterS * 1000), lang, timeZone),
  };
}

/**
 * Makes a report through the gate: the sender is counted first and the
 * report refused when over its limit, and the count taken back when no new
 * report came of it (refused, or the replay of one made before). A sender
 * over its limit who sends again a report already made (a retry after a
 * lost answer) gets that report, as without the limit: `earlier` finds it.
 */
export async function admitReport<T extends { replayed: boolean }>(
  gate: IntakeGate,
  sender: string,
  make: () => Promise<T>,
  earlier?: () => Promise<T | null>,
): Promise<{ ok: true; made: T } | { ok: false; retryAfterS: number }> {
  const answer = await gate.take(sender);
  if (!answer.ok) {
    const made = earlier ? await earlier() : null;
    return made ? { ok: true, made } : answer;
  }
  let made: T;
  try {
    made = await make();
  } catch (err) {
    await gate.giveBack(sender);
    throw err;
  }
  if (made.replayed) await gate.giveBack(sender);
  return { ok: true, made };
}

/** The same gate, telling `onRefused` of each report it refuses. */
export function observedGate(gate: IntakeGate, onRefused: (sender: string) => void): IntakeGate {
  return {
    limit: gate.limit,
    async take(sender) {
      const answer = await gate.take(sender);
      if (!answer.ok) onRefused(sender);
      return answer;
    },
    giveBack: (sender) => gate.giveBack(sender),
    close: () => gate.close(),
  };
}

/** The Telegram bot's senders are its chats (`telegram:<chat id>`); every other sender is a network address of the web form or the API. */
export const telegramSender = (chatId: string) => `telegram:${chatId}`;

export function channelOfSender(sender: string): 'telegram' | 'web' {
  return sender.startsWith('telegram:') ? 'telegram' : 'web';
}
